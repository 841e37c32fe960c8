// SPDX-License-Identifier: GPL-2.0
/*
 * spanmon's renderings of a synthetic snapshot: Prometheus text (cumulative
 * buckets in seconds, +Inf == _count, _sum, escaped labels, merged label
 * sets), JSON, the 80-column terminal view, quantile estimates.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "span/hist.h"
#include "span/util.h"
#include "format.h"

static struct spanmon_vm vms[3];
static struct spanmon_series series[4];
static struct spanmon_opcount ops[4];

/*
 * Two "qemu" VMs (tgid 200 seen first), one with a hostile comm, and one
 * tgid (400) the vms map had no room for, with two exit series of the same
 * labels as far as the output goes.
 */
static void make_snapshot(struct spanmon_snapshot *s)
{
	memset(vms, 0, sizeof(vms));
	memset(series, 0, sizeof(series));
	vms[0].tgid = 100;
	strcpy(vms[0].vm.comm, "qemu");
	vms[0].vm.first_ns = 5;
	vms[1].tgid = 200;
	strcpy(vms[1].vm.comm, "qemu");
	vms[1].vm.first_ns = 3;
	vms[2].tgid = 300;
	strcpy(vms[2].vm.comm, "we\"ird\\\n");
	vms[2].vm.first_ns = 1;

	/* qemu (tgid 100), vCPU 1, SVM IOIO: 2 x 700 ns, 1 x 3 us, 1 overflow. */
	series[0].key = (struct span_hist_key){ SPAN_KIND_EXIT, 100, 1, 0x7b, SPAN_ISA_SVM, 0 };
	series[0].hist.slots[span_hist_slot(700)] = 2;
	series[0].hist.slots[span_hist_slot(3000)] = 1;
	series[0].hist.slots[SPAN_HIST_SLOTS - 1] = 1;
	series[0].hist.sum_ns = 3000000000ull;
	/* Nested page faults of the odd VM. */
	series[1].key = (struct span_hist_key){ SPAN_KIND_PF, 300, 0, 0, 0, 1 };
	series[1].hist.slots[span_hist_slot(5000)] = 4;
	series[1].hist.sum_ns = 20000;
	/* tgid 400, unnamed: two series that both read vm="unknown". */
	series[2].key = (struct span_hist_key){ SPAN_KIND_NESTED, 400, 0, 0, 0, 0 };
	series[2].hist.slots[span_hist_slot(20000)] = 1;
	series[2].hist.sum_ns = 20000;
	series[3].key = (struct span_hist_key){ SPAN_KIND_NESTED, 401, 0, 0, 0, 0 };
	series[3].hist.slots[span_hist_slot(20000)] = 2;
	series[3].hist.sum_ns = 40000;

	/* Span events: qemu-1's zaps and denied view faults, two unnamed VMs'. */
	memset(ops, 0, sizeof(ops));
	ops[0].key = (struct span_op_key){ 100, SPAN_OP_SHADOW_SYNC, SPAN_REASON_ZAP };
	ops[0].c = (struct span_op_count){ .events = 3, .npages = 1536 };
	ops[1].key = (struct span_op_key){ 100, SPAN_OP_VIEW_FAULT, SPAN_REASON_DENIED };
	ops[1].c = (struct span_op_count){ .events = 5, .npages = 5, .abandoned = 1 };
	ops[2].key = (struct span_op_key){ 400, SPAN_OP_DETACH, SPAN_REASON_RELEASE };
	ops[2].c = (struct span_op_count){ .events = 1, .npages = 8, .unstarted = 1 };
	ops[3].key = (struct span_op_key){ 401, SPAN_OP_DETACH, SPAN_REASON_RELEASE };
	ops[3].c = (struct span_op_count){ .events = 2, .npages = 16, .unstarted = 2 };

	memset(s, 0, sizeof(*s));
	s->ops = ops;
	s->nr_ops = 4;
	s->vms = vms;
	s->nr_vms = 3;
	s->series = series;
	s->nr_series = 4;
	s->drops[SPAN_DROP_HISTS] = 7;
	s->time_ns = 1700000000ull * 1000000000ull;
	spanmon_label_vms(s);
}

static char *render(int (*fn)(FILE *, const struct spanmon_snapshot *, const char *),
		    const struct spanmon_snapshot *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (fn(f, s, "1.2\"x")) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

static int json_fn(FILE *f, const struct spanmon_snapshot *s, const char *v)
{
	(void)v;
	return spanmon_format_json(f, s);
}

static int top_fn(FILE *f, const struct spanmon_snapshot *s, const char *v)
{
	struct spanmon_top_opts o = { .per_vcpu = true, .limit = 0 };

	(void)v;
	return spanmon_format_top(f, s, &o);
}

/* The value of the line that starts with @prefix, or -1. */
static double value_of(const char *text, const char *prefix)
{
	const char *p = text;
	size_t n = strlen(prefix);

	while (p && *p) {
		if (!strncmp(p, prefix, n) && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

static int count_lines_with(const char *text, const char *needle)
{
	int n = 0;
	const char *p = text;

	while ((p = strstr(p, needle))) {
		n++;
		p += strlen(needle);
	}
	return n;
}

TEST(vm_labels_are_comm_and_index_never_pid)
{
	struct spanmon_snapshot s;

	make_snapshot(&s);
	EXPECT_STREQ(spanmon_vm_label(&s, 200), "qemu-0");	/* seen first */
	EXPECT_STREQ(spanmon_vm_label(&s, 100), "qemu-1");
	EXPECT_STREQ(spanmon_vm_label(&s, 300), "we\"ird\\\n-0");
	EXPECT_STREQ(spanmon_vm_label(&s, 400), "unknown");
}

TEST(prometheus_buckets_are_cumulative_seconds)
{
	struct spanmon_snapshot s;
	char *t;
	const char *base = "span_kvm_exit_handling_seconds";
	char name[256];
	double prev = 0, v, count;
	unsigned int i;

	make_snapshot(&s);
	t = render(spanmon_format_prometheus, &s);
	ASSERT_TRUE(t != NULL);
	EXPECT_TRUE(strstr(t, "# TYPE span_kvm_exit_handling_seconds histogram\n") != NULL);
	/* 700 ns is in [672, 704) (2^9 split in 16): le 7.04e-07 s holds both. */
	EXPECT_EQ(value_of(t, "span_kvm_exit_handling_seconds_bucket{vm=\"qemu-1\",vcpu=\"1\","
			   "reason=\"ioio\",le=\"6.72e-07\"}"), 0);
	EXPECT_EQ(value_of(t, "span_kvm_exit_handling_seconds_bucket{vm=\"qemu-1\",vcpu=\"1\","
			   "reason=\"ioio\",le=\"7.04e-07\"}"), 2);
	/* 3000 ns in [2944, 3072). */
	EXPECT_EQ(value_of(t, "span_kvm_exit_handling_seconds_bucket{vm=\"qemu-1\",vcpu=\"1\","
			   "reason=\"ioio\",le=\"2.944e-06\"}"), 2);
	EXPECT_EQ(value_of(t, "span_kvm_exit_handling_seconds_bucket{vm=\"qemu-1\",vcpu=\"1\","
			   "reason=\"ioio\",le=\"3.072e-06\"}"), 3);
	/* The overflow slot is only in +Inf. */
	EXPECT_EQ(value_of(t, "span_kvm_exit_handling_seconds_bucket{vm=\"qemu-1\",vcpu=\"1\","
			   "reason=\"ioio\",le=\"4.294967296\"}"), 3);
	count = value_of(t, "span_kvm_exit_handling_seconds_count{vm=\"qemu-1\",vcpu=\"1\","
			 "reason=\"ioio\"}");
	EXPECT_EQ(count, 4);
	EXPECT_EQ(value_of(t, "span_kvm_exit_handling_seconds_bucket{vm=\"qemu-1\",vcpu=\"1\","
			   "reason=\"ioio\",le=\"+Inf\"}"), count);
	EXPECT_TRUE(fabs(value_of(t, "span_kvm_exit_handling_seconds_sum{vm=\"qemu-1\","
				  "vcpu=\"1\",reason=\"ioio\"}") - 3.0) < 1e-9);
	/* Every bucket, in order, never decreasing; 464 finite + +Inf. */
	for (i = 0; i < SPAN_HIST_SLOTS - 1; i++) {
		snprintf(name, sizeof(name), "%s_bucket{vm=\"qemu-1\",vcpu=\"1\",reason=\"ioio\","
			 "le=\"%.10g\"}", base, span_hist_slot_le_seconds(i));
		v = value_of(t, name);
		EXPECT_TRUE(v >= prev);
		prev = v;
	}
	EXPECT_EQ(count_lines_with(t, "span_kvm_exit_handling_seconds_bucket{"), SPAN_HIST_SLOTS);
	free(t);
}

TEST(prometheus_labels_are_escaped_and_merged)
{
	struct spanmon_snapshot s;
	char *t;

	make_snapshot(&s);
	t = render(spanmon_format_prometheus, &s);
	ASSERT_TRUE(t != NULL);
	/* comm we"ird\<newline> -> we\"ird\\\n */
	EXPECT_EQ(value_of(t, "span_kvm_page_fault_service_seconds_count"
			   "{vm=\"we\\\"ird\\\\\\n-0\",nested=\"true\"}"), 4);
	/* tgids 400 and 401 both read "unknown": one series, summed. */
	EXPECT_EQ(count_lines_with(t, "span_kvm_nested_reflect_seconds_count{"), 1);
	EXPECT_EQ(value_of(t, "span_kvm_nested_reflect_seconds_count{vm=\"unknown\"}"), 3);
	EXPECT_TRUE(fabs(value_of(t, "span_kvm_nested_reflect_seconds_sum{vm=\"unknown\"}") -
			 60e-6) < 1e-12);
	EXPECT_EQ(value_of(t, "span_events_dropped_total{map=\"hists\"}"), 7);
	EXPECT_EQ(value_of(t, "span_events_dropped_total{map=\"inflight\"}"), 0);
	EXPECT_TRUE(strstr(t, "# TYPE span_events_dropped_total counter\n") != NULL);
	EXPECT_EQ(value_of(t, "span_build_info{version=\"1.2\\\"x\"}"), 1);
	/* Every histogram has its TYPE, even when empty (span ops here). */
	EXPECT_TRUE(strstr(t, "# TYPE span_op_seconds histogram\n") != NULL);
	/* No pid anywhere in the labels. */
	EXPECT_TRUE(strstr(t, "pid") == NULL);
	EXPECT_TRUE(strstr(t, "=\"100\"") == NULL && strstr(t, "=\"200\"") == NULL);
	free(t);
}

TEST(prometheus_span_event_counters)
{
	struct spanmon_snapshot s;
	char *t;

	make_snapshot(&s);
	t = render(spanmon_format_prometheus, &s);
	ASSERT_TRUE(t != NULL);
	EXPECT_TRUE(strstr(t, "# TYPE span_op_events_total counter\n") != NULL);
	EXPECT_TRUE(strstr(t, "# TYPE span_op_pages_total counter\n") != NULL);
	EXPECT_TRUE(strstr(t, "# TYPE span_op_untimed_total counter\n") != NULL);
	EXPECT_EQ(value_of(t, "span_op_events_total{vm=\"qemu-1\",op=\"shadow_sync\","
			   "reason=\"zap\"}"), 3);
	EXPECT_EQ(value_of(t, "span_op_pages_total{vm=\"qemu-1\",op=\"shadow_sync\","
			   "reason=\"zap\"}"), 1536);
	EXPECT_EQ(value_of(t, "span_op_events_total{vm=\"qemu-1\",op=\"view_fault\","
			   "reason=\"denied\"}"), 5);
	EXPECT_EQ(value_of(t, "span_op_untimed_total{vm=\"qemu-1\",op=\"view_fault\","
			   "why=\"abandoned\"}"), 1);
	EXPECT_EQ(value_of(t, "span_op_untimed_total{vm=\"qemu-1\",op=\"view_fault\","
			   "why=\"no_start\"}"), 0);
	/* Two unnamed VMs: one label set, summed. */
	EXPECT_EQ(count_lines_with(t, "span_op_events_total{vm=\"unknown\""), 1);
	EXPECT_EQ(value_of(t, "span_op_events_total{vm=\"unknown\",op=\"detach\","
			   "reason=\"release\"}"), 3);
	EXPECT_EQ(value_of(t, "span_op_pages_total{vm=\"unknown\",op=\"detach\","
			   "reason=\"release\"}"), 24);
	EXPECT_EQ(value_of(t, "span_op_untimed_total{vm=\"unknown\",op=\"detach\","
			   "why=\"no_start\"}"), 3);
	free(t);
}

TEST(span_reason_names_are_bounded)
{
	EXPECT_STREQ(spanmon_span_reason_name(SPAN_REASON_DENIED), "denied");
	EXPECT_STREQ(spanmon_span_reason_name(SPAN_REASON_RESTRICT), "restrict");
	EXPECT_STREQ(spanmon_span_reason_name(SPAN_REASON_UNKNOWN), "unknown");
	EXPECT_STREQ(spanmon_span_reason_name(1000), "unknown");
	EXPECT_STREQ(spanmon_op_name(SPAN_OP_SET_ACCESS), "set_access");
	EXPECT_STREQ(spanmon_op_name(SPAN_OP_NR), "unknown");
}

TEST(json_snapshot)
{
	struct spanmon_snapshot s;
	char *t;

	make_snapshot(&s);
	t = render(json_fn, &s);
	ASSERT_TRUE(t != NULL);
	EXPECT_TRUE(strstr(t, "{\"vm\":\"qemu-0\",\"comm\":\"qemu\",\"pid\":200}") != NULL);
	EXPECT_TRUE(strstr(t, "{\"kind\":\"exit\",\"vm\":\"qemu-1\",\"vcpu\":1,\"reason\":\"ioio\","
			   "\"count\":4,\"sum_ns\":3000000000,\"p50_ns\":704,") != NULL);
	/* The nonzero slots as [low, high, count]; the overflow's high is -1. */
	EXPECT_TRUE(strstr(t, "\"buckets\":[[672,704,2],[2944,3072,1],[4294967296,-1,1]]}") != NULL);
	EXPECT_TRUE(strstr(t, "\"vm\":\"we\\\"ird\\\\\\u000a-0\",\"nested\":true,\"count\":4") != NULL);
	EXPECT_TRUE(strstr(t, "\"span_ops\":[{\"vm\":\"qemu-1\",\"op\":\"shadow_sync\","
			   "\"reason\":\"zap\",\"events\":3,\"pages\":1536,\"abandoned\":0,"
			   "\"no_start\":0},") != NULL);
	EXPECT_TRUE(strstr(t, "{\"vm\":\"unknown\",\"op\":\"detach\",\"reason\":\"release\","
			   "\"events\":3,\"pages\":24,\"abandoned\":0,\"no_start\":3}]") != NULL);
	EXPECT_TRUE(strstr(t, "\"dropped\":{\"hists\":7,\"vms\":0,\"inflight\":0,") != NULL);
	/* One line, ending in a newline. */
	EXPECT_EQ(count_lines_with(t, "\n"), 1);
	EXPECT_TRUE(t[strlen(t) - 1] == '\n');
	free(t);
}

TEST(top_fits_80_columns)
{
	struct spanmon_snapshot s;
	char *t, *line, *save = NULL;
	int lines = 0;

	make_snapshot(&s);
	t = render(top_fn, &s);
	ASSERT_TRUE(t != NULL);
	EXPECT_TRUE(strstr(t, "reason=ioio") != NULL);
	EXPECT_TRUE(strstr(t, "p50 704ns") != NULL);
	EXPECT_TRUE(strstr(t, "4294967296 -> inf") != NULL);
	EXPECT_TRUE(strstr(t, "  qemu-1                   view_fault  denied            5") != NULL);
	/* Only the maps that dropped something are named. */
	EXPECT_TRUE(strstr(t, "dropped 7 (hists 7)\n") != NULL);
	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		EXPECT_LE(strlen(line), 79);
		lines++;
	}
	EXPECT_GE(lines, 10);
	free(t);
}

TEST(quantiles_interpolate_inside_slots)
{
	__u64 slots[SPAN_HIST_SLOTS] = { 0 };

	EXPECT_TRUE(span_hist_quantile_ns(slots, 0.5) == 0);
	slots[span_hist_slot(1024)] = 10;	/* [1024, 1088) */
	EXPECT_TRUE(span_hist_quantile_ns(slots, 0.5) == 1056);
	EXPECT_TRUE(span_hist_quantile_ns(slots, 1.0) == 1088);
	slots[span_hist_slot(4096)] = 10;	/* [4096, 4352) */
	EXPECT_TRUE(span_hist_quantile_ns(slots, 0.5) == 1088);
	EXPECT_TRUE(span_hist_quantile_ns(slots, 0.9) == 4096 + 256 * 0.8);
	/* The overflow slot gives its lower bound. */
	slots[SPAN_HIST_SLOTS - 1] = 1000;
	EXPECT_TRUE(span_hist_quantile_ns(slots, 0.99) == 4294967296.0);
}

/* Every slot's bounds: contiguous, at most 1/16 of the low bound wide. */
TEST(slots_are_log_linear)
{
	unsigned int i;

	EXPECT_EQ(SPAN_HIST_SLOTS, 465);
	EXPECT_EQ(span_hist_slot_low_ns(0), 0);
	for (i = 0; i < SPAN_HIST_SLOTS - 1; i++) {
		uint64_t lo = span_hist_slot_low_ns(i), hi = span_hist_slot_high_ns(i);

		EXPECT_TRUE(hi > lo);
		EXPECT_TRUE(hi - lo == 1 || (hi - lo) * 16 <= lo);
		EXPECT_EQ(span_hist_slot_low_ns(i + 1), hi);
		EXPECT_EQ(span_hist_slot(lo), i);
		EXPECT_EQ(span_hist_slot(hi - 1), i);
	}
	EXPECT_EQ(span_hist_slot_low_ns(SPAN_HIST_SLOTS - 1), 1ull << 32);
	EXPECT_EQ(span_hist_slot(UINT64_MAX), SPAN_HIST_SLOTS - 1);
	EXPECT_EQ(span_hist_slot(1ull << 32), SPAN_HIST_SLOTS - 1);
	EXPECT_EQ(span_hist_slot((1ull << 32) - 1), SPAN_HIST_SLOTS - 2);
	EXPECT_TRUE(span_hist_slot_le_seconds(0) == 1e-9);
	EXPECT_TRUE(span_hist_slot_le_seconds(span_hist_slot(1000)) == 1.024e-6);
	EXPECT_TRUE(span_hist_slot_le_seconds(SPAN_HIST_SLOTS - 2) == 4.294967296);
}

/* xorshift64*: the same samples on every run. */
static uint64_t rnd_state = 88172645463325252ull;

static double rnd_unit(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return (double)((rnd_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

enum dist { UNIFORM, EXPONENTIAL, LOGNORMAL, BIMODAL, CONSTANT, NR_DISTS };

static uint64_t sample(enum dist d)
{
	double u = rnd_unit(), v = rnd_unit();

	switch (d) {
	case UNIFORM:		/* 1..100 us */
		return 1000 + (uint64_t)(u * 99000);
	case EXPONENTIAL:	/* mean 5 us */
		return 1 + (uint64_t)(-5000 * log(1 - u));
	case LOGNORMAL:		/* median 2 us, sigma 1.5: ns to ms */
		return (uint64_t)(2000 * exp(1.5 * sqrt(-2 * log(1 - u)) * cos(2 * M_PI * v)));
	case BIMODAL:		/* issue 9: 88% at 65-131 us, the rest 1-20 ms */
		return u < 0.88 ? 65000 + (uint64_t)(v * 66000) : 1000000 + (uint64_t)(v * 19e6);
	default:		/* every sample the same, off a slot bound */
		return 88000;
	}
}

/*
 * Issue 9: percentiles within the stated bound (1/16 of the true value)
 * on known distributions: the true quantile is the ceil(q * n)-th
 * smallest sample, the estimate comes from the slots alone.
 */
TEST(quantiles_are_within_a_sixteenth)
{
	static const double qs[] = { 0.01, 0.25, 0.5, 0.9, 0.99, 0.999 };
	static __u64 slots[SPAN_HIST_SLOTS];
	enum { N = 100000 };
	static uint64_t v[N];
	double worst = 0;
	unsigned int d, i, k;

	for (d = 0; d < NR_DISTS; d++) {
		memset(slots, 0, sizeof(slots));
		for (i = 0; i < N; i++) {
			v[i] = sample(d);
			slots[span_hist_slot(v[i])]++;
		}
		qsort(v, N, sizeof(v[0]), cmp_u64);
		for (k = 0; k < ARRAY_SIZE(qs); k++) {
			uint64_t exact = v[(size_t)ceil(qs[k] * N) - 1];
			double est = span_hist_quantile_ns(slots, qs[k]);
			double err = fabs(est - (double)exact) / (double)exact;

			if (err > worst)
				worst = err;
			EXPECT_TRUE(err <= 1.0 / 16);
			if (err > 1.0 / 16)
				fprintf(stderr, "dist %u q %g: exact %llu estimate %.0f\n", d, qs[k],
					(unsigned long long)exact, est);
		}
	}
	/* Not trivially exact either: the estimate is an estimate. */
	EXPECT_TRUE(worst > 0);
}

TEST(reason_names_are_bounded)
{
	char buf[32];

	EXPECT_STREQ(spanmon_reason_name(SPAN_ISA_SVM, 0x7b, buf, sizeof(buf)), "ioio");
	EXPECT_STREQ(spanmon_reason_name(SPAN_ISA_SVM, 0x400, buf, sizeof(buf)), "npf");
	EXPECT_STREQ(spanmon_reason_name(SPAN_ISA_SVM, 0x4e, buf, sizeof(buf)), "excp14");
	EXPECT_STREQ(spanmon_reason_name(SPAN_ISA_VMX, 48, buf, sizeof(buf)), "ept_violation");
	EXPECT_STREQ(spanmon_reason_name(SPAN_ISA_VMX, 99, buf, sizeof(buf)), "vmx_99");
	EXPECT_STREQ(spanmon_reason_name(SPAN_ISA_UNKNOWN, 0, buf, sizeof(buf)), "unknown");
}

static char *hist_text(const __u64 *slots, unsigned int n)
{
	char *buf = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&buf, &sz);

	if (!f)
		return NULL;
	span_print_log2_hist(f, slots, n, "nsecs");
	fclose(f);
	return buf;
}

TEST(log2_hist_prints_only_the_nonzero_range)
{
	__u64 slots[SPAN_HIST_LOG2_SLOTS] = { 0 };
	char *t, *line;
	int lines = 0;

	slots[15] = 3;	/* 32768 -> 65535 */
	slots[17] = 1;	/* 131072 -> 262143 */
	t = hist_text(slots, SPAN_HIST_LOG2_SLOTS);
	ASSERT_TRUE(t != NULL);
	/* Header, then slots 15, 16 (empty, inside the range) and 17. */
	for (line = t; (line = strchr(line, '\n')); line++)
		lines++;
	EXPECT_EQ(lines, 4);
	EXPECT_TRUE(strstr(t, "0 -> 1 ") == NULL);
	EXPECT_TRUE(strstr(t, "32768 -> 65535") != NULL);
	EXPECT_TRUE(strstr(t, "65536 -> 131071     : 0 ") != NULL);
	EXPECT_TRUE(strstr(t, "131072 -> 262143") != NULL);
	EXPECT_TRUE(strstr(t, "262144") == NULL);
	free(t);

	memset(slots, 0, sizeof(slots));
	t = hist_text(slots, SPAN_HIST_LOG2_SLOTS);
	ASSERT_TRUE(t != NULL);
	EXPECT_STREQ(t, "");	/* nothing counted: nothing printed */
	free(t);
}

/* The terminal's log2 view sums the 16 slots of each power of two. */
TEST(log2_view_folds_the_slots)
{
	static __u64 slots[SPAN_HIST_SLOTS];
	__u64 log2[SPAN_HIST_LOG2_SLOTS];

	slots[span_hist_slot(0)] = 1;
	slots[span_hist_slot(1)] = 2;
	slots[span_hist_slot(1024)] = 3;
	slots[span_hist_slot(2047)] = 4;
	slots[span_hist_slot(2048)] = 5;
	slots[SPAN_HIST_SLOTS - 1] = 6;
	span_hist_fold_log2(slots, log2);
	EXPECT_EQ(log2[0], 3);
	EXPECT_EQ(log2[10], 7);
	EXPECT_EQ(log2[11], 5);
	EXPECT_EQ(log2[SPAN_HIST_LOG2_SLOTS - 1], 6);
	EXPECT_EQ(span_hist_count(log2, SPAN_HIST_LOG2_SLOTS), 21);
}

/* A copy of @s in memory of its own (the static arrays stay intact). */
static void copy_snapshot(struct spanmon_snapshot *d, const struct spanmon_snapshot *s)
{
	*d = *s;
	d->series = malloc(s->nr_series * sizeof(*s->series));
	d->ops = malloc(s->nr_ops * sizeof(*s->ops));
	d->vms = malloc(s->nr_vms * sizeof(*s->vms));
	memcpy(d->series, s->series, s->nr_series * sizeof(*s->series));
	memcpy(d->ops, s->ops, s->nr_ops * sizeof(*s->ops));
	memcpy(d->vms, s->vms, s->nr_vms * sizeof(*s->vms));
}

/*
 * A run scoped to a duration or a command shows what happened since its
 * start: the base's counts taken away, series and span events with
 * nothing left gone, drops too.
 */
TEST(scoped_views_are_differences)
{
	struct spanmon_snapshot base, now;

	make_snapshot(&base);
	copy_snapshot(&now, &base);
	/* Since then: one more 3 us IOIO exit, a new series, a zap. */
	now.series[0].hist.slots[span_hist_slot(3000)]++;
	now.series[0].hist.sum_ns += 3000;
	now.series = realloc(now.series, 5 * sizeof(*now.series));
	memset(&now.series[4], 0, sizeof(now.series[4]));
	now.series[4].key = (struct span_hist_key){ SPAN_KIND_EXIT, 200, 0, 0x78, SPAN_ISA_SVM, 0 };
	now.series[4].hist.slots[span_hist_slot(900)] = 5;
	now.series[4].hist.sum_ns = 4500;
	now.nr_series = 5;
	now.ops[0].c.events += 2;
	now.ops[0].c.npages += 1024;
	now.drops[SPAN_DROP_HISTS] = 9;
	spanmon_snapshot_sub(&now, &base);
	ASSERT_EQ(now.nr_series, 2);
	EXPECT_EQ(now.series[0].key.reason, 0x7b);
	EXPECT_EQ(span_hist_count(now.series[0].hist.slots, SPAN_HIST_SLOTS), 1);
	EXPECT_EQ(now.series[0].hist.slots[span_hist_slot(3000)], 1);
	EXPECT_EQ(now.series[0].hist.sum_ns, 3000);
	EXPECT_EQ(now.series[1].key.reason, 0x78);
	EXPECT_EQ(now.series[1].hist.sum_ns, 4500);
	ASSERT_EQ(now.nr_ops, 1);
	EXPECT_EQ(now.ops[0].c.events, 2);
	EXPECT_EQ(now.ops[0].c.npages, 1024);
	EXPECT_EQ(now.drops[SPAN_DROP_HISTS], 2);
	EXPECT_EQ(now.nr_vms, 3);
	spanmon_snapshot_free(&now);
}

/* -p and --vm: only that VM's series, span events and VM entry. */
TEST(scoped_views_filter_by_process_and_label)
{
	struct spanmon_snapshot base, s;

	make_snapshot(&base);
	spanmon_label_vms(&base);
	copy_snapshot(&s, &base);
	spanmon_snapshot_filter(&s, 100, NULL);
	ASSERT_EQ(s.nr_series, 1);
	EXPECT_EQ(s.series[0].key.tgid, 100);
	EXPECT_EQ(s.nr_ops, 2);
	ASSERT_EQ(s.nr_vms, 1);
	EXPECT_STREQ(s.vms[0].label, "qemu-1");
	spanmon_snapshot_free(&s);

	copy_snapshot(&s, &base);
	spanmon_snapshot_filter(&s, 0, "qemu-1");
	ASSERT_EQ(s.nr_series, 1);
	EXPECT_EQ(s.series[0].key.tgid, 100);
	EXPECT_EQ(s.nr_vms, 1);
	spanmon_snapshot_free(&s);

	/* The VMs the vms map had no room for are "unknown", together. */
	copy_snapshot(&s, &base);
	spanmon_snapshot_filter(&s, 0, "unknown");
	EXPECT_EQ(s.nr_series, 2);
	EXPECT_EQ(s.nr_ops, 2);
	EXPECT_EQ(s.nr_vms, 0);
	spanmon_snapshot_free(&s);

	copy_snapshot(&s, &base);
	spanmon_snapshot_filter(&s, 999, NULL);
	EXPECT_EQ(s.nr_series + s.nr_ops + s.nr_vms, 0);
	spanmon_snapshot_free(&s);
}

/*
 * Memory events: a reply-latency series (guest 7, view 2) and two
 * featurevisors' dispatcher counters and delivery histograms.
 */
static void add_mem_events(struct spanmon_snapshot *s, struct spanmon_series *ser,
			   struct spanmon_fv *fvs)
{
	memcpy(ser, s->series, s->nr_series * sizeof(*ser));
	ser[s->nr_series].key = (struct span_hist_key){ .kind = SPAN_KIND_MEM_REPLY, .tgid = 100,
							.reason = 7, .sub = 2 };
	ser[s->nr_series].hist.slots[span_hist_slot(40000)] = 3;
	ser[s->nr_series].hist.sum_ns = 120000;
	s->series = ser;
	s->nr_series++;
	memset(fvs, 0, 2 * sizeof(*fvs));
	fvs[0] = (struct spanmon_fv){ .guest = 7, .view = 2 };
	fvs[0].stats[SPAN_FV_STAT_SEEN] = 10;
	fvs[0].stats[SPAN_FV_STAT_DELIVERED] = 6;
	fvs[0].stats[SPAN_FV_STAT_FILTERED] = 1;
	fvs[0].stats[SPAN_FV_STAT_DROPPED] = 3;
	fvs[0].stats[SPAN_FV_STAT_DIRTY_SET] = 4;
	fvs[0].delivery.slots[span_hist_slot(2000)] = 5;
	fvs[0].delivery.slots[SPAN_HIST_SLOTS - 1] = 1;
	fvs[0].delivery.sum_ns = 5 * 2000 + 5000000000ull;
	fvs[1] = (struct spanmon_fv){ .guest = 7, .view = 3 };
	s->fvs = fvs;
	s->nr_fvs = 2;
}

TEST(prometheus_memory_event_metrics)
{
	static struct spanmon_series ser[5];
	struct spanmon_fv fvs[2];
	struct spanmon_snapshot s;
	char *t;

	make_snapshot(&s);
	add_mem_events(&s, ser, fvs);
	t = render(spanmon_format_prometheus, &s);
	ASSERT_TRUE(t != NULL);
	EXPECT_TRUE(strstr(t, "# TYPE span_mem_event_reply_seconds histogram\n") != NULL);
	EXPECT_EQ(value_of(t, "span_mem_event_reply_seconds_count{vm=\"qemu-1\",guest=\"7\","
			   "view=\"2\"}"), 3);
	EXPECT_EQ(value_of(t, "span_mem_event_reply_seconds_bucket{vm=\"qemu-1\",guest=\"7\","
			   "view=\"2\",le=\"+Inf\"}"), 3);
	EXPECT_EQ(value_of(t, "span_mem_events_total{guest=\"7\",view=\"2\"}"), 10);
	EXPECT_EQ(value_of(t, "span_mem_events_delivered_total{guest=\"7\",view=\"2\"}"), 6);
	EXPECT_EQ(value_of(t, "span_mem_events_filtered_total{guest=\"7\",view=\"2\"}"), 1);
	EXPECT_EQ(value_of(t, "span_mem_events_dropped_total{guest=\"7\",view=\"2\"}"), 3);
	EXPECT_EQ(value_of(t, "span_mem_dirty_pages_total{guest=\"7\",view=\"2\"}"), 4);
	EXPECT_EQ(value_of(t, "span_mem_events_total{guest=\"7\",view=\"3\"}"), 0);
	/* Cumulative: 5 below 2.1 us, the overflow only in +Inf (= _count). */
	EXPECT_EQ(value_of(t, "span_mem_event_delivery_seconds_bucket{guest=\"7\",view=\"2\","
			   "le=\"4.294967296\"}"), 5);
	EXPECT_EQ(value_of(t, "span_mem_event_delivery_seconds_bucket{guest=\"7\",view=\"2\","
			   "le=\"+Inf\"}"), 6);
	EXPECT_EQ(value_of(t, "span_mem_event_delivery_seconds_count{guest=\"7\",view=\"2\"}"), 6);
	EXPECT_EQ(count_lines_with(t, "# TYPE span_mem_events_dropped_total counter\n"), 1);
	free(t);
	t = render(json_fn, &s);
	ASSERT_TRUE(t != NULL);
	EXPECT_TRUE(strstr(t, "\"featurevisors\":[{\"guest\":7,\"view\":2,\"events\":10,"
			   "\"delivered\":6,\"filtered\":1,\"dropped\":3,\"dirty_pages\":4,"
			   "\"delivery\":{\"count\":6,") != NULL);
	EXPECT_TRUE(strstr(t, "\"kind\":\"mem_reply\",\"vm\":\"qemu-1\",\"guest\":7,\"view\":2,"
			   "\"count\":3") != NULL);
	free(t);
}

TEST(scoped_views_subtract_featurevisor_counters)
{
	static struct spanmon_series ser[5], ser0[5];
	struct spanmon_fv fvs[2], base_fvs[2];
	struct spanmon_snapshot s, base;

	make_snapshot(&s);
	add_mem_events(&s, ser, fvs);
	make_snapshot(&base);
	add_mem_events(&base, ser0, base_fvs);
	base_fvs[0].stats[SPAN_FV_STAT_DROPPED] = 1;
	base_fvs[0].delivery.slots[span_hist_slot(2000)] = 2;
	spanmon_snapshot_sub(&s, &base);
	EXPECT_EQ(fvs[0].stats[SPAN_FV_STAT_DROPPED], 2);
	EXPECT_EQ(fvs[0].stats[SPAN_FV_STAT_SEEN], 0);
	EXPECT_EQ(span_hist_count(fvs[0].delivery.slots, SPAN_HIST_SLOTS), 3);
}
