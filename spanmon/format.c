// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshot -> text.  Series are first turned into rows: the label values
 * they are shown with, merged where two series share them (a VM whose name
 * the vms map had no room for, per-VM views of per-vCPU series), so that
 * no output ever repeats a label set.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "span/hist.h"
#include "span/util.h"
#include "format.h"

struct row {
	__u32 kind;
	const char *vm;
	int vcpu;		/* -1: not broken down by vCPU */
	__u32 guest, view;	/* memory-event replies */
	char what[32];		/* reason, nested flag or op */
	struct span_hist h;
	__u64 count;
};

/* ---- names ---------------------------------------------------------------- */

static const char *const svm_names[] = {
	[0x60] = "intr", [0x61] = "nmi", [0x62] = "smi", [0x63] = "init",
	[0x64] = "vintr", [0x65] = "cr0_sel_write", [0x6e] = "rdtsc",
	[0x6f] = "rdpmc", [0x70] = "pushf", [0x71] = "popf", [0x72] = "cpuid",
	[0x73] = "rsm", [0x74] = "iret", [0x75] = "swint", [0x76] = "invd",
	[0x77] = "pause", [0x78] = "hlt", [0x79] = "invlpg", [0x7a] = "invlpga",
	[0x7b] = "ioio", [0x7c] = "msr", [0x7d] = "task_switch",
	[0x7e] = "ferr_freeze", [0x7f] = "shutdown", [0x80] = "vmrun",
	[0x81] = "vmmcall", [0x82] = "vmload", [0x83] = "vmsave", [0x84] = "stgi",
	[0x85] = "clgi", [0x86] = "skinit", [0x87] = "rdtscp", [0x88] = "icebp",
	[0x89] = "wbinvd", [0x8a] = "monitor", [0x8b] = "mwait",
	[0x8c] = "mwait_cond", [0x8d] = "xsetbv", [0x8e] = "rdpru",
	[0x8f] = "efer_write_trap",
};

static const char *const vmx_names[] = {
	[0] = "exception_nmi", [1] = "external_interrupt", [2] = "triple_fault",
	[3] = "init_signal", [7] = "interrupt_window", [8] = "nmi_window",
	[9] = "task_switch", [10] = "cpuid", [12] = "hlt", [13] = "invd",
	[14] = "invlpg", [15] = "rdpmc", [16] = "rdtsc", [18] = "vmcall",
	[19] = "vmclear", [20] = "vmlaunch", [21] = "vmptrld", [22] = "vmptrst",
	[23] = "vmread", [24] = "vmresume", [25] = "vmwrite", [26] = "vmoff",
	[27] = "vmon", [28] = "cr_access", [29] = "dr_access",
	[30] = "io_instruction", [31] = "msr_read", [32] = "msr_write",
	[33] = "invalid_state", [34] = "msr_load_fail", [36] = "mwait",
	[37] = "monitor_trap_flag", [39] = "monitor", [40] = "pause",
	[41] = "mce_during_vmentry", [43] = "tpr_below_threshold",
	[44] = "apic_access", [45] = "eoi_induced", [46] = "gdtr_idtr",
	[47] = "ldtr_tr", [48] = "ept_violation", [49] = "ept_misconfig",
	[50] = "invept", [51] = "rdtscp", [52] = "preemption_timer",
	[53] = "invvpid", [54] = "wbinvd", [55] = "xsetbv", [56] = "apic_write",
	[57] = "rdrand", [58] = "invpcid", [59] = "vmfunc", [60] = "encls",
	[61] = "rdseed", [62] = "pml_full", [63] = "xsaves", [64] = "xrstors",
	[67] = "umwait", [68] = "tpause", [74] = "bus_lock", [75] = "notify",
};

const char *spanmon_reason_name(__u32 isa, __u32 reason, char *buf, size_t len)
{
	if (isa == SPAN_ISA_SVM) {
		if (reason < ARRAY_SIZE(svm_names) && svm_names[reason])
			return svm_names[reason];
		if (reason < 0x10)
			snprintf(buf, len, "read_cr%u", reason);
		else if (reason < 0x20)
			snprintf(buf, len, "write_cr%u", reason - 0x10);
		else if (reason < 0x30)
			snprintf(buf, len, "read_dr%u", reason - 0x20);
		else if (reason < 0x40)
			snprintf(buf, len, "write_dr%u", reason - 0x30);
		else if (reason < 0x60)
			snprintf(buf, len, "excp%u", reason - 0x40);
		else if (reason == 0x400)
			return "npf";
		else if (reason == 0x401)
			return "avic_incomplete_ipi";
		else if (reason == 0x402)
			return "avic_unaccelerated_access";
		else if (reason == 0x403)
			return "vmgexit";
		else if (reason == 0xffffffff)
			return "err";
		else
			snprintf(buf, len, "svm_0x%x", reason);
		return buf;
	}
	if (isa == SPAN_ISA_VMX) {
		if (reason < ARRAY_SIZE(vmx_names) && vmx_names[reason])
			return vmx_names[reason];
		snprintf(buf, len, "vmx_%u", reason);
		return buf;
	}
	return "unknown";
}

const char *spanmon_op_name(__u32 op)
{
	static const char *const names[SPAN_OP_NR] = {
		[SPAN_OP_ATTACH] = "attach",
		[SPAN_OP_DETACH] = "detach",
		[SPAN_OP_SHADOW_SYNC] = "shadow_sync",
		[SPAN_OP_VIEW_FAULT] = "view_fault",
		[SPAN_OP_SET_ACCESS] = "set_access",
	};

	return op < SPAN_OP_NR ? names[op] : "unknown";
}

const char *spanmon_span_reason_name(__u32 reason)
{
	static const char *const names[SPAN_REASON_NR] = {
		[SPAN_REASON_IOCTL] = "ioctl",
		[SPAN_REASON_RELEASE] = "release",
		[SPAN_REASON_FAULT] = "fault",
		[SPAN_REASON_ZAP] = "zap",
		[SPAN_REASON_REMAP] = "remap",
		[SPAN_REASON_READONLY] = "readonly",
		[SPAN_REASON_DENIED] = "denied",
		[SPAN_REASON_RESTRICT] = "restrict",
		[SPAN_REASON_UNKNOWN] = "unknown",
	};

	return reason < SPAN_REASON_NR ? names[reason] : "unknown";
}

const char *spanmon_drop_name(__u32 drop)
{
	static const char *const names[SPAN_DROP_NR] = {
		[SPAN_DROP_HISTS] = "hists",
		[SPAN_DROP_VMS] = "vms",
		[SPAN_DROP_INFLIGHT] = "inflight",
		[SPAN_DROP_OPS] = "op_counts",
		[SPAN_DROP_EVICTED] = "inflight_evicted",
	};

	return drop < SPAN_DROP_NR ? names[drop] : "unknown";
}

const char *spanmon_kind_name(__u32 kind)
{
	switch (kind) {
	case SPAN_KIND_EXIT:
		return "exit";
	case SPAN_KIND_PF:
		return "page_fault";
	case SPAN_KIND_NESTED:
		return "nested_reflect";
	case SPAN_KIND_OP:
		return "span_op";
	case SPAN_KIND_MEM_REPLY:
		return "mem_reply";
	}
	return "unknown";
}

/* ---- VM labels ---------------------------------------------------------- */

static int cmp_vm(const void *a, const void *b)
{
	const struct spanmon_vm *x = a, *y = b;
	int c = strncmp(x->vm.comm, y->vm.comm, SPANMON_COMM_LEN);

	if (c)
		return c;
	if (x->vm.first_ns != y->vm.first_ns)
		return x->vm.first_ns < y->vm.first_ns ? -1 : 1;
	return x->tgid < y->tgid ? -1 : x->tgid > y->tgid;
}

void spanmon_label_vms(struct spanmon_snapshot *s)
{
	size_t i, idx = 0;

	if (s->nr_vms)
		qsort(s->vms, s->nr_vms, sizeof(*s->vms), cmp_vm);
	for (i = 0; i < s->nr_vms; i++) {
		struct spanmon_vm *v = &s->vms[i];
		char comm[SPANMON_COMM_LEN + 1];

		if (i && strncmp(v->vm.comm, s->vms[i - 1].vm.comm, SPANMON_COMM_LEN))
			idx = 0;
		memcpy(comm, v->vm.comm, SPANMON_COMM_LEN);
		comm[SPANMON_COMM_LEN] = '\0';
		snprintf(v->label, sizeof(v->label), "%s-%zu", comm[0] ? comm : "vm", idx++);
	}
}

const char *spanmon_vm_label(const struct spanmon_snapshot *s, __u32 tgid)
{
	size_t i;

	for (i = 0; i < s->nr_vms; i++)
		if (s->vms[i].tgid == tgid)
			return s->vms[i].label;
	return "unknown";
}

void spanmon_snapshot_free(struct spanmon_snapshot *s)
{
	free(s->series);
	free(s->vms);
	free(s->ops);
	free(s->fvs);
	memset(s, 0, sizeof(*s));
}

/* ---- scoping: differences and filters ------------------------------------ */

static int cmp_series_key(const void *a, const void *b)
{
	return memcmp(&((const struct spanmon_series *)a)->key,
		      &((const struct spanmon_series *)b)->key, sizeof(struct span_hist_key));
}

static int cmp_op_key(const void *a, const void *b)
{
	return memcmp(&((const struct spanmon_opcount *)a)->key,
		      &((const struct spanmon_opcount *)b)->key, sizeof(struct span_op_key));
}

static __u64 sub_sat(__u64 a, __u64 b)
{
	return a > b ? a - b : 0;
}

void spanmon_snapshot_sub(struct spanmon_snapshot *s, const struct spanmon_snapshot *base)
{
	struct spanmon_series *bs = NULL;
	struct spanmon_opcount *bo = NULL;
	size_t i, n = 0;
	unsigned int j;

	/* Sorted copies of the base, searched by key (bsearch). */
	if (base->nr_series && (bs = malloc(base->nr_series * sizeof(*bs)))) {
		memcpy(bs, base->series, base->nr_series * sizeof(*bs));
		qsort(bs, base->nr_series, sizeof(*bs), cmp_series_key);
	}
	if (base->nr_ops && (bo = malloc(base->nr_ops * sizeof(*bo)))) {
		memcpy(bo, base->ops, base->nr_ops * sizeof(*bo));
		qsort(bo, base->nr_ops, sizeof(*bo), cmp_op_key);
	}
	for (i = 0; i < s->nr_series; i++) {
		struct spanmon_series *x = &s->series[i];
		const struct spanmon_series *b = bs ? bsearch(x, bs, base->nr_series, sizeof(*bs),
							      cmp_series_key) : NULL;

		if (b) {
			for (j = 0; j < SPAN_HIST_SLOTS; j++)
				x->hist.slots[j] = sub_sat(x->hist.slots[j], b->hist.slots[j]);
			x->hist.sum_ns = sub_sat(x->hist.sum_ns, b->hist.sum_ns);
		}
		if (span_hist_count(x->hist.slots, SPAN_HIST_SLOTS))
			s->series[n++] = *x;
	}
	s->nr_series = n;
	/* Featurevisors: by (guest, view); few, so a plain search. */
	for (i = 0; i < s->nr_fvs; i++) {
		struct spanmon_fv *x = &s->fvs[i];
		size_t k;

		for (k = 0; k < base->nr_fvs; k++) {
			const struct spanmon_fv *b = &base->fvs[k];

			if (b->guest != x->guest || b->view != x->view)
				continue;
			for (j = 0; j < SPAN_FV_STAT_NR; j++)
				x->stats[j] = sub_sat(x->stats[j], b->stats[j]);
			for (j = 0; j < SPAN_HIST_SLOTS; j++)
				x->delivery.slots[j] = sub_sat(x->delivery.slots[j],
							       b->delivery.slots[j]);
			x->delivery.sum_ns = sub_sat(x->delivery.sum_ns, b->delivery.sum_ns);
			break;
		}
	}
	for (i = 0, n = 0; i < s->nr_ops; i++) {
		struct spanmon_opcount *x = &s->ops[i];
		const struct spanmon_opcount *b = bo ? bsearch(x, bo, base->nr_ops, sizeof(*bo),
							       cmp_op_key) : NULL;

		if (b) {
			x->c.events = sub_sat(x->c.events, b->c.events);
			x->c.npages = sub_sat(x->c.npages, b->c.npages);
			x->c.abandoned = sub_sat(x->c.abandoned, b->c.abandoned);
			x->c.unstarted = sub_sat(x->c.unstarted, b->c.unstarted);
		}
		if (x->c.events || x->c.abandoned)
			s->ops[n++] = *x;
	}
	s->nr_ops = n;
	for (j = 0; j < SPAN_DROP_NR; j++)
		s->drops[j] = sub_sat(s->drops[j], base->drops[j]);
	free(bs);
	free(bo);
}

static bool in_scope(const struct spanmon_snapshot *s, __u32 tgid, __u32 want,
		     const char *vm)
{
	return (!want || tgid == want) && (!vm || !strcmp(spanmon_vm_label(s, tgid), vm));
}

void spanmon_snapshot_filter(struct spanmon_snapshot *s, __u32 tgid, const char *vm)
{
	size_t i, n;

	for (i = 0, n = 0; i < s->nr_series; i++)
		if (in_scope(s, s->series[i].key.tgid, tgid, vm))
			s->series[n++] = s->series[i];
	s->nr_series = n;
	for (i = 0, n = 0; i < s->nr_ops; i++)
		if (in_scope(s, s->ops[i].key.tgid, tgid, vm))
			s->ops[n++] = s->ops[i];
	s->nr_ops = n;
	/* Last, one at a time: in_scope() looks labels up in this list. */
	for (i = 0; i < s->nr_vms;) {
		if (in_scope(s, s->vms[i].tgid, tgid, vm)) {
			i++;
			continue;
		}
		memmove(&s->vms[i], &s->vms[i + 1], (s->nr_vms - i - 1) * sizeof(s->vms[0]));
		s->nr_vms--;
	}
}

/* ---- rows ------------------------------------------------------------------ */

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	c = strcmp(x->vm, y->vm);
	if (c)
		return c;
	if (x->vcpu != y->vcpu)
		return x->vcpu < y->vcpu ? -1 : 1;
	if (x->guest != y->guest)
		return x->guest < y->guest ? -1 : 1;
	if (x->view != y->view)
		return x->view < y->view ? -1 : 1;
	return strcmp(x->what, y->what);
}

static int cmp_row_busiest(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return cmp_row(a, b);
}

/*
 * The rows of @s, sorted by labels, equal label sets merged.  Returns the
 * number of rows (0 with *out NULL when none), -1 when out of memory.
 */
static long make_rows(const struct spanmon_snapshot *s, bool per_vcpu, struct row **out)
{
	struct row *rows;
	size_t i, j, n = 0;

	*out = NULL;
	if (!s->nr_series)
		return 0;
	rows = calloc(s->nr_series, sizeof(*rows));
	if (!rows)
		return -1;
	for (i = 0; i < s->nr_series; i++) {
		const struct span_hist_key *k = &s->series[i].key;
		struct row *r = &rows[i];

		r->kind = k->kind;
		r->vm = spanmon_vm_label(s, k->tgid);
		r->vcpu = (k->kind == SPAN_KIND_EXIT && per_vcpu) ? (int)k->vcpu : -1;
		switch (k->kind) {
		case SPAN_KIND_EXIT: {
			char buf[32];

			snprintf(r->what, sizeof(r->what), "%s",
				 spanmon_reason_name(k->isa, k->reason, buf, sizeof(buf)));
			break;
		}
		case SPAN_KIND_PF:
			snprintf(r->what, sizeof(r->what), "%s", k->sub ? "true" : "false");
			break;
		case SPAN_KIND_OP:
			snprintf(r->what, sizeof(r->what), "%s", spanmon_op_name(k->sub));
			break;
		case SPAN_KIND_MEM_REPLY:
			r->guest = k->reason;
			r->view = k->sub;
			break;
		default:
			break;
		}
		r->h = s->series[i].hist;
	}
	qsort(rows, s->nr_series, sizeof(*rows), cmp_row);
	for (i = 0; i < s->nr_series; i++) {
		if (n && !cmp_row(&rows[n - 1], &rows[i])) {
			for (j = 0; j < SPAN_HIST_SLOTS; j++)
				rows[n - 1].h.slots[j] += rows[i].h.slots[j];
			rows[n - 1].h.sum_ns += rows[i].h.sum_ns;
		} else {
			rows[n++] = rows[i];
		}
	}
	for (i = 0; i < n; i++)
		rows[i].count = span_hist_count(rows[i].h.slots, SPAN_HIST_SLOTS);
	*out = rows;
	return n;
}

/* Span event counts, as rows: merged by (VM label, op, reason) as above. */
struct oprow {
	const char *vm;
	__u32 op;
	__u32 reason;
	struct span_op_count c;
};

static int cmp_oprow(const void *a, const void *b)
{
	const struct oprow *x = a, *y = b;
	int c = strcmp(x->vm, y->vm);

	if (c)
		return c;
	if (x->op != y->op)
		return x->op < y->op ? -1 : 1;
	return x->reason < y->reason ? -1 : x->reason > y->reason;
}

static int cmp_oprow_busiest(const void *a, const void *b)
{
	const struct oprow *x = a, *y = b;

	if (x->c.events != y->c.events)
		return x->c.events > y->c.events ? -1 : 1;
	return cmp_oprow(a, b);
}

static long make_oprows(const struct spanmon_snapshot *s, struct oprow **out)
{
	struct oprow *rows;
	size_t i, n = 0;

	*out = NULL;
	if (!s->nr_ops)
		return 0;
	rows = calloc(s->nr_ops, sizeof(*rows));
	if (!rows)
		return -1;
	for (i = 0; i < s->nr_ops; i++) {
		rows[i].vm = spanmon_vm_label(s, s->ops[i].key.tgid);
		rows[i].op = s->ops[i].key.op < SPAN_OP_NR ? s->ops[i].key.op : SPAN_OP_NR;
		rows[i].reason = s->ops[i].key.reason < SPAN_REASON_NR ? s->ops[i].key.reason
								      : SPAN_REASON_UNKNOWN;
		rows[i].c = s->ops[i].c;
	}
	qsort(rows, s->nr_ops, sizeof(*rows), cmp_oprow);
	for (i = 0; i < s->nr_ops; i++) {
		if (n && !cmp_oprow(&rows[n - 1], &rows[i])) {
			rows[n - 1].c.events += rows[i].c.events;
			rows[n - 1].c.npages += rows[i].c.npages;
			rows[n - 1].c.abandoned += rows[i].c.abandoned;
			rows[n - 1].c.unstarted += rows[i].c.unstarted;
		} else {
			rows[n++] = rows[i];
		}
	}
	*out = rows;
	return n;
}

/* ---- Prometheus ------------------------------------------------------------- */

void spanmon_prom_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void prom_labels(FILE *f, const struct row *r, const char *le)
{
	fputs("{vm=\"", f);
	spanmon_prom_escape(f, r->vm);
	fputc('"', f);
	switch (r->kind) {
	case SPAN_KIND_EXIT:
		if (r->vcpu >= 0)
			fprintf(f, ",vcpu=\"%d\"", r->vcpu);
		fputs(",reason=\"", f);
		spanmon_prom_escape(f, r->what);
		fputc('"', f);
		break;
	case SPAN_KIND_PF:
		fprintf(f, ",nested=\"%s\"", r->what);
		break;
	case SPAN_KIND_OP:
		fprintf(f, ",op=\"%s\"", r->what);
		break;
	case SPAN_KIND_MEM_REPLY:
		fprintf(f, ",guest=\"%u\",view=\"%u\"", r->guest, r->view);
		break;
	}
	if (le)
		fprintf(f, ",le=\"%s\"", le);
	fputc('}', f);
}

static void prom_histogram(FILE *f, const char *name, const char *help,
			   const struct row *rows, long nr, __u32 kind)
{
	long i;
	unsigned int j;

	fprintf(f, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (i = 0; i < nr; i++) {
		const struct row *r = &rows[i];
		__u64 cum = 0;
		char le[32];

		if (r->kind != kind)
			continue;
		/* The overflow slot has no bound: it is +Inf's alone. */
		for (j = 0; j < SPAN_HIST_SLOTS - 1; j++) {
			cum += r->h.slots[j];
			snprintf(le, sizeof(le), "%.10g", span_hist_slot_le_seconds(j));
			fprintf(f, "%s_bucket", name);
			prom_labels(f, r, le);
			fprintf(f, " %llu\n", (unsigned long long)cum);
		}
		fprintf(f, "%s_bucket", name);
		prom_labels(f, r, "+Inf");
		fprintf(f, " %llu\n", (unsigned long long)r->count);
		fprintf(f, "%s_sum", name);
		prom_labels(f, r, NULL);
		fprintf(f, " %.9f\n", (double)r->h.sum_ns / 1e9);
		fprintf(f, "%s_count", name);
		prom_labels(f, r, NULL);
		fprintf(f, " %llu\n", (unsigned long long)r->count);
	}
}

static void prom_op_labels(FILE *f, const struct oprow *r)
{
	fputs("{vm=\"", f);
	spanmon_prom_escape(f, r->vm);
	fprintf(f, "\",op=\"%s\"", spanmon_op_name(r->op));
}

/* span_op_{events,pages,untimed}_total; untimed sums the reasons of an op. */
static int prom_op_counts(FILE *f, const struct spanmon_snapshot *s)
{
	struct oprow *rows;
	long nr = make_oprows(s, &rows), i, j;

	if (nr < 0)
		return -1;
	fputs("# HELP span_op_events_total Span events (span:* tracepoints) by operation and "
	      "the kernel's reason, timed or not.\n"
	      "# TYPE span_op_events_total counter\n", f);
	for (i = 0; i < nr; i++) {
		fputs("span_op_events_total", f);
		prom_op_labels(f, &rows[i]);
		fprintf(f, ",reason=\"%s\"} %llu\n", spanmon_span_reason_name(rows[i].reason),
			(unsigned long long)rows[i].c.events);
	}
	fputs("# HELP span_op_pages_total Guest pages the span events concerned (npages summed).\n"
	      "# TYPE span_op_pages_total counter\n", f);
	for (i = 0; i < nr; i++) {
		fputs("span_op_pages_total", f);
		prom_op_labels(f, &rows[i]);
		fprintf(f, ",reason=\"%s\"} %llu\n", spanmon_span_reason_name(rows[i].reason),
			(unsigned long long)rows[i].c.npages);
	}
	fputs("# HELP span_op_untimed_total Span operations left out of span_op_seconds: a start "
	      "or fault-path op that never ended or whose vCPU was not known (abandoned), an end "
	      "whose start was not seen (no_start).\n"
	      "# TYPE span_op_untimed_total counter\n", f);
	for (i = 0; i < nr; i = j) {
		__u64 abandoned = 0, unstarted = 0;

		for (j = i; j < nr && !strcmp(rows[j].vm, rows[i].vm) && rows[j].op == rows[i].op;
		     j++) {
			abandoned += rows[j].c.abandoned;
			unstarted += rows[j].c.unstarted;
		}
		if (rows[i].op == SPAN_OP_SET_ACCESS)
			continue;	/* never timed */
		fputs("span_op_untimed_total", f);
		prom_op_labels(f, &rows[i]);
		fprintf(f, ",why=\"abandoned\"} %llu\n", (unsigned long long)abandoned);
		fputs("span_op_untimed_total", f);
		prom_op_labels(f, &rows[i]);
		fprintf(f, ",why=\"no_start\"} %llu\n", (unsigned long long)unstarted);
	}
	free(rows);
	return 0;
}

/*
 * Featurevisors' event delivery, from their dispatchers' pinned maps:
 * counters by (guest, view) and the delivery latency the consumers record.
 */
static void prom_fvs(FILE *f, const struct spanmon_snapshot *s)
{
	static const struct { const char *name, *help; unsigned int stat; } counters[] = {
		{ "span_mem_events_total", "Memory events of a featurevisor's view that reached "
		  "its dispatcher.", SPAN_FV_STAT_SEEN },
		{ "span_mem_events_delivered_total", "Memory events put in the featurevisor's ring.",
		  SPAN_FV_STAT_DELIVERED },
		{ "span_mem_events_filtered_total", "Memory events the featurevisor's filter "
		  "dropped.", SPAN_FV_STAT_FILTERED },
		{ "span_mem_events_dropped_total", "Memory events lost: the featurevisor's ring "
		  "was full.", SPAN_FV_STAT_DROPPED },
		{ "span_mem_dirty_pages_total", "Pages newly marked in the featurevisor's dirty "
		  "bitmap (async first-write events).", SPAN_FV_STAT_DIRTY_SET },
	};
	const char *name = "span_mem_event_delivery_seconds";
	unsigned int c, j;
	size_t i;

	for (c = 0; c < ARRAY_SIZE(counters); c++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", counters[c].name,
			counters[c].help, counters[c].name);
		for (i = 0; i < s->nr_fvs; i++)
			fprintf(f, "%s{guest=\"%u\",view=\"%u\"} %llu\n", counters[c].name,
				s->fvs[i].guest, s->fvs[i].view,
				(unsigned long long)s->fvs[i].stats[counters[c].stat]);
	}
	fprintf(f, "# HELP %s Time from the span_mem_event tracepoint to the featurevisor's "
		"consumer (recorded by the consumer).\n# TYPE %s histogram\n", name, name);
	for (i = 0; i < s->nr_fvs; i++) {
		const struct span_hist *h = &s->fvs[i].delivery;
		__u64 cum = 0, count = span_hist_count(h->slots, SPAN_HIST_SLOTS);
		char labels[64];

		snprintf(labels, sizeof(labels), "guest=\"%u\",view=\"%u\"", s->fvs[i].guest,
			 s->fvs[i].view);
		for (j = 0; j < SPAN_HIST_SLOTS - 1; j++) {
			cum += h->slots[j];
			fprintf(f, "%s_bucket{%s,le=\"%.10g\"} %llu\n", name, labels,
				span_hist_slot_le_seconds(j), (unsigned long long)cum);
		}
		fprintf(f, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels,
			(unsigned long long)count);
		fprintf(f, "%s_sum{%s} %.9f\n", name, labels, (double)h->sum_ns / 1e9);
		fprintf(f, "%s_count{%s} %llu\n", name, labels, (unsigned long long)count);
	}
}

int spanmon_format_prometheus(FILE *f, const struct spanmon_snapshot *s,
			      const char *version)
{
	struct row *rows;
	long nr = make_rows(s, true, &rows);
	unsigned int i;

	if (nr < 0)
		return -1;
	prom_histogram(f, "span_kvm_exit_handling_seconds",
		       "Time from a VM exit to the same vCPU's next VM entry, by exit reason.",
		       rows, nr, SPAN_KIND_EXIT);
	prom_histogram(f, "span_kvm_page_fault_service_seconds",
		       "Time from a guest page fault to the vCPU's next VM entry, nested (L2) or not.",
		       rows, nr, SPAN_KIND_PF);
	prom_histogram(f, "span_kvm_nested_reflect_seconds",
		       "Time from an L2 exit reflected to L1 to L1's next nested VM entry.",
		       rows, nr, SPAN_KIND_NESTED);
	prom_histogram(f, "span_op_seconds",
		       "Span operation time: attach and detach from start to end, a fault's shadow "
		       "sync and view faults to the vCPU's next VM entry.",
		       rows, nr, SPAN_KIND_OP);
	prom_histogram(f, "span_mem_event_reply_seconds",
		       "Time a vCPU waited for a view's reply to a synchronous memory event "
		       "(span:span_mem_reply's wait_ns), by guest and view.",
		       rows, nr, SPAN_KIND_MEM_REPLY);
	if (prom_op_counts(f, s)) {
		free(rows);
		return -1;
	}
	prom_fvs(f, s);
	fputs("# HELP span_events_dropped_total Events lost because a BPF map was full, by map.\n"
	      "# TYPE span_events_dropped_total counter\n", f);
	for (i = 0; i < SPAN_DROP_NR; i++)
		fprintf(f, "span_events_dropped_total{map=\"%s\"} %llu\n",
			spanmon_drop_name(i), (unsigned long long)s->drops[i]);
	fputs("# HELP span_build_info spanmon's version; always 1.\n"
	      "# TYPE span_build_info gauge\n"
	      "span_build_info{version=\"", f);
	spanmon_prom_escape(f, version);
	fputs("\"} 1\n", f);
	free(rows);
	return ferror(f) ? -1 : 0;
}

/* ---- JSON ------------------------------------------------------------------ */

int spanmon_format_json(FILE *f, const struct spanmon_snapshot *s)
{
	struct oprow *oprows;
	struct row *rows;
	long nr = make_rows(s, true, &rows), i;
	const char *sep;
	size_t v;
	unsigned int j;

	if (nr < 0)
		return -1;
	fprintf(f, "{\"time_ns\":%llu,\"vms\":[", (unsigned long long)s->time_ns);
	for (v = 0; v < s->nr_vms; v++) {
		fprintf(f, "%s{\"vm\":", v ? "," : "");
		span_json_str(f, s->vms[v].label, sizeof(s->vms[v].label));
		fputs(",\"comm\":", f);
		span_json_str(f, s->vms[v].vm.comm, sizeof(s->vms[v].vm.comm));
		fprintf(f, ",\"pid\":%u}", s->vms[v].tgid);
	}
	fputs("],\"series\":[", f);
	for (i = 0; i < nr; i++) {
		const struct row *r = &rows[i];

		fprintf(f, "%s{\"kind\":\"%s\",\"vm\":", i ? "," : "",
			spanmon_kind_name(r->kind));
		span_json_str(f, r->vm, strlen(r->vm));
		if (r->vcpu >= 0)
			fprintf(f, ",\"vcpu\":%d", r->vcpu);
		if (r->kind == SPAN_KIND_EXIT) {
			fputs(",\"reason\":", f);
			span_json_str(f, r->what, sizeof(r->what));
		} else if (r->kind == SPAN_KIND_PF) {
			fprintf(f, ",\"nested\":%s", r->what);
		} else if (r->kind == SPAN_KIND_OP) {
			fprintf(f, ",\"op\":\"%s\"", r->what);
		} else if (r->kind == SPAN_KIND_MEM_REPLY) {
			fprintf(f, ",\"guest\":%u,\"view\":%u", r->guest, r->view);
		}
		fprintf(f, ",\"count\":%llu,\"sum_ns\":%llu,\"p50_ns\":%.0f,"
			"\"p90_ns\":%.0f,\"p99_ns\":%.0f,\"buckets\":[",
			(unsigned long long)r->count, (unsigned long long)r->h.sum_ns,
			span_hist_quantile_ns(r->h.slots, 0.5),
			span_hist_quantile_ns(r->h.slots, 0.9),
			span_hist_quantile_ns(r->h.slots, 0.99));
		/* The nonzero slots: [low_ns, high_ns, count], high -1 for overflow. */
		for (j = 0, sep = ""; j < SPAN_HIST_SLOTS; j++) {
			if (!r->h.slots[j])
				continue;
			fprintf(f, "%s[%llu,", sep, (unsigned long long)span_hist_slot_low_ns(j));
			if (j == SPAN_HIST_SLOTS - 1)
				fputs("-1,", f);
			else
				fprintf(f, "%llu,", (unsigned long long)span_hist_slot_high_ns(j));
			fprintf(f, "%llu]", (unsigned long long)r->h.slots[j]);
			sep = ",";
		}
		fputs("]}", f);
	}
	fputs("],\"featurevisors\":[", f);
	for (v = 0; v < s->nr_fvs; v++) {
		const struct spanmon_fv *fv = &s->fvs[v];

		fprintf(f, "%s{\"guest\":%u,\"view\":%u,\"events\":%llu,\"delivered\":%llu,"
			"\"filtered\":%llu,\"dropped\":%llu,\"dirty_pages\":%llu,"
			"\"delivery\":{\"count\":%llu,\"sum_ns\":%llu,\"p50_ns\":%.0f,"
			"\"p99_ns\":%.0f}}", v ? "," : "", fv->guest, fv->view,
			(unsigned long long)fv->stats[SPAN_FV_STAT_SEEN],
			(unsigned long long)fv->stats[SPAN_FV_STAT_DELIVERED],
			(unsigned long long)fv->stats[SPAN_FV_STAT_FILTERED],
			(unsigned long long)fv->stats[SPAN_FV_STAT_DROPPED],
			(unsigned long long)fv->stats[SPAN_FV_STAT_DIRTY_SET],
			(unsigned long long)span_hist_count(fv->delivery.slots, SPAN_HIST_SLOTS),
			(unsigned long long)fv->delivery.sum_ns,
			span_hist_quantile_ns(fv->delivery.slots, 0.5),
			span_hist_quantile_ns(fv->delivery.slots, 0.99));
	}
	fputs("],\"span_ops\":[", f);
	nr = make_oprows(s, &oprows);
	if (nr < 0) {
		free(rows);
		return -1;
	}
	for (i = 0; i < nr; i++) {
		const struct oprow *r = &oprows[i];

		fprintf(f, "%s{\"vm\":", i ? "," : "");
		span_json_str(f, r->vm, strlen(r->vm));
		fprintf(f, ",\"op\":\"%s\",\"reason\":\"%s\",\"events\":%llu,\"pages\":%llu,"
			"\"abandoned\":%llu,\"no_start\":%llu}", spanmon_op_name(r->op),
			spanmon_span_reason_name(r->reason), (unsigned long long)r->c.events,
			(unsigned long long)r->c.npages, (unsigned long long)r->c.abandoned,
			(unsigned long long)r->c.unstarted);
	}
	free(oprows);
	fputs("],\"dropped\":{", f);
	for (j = 0; j < SPAN_DROP_NR; j++)
		fprintf(f, "%s\"%s\":%llu", j ? "," : "", spanmon_drop_name(j),
			(unsigned long long)s->drops[j]);
	fputs("}}\n", f);
	free(rows);
	return ferror(f) ? -1 : 0;
}

/* ---- terminal ----------------------------------------------------------- */

/* Span event counts, busiest first, @limit rows at most (0: all). */
static int top_op_counts(FILE *f, const struct spanmon_snapshot *s, unsigned int limit)
{
	struct oprow *rows;
	long nr = make_oprows(s, &rows), i, shown;

	if (nr <= 0)
		return nr;
	qsort(rows, nr, sizeof(*rows), cmp_oprow_busiest);
	shown = limit && (long)limit < nr ? (long)limit : nr;
	fprintf(f, "\n%-26s %-11s %-9s %9s %11s %8s\n", "span events: vm", "op", "reason",
		"events", "pages", "untimed");
	for (i = 0; i < shown; i++)
		fprintf(f, "  %-24.24s %-11s %-9s %9llu %11llu %8llu\n", rows[i].vm,
			spanmon_op_name(rows[i].op), spanmon_span_reason_name(rows[i].reason),
			(unsigned long long)rows[i].c.events, (unsigned long long)rows[i].c.npages,
			(unsigned long long)(rows[i].c.abandoned + rows[i].c.unstarted));
	if (shown < nr)
		fprintf(f, "  (%ld more; --limit 0 shows all)\n", nr - shown);
	free(rows);
	return 0;
}

int spanmon_format_top(FILE *f, const struct spanmon_snapshot *s,
		       const struct spanmon_top_opts *o)
{
	struct row *rows;
	long nr = make_rows(s, o->per_vcpu, &rows), i, shown;
	__u64 dropped = 0;
	unsigned int j;
	char tbuf[16];
	time_t t = (time_t)(s->time_ns / 1000000000ull);
	struct tm tm;

	if (nr < 0)
		return -1;
	localtime_r(&t, &tm);
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	for (j = 0; j < SPAN_DROP_NR; j++)
		dropped += s->drops[j];
	fprintf(f, "spanmon %s%s%s  %zu VMs  %ld series  dropped %llu", tbuf,
		o->title ? " " : "", o->title ? o->title : "", s->nr_vms, nr,
		(unsigned long long)dropped);
	if (dropped) {
		const char *sep = " (";

		for (j = 0; j < SPAN_DROP_NR; j++) {
			if (!s->drops[j])
				continue;
			fprintf(f, "%s%s %llu", sep, spanmon_drop_name(j),
				(unsigned long long)s->drops[j]);
			sep = ", ";
		}
		fputc(')', f);
	}
	fputc('\n', f);
	if (top_op_counts(f, s, o->limit)) {
		free(rows);
		return -1;
	}
	if (!nr)
		fputs("\nNo events yet (latencies appear once VMs exit and re-enter).\n", f);
	if (nr > 1)
		qsort(rows, nr, sizeof(*rows), cmp_row_busiest);
	shown = o->limit && (long)o->limit < nr ? (long)o->limit : nr;
	for (i = 0; i < shown; i++) {
		const struct row *r = &rows[i];
		char p50[16], p90[16], p99[16], head[80];
		__u64 log2[SPAN_HIST_LOG2_SLOTS];
		int len;

		len = snprintf(head, sizeof(head), "%s vm=%.24s", spanmon_kind_name(r->kind), r->vm);
		if (r->vcpu >= 0)
			len += snprintf(head + len, sizeof(head) - len, " vcpu=%d", r->vcpu);
		if (r->kind == SPAN_KIND_EXIT)
			snprintf(head + len, sizeof(head) - len, " reason=%s", r->what);
		else if (r->kind == SPAN_KIND_PF)
			snprintf(head + len, sizeof(head) - len, " nested=%s", r->what);
		else if (r->kind == SPAN_KIND_OP)
			snprintf(head + len, sizeof(head) - len, " op=%s", r->what);
		else if (r->kind == SPAN_KIND_MEM_REPLY)
			snprintf(head + len, sizeof(head) - len, " guest=%u view=%u", r->guest,
				 r->view);
		fprintf(f, "\n%-.79s\n", head);
		fprintf(f, "  count %llu  avg %s  p50 %s  p90 %s  p99 %s\n",
			(unsigned long long)r->count,
			span_fmt_ns(r->count ? (double)r->h.sum_ns / r->count : 0, tbuf, sizeof(tbuf)),
			span_fmt_ns(span_hist_quantile_ns(r->h.slots, 0.5), p50, sizeof(p50)),
			span_fmt_ns(span_hist_quantile_ns(r->h.slots, 0.9), p90, sizeof(p90)),
			span_fmt_ns(span_hist_quantile_ns(r->h.slots, 0.99), p99, sizeof(p99)));
		span_hist_fold_log2(r->h.slots, log2);
		span_print_log2_hist(f, log2, SPAN_HIST_LOG2_SLOTS, "nsecs");
	}
	if (shown < nr)
		fprintf(f, "\n(%ld more series; --limit 0 shows all)\n", nr - shown);
	free(rows);
	return ferror(f) ? -1 : 0;
}
