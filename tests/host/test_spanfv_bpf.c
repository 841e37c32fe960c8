// SPDX-License-Identifier: GPL-2.0
/*
 * A featurevisor's event dispatcher (bpf/spanfv.bpf.c) and its filters
 * (bpf/filters/), through lib/spanevents.c, on the host: the host has no
 * span tracepoints, so span_mem_event's arguments are fed to the very
 * raw_tp program production attaches by BPF_PROG_TEST_RUN (ctx = the u64
 * arguments), and the ring, bitmap and counters are read as a
 * featurevisor would.
 *
 * A filter is an freplace program, and freplace needs BPF trampolines,
 * which some kernels refuse (EPERM: this project's Firecracker/PVM build
 * host does, for fentry too).  So each filter test runs twice: _freplace,
 * the real thing (skipped, saying so, where the kernel refuses it), and
 * _inline, the same filter source built into a dispatcher as its global
 * span_filter() (tests/host/spanfv_inline.bpf.c), which runs everywhere.
 * The checker's refusals come before the kernel sees a program: they run
 * everywhere.
 *
 * Part of out/tests/host/spanmon_bpf (root only, see check.sh).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "span/hist.h"
#include "span/spanevents.h"
#include "span/util.h"
#include "collect.h"

#ifndef SPANFV_FILTER_DIR
#define SPANFV_FILTER_DIR "out/bpf/filters"
#endif
#ifndef SPANFV_INLINE_DIR
#define SPANFV_INLINE_DIR "out/tests/host"
#endif

#define GUEST 7
#define VIEW 1
#define PAGES 4096
#define MAX_SEEN 1024

/* What a consumer collected. */
struct seen {
	unsigned int n;
	struct span_fv_event ev[MAX_SEEN];
};

static int collect(void *ctx, const struct span_fv_event *ev)
{
	struct seen *s = ctx;

	if (s->n < MAX_SEEN)
		s->ev[s->n] = *ev;
	s->n++;
	return 0;
}

static const char *filter_path(const char *name)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s.bpf.o", SPANFV_FILTER_DIR, name);
	return buf[i];
}

static struct span_fv_dispatcher *open_fv(__u32 guest, __u32 view, __u32 ring)
{
	struct span_fv_opts o = {
		.guest_id = guest, .view = view, .guest_pages = PAGES, .ring_bytes = ring,
	};
	struct span_fv_dispatcher *d;
	char why[256] = "";
	int err = span_fv_open(&d, &o, why, sizeof(why));

	if (err)
		printf("#   span_fv_open: %s\n", why);
	return err ? NULL : d;
}

/* span_mem_event(guest, view, l1, vcpu, gfn, access, flags, seq) into @d. */
static int fire(struct span_fv_dispatcher *d, __u32 guest, __u32 view, __u32 vcpu,
		__u64 gfn, __u32 access, __u32 flags, __u64 seq)
{
	__u64 args[8] = { guest, view, 42, vcpu, gfn, access, flags, seq };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args));
	int err = bpf_prog_test_run_opts(span_fv_prog_fd(d), &opts);

	return err ? err : (int)opts.retval;
}

static void stats_of(struct span_fv_dispatcher *d, __u64 st[SPAN_FV_STAT_NR])
{
	memset(st, 0xff, sizeof(__u64) * SPAN_FV_STAT_NR);
	if (span_fv_stats(d, st))
		memset(st, 0xff, sizeof(__u64) * SPAN_FV_STAT_NR);
}

static struct span_fv_consumer *consumer(struct span_fv_dispatcher *d, struct seen *s)
{
	struct span_fv_consumer *c;
	char why[256];

	memset(s, 0, sizeof(*s));
	return span_fv_consumer_new(&c, d, collect, s, why, sizeof(why)) ? NULL : c;
}

static int load_filter(struct span_fv_dispatcher *d, const char *name, char *why, size_t len)
{
	why[0] = 0;
	return span_fv_filter_load(d, filter_path(name), why, len);
}

/* Can this kernel load an freplace program?  Asked once. */
static int freplace_ok = -1;
static char freplace_why[256];

static bool freplace_works(void)
{
	struct span_fv_dispatcher *d;

	if (freplace_ok >= 0)
		return freplace_ok;
	d = open_fv(GUEST, VIEW, 0);
	if (!d)
		return false;
	freplace_ok = !load_filter(d, "all", freplace_why, sizeof(freplace_why));
	span_fv_close(d);
	return freplace_ok;
}

#define NEED_FREPLACE()							\
	do {								\
		if (!freplace_works())					\
			SKIP("no freplace here: %s", freplace_why);	\
	} while (0)

enum mode { INLINE, FREPLACE };

/* A dispatcher of (@guest, @view) with filter @name, built in or loaded. */
static struct span_fv_dispatcher *with_filter(enum mode m, __u32 guest, __u32 view,
					      const char *name)
{
	struct span_fv_opts o = { .guest_id = guest, .view = view, .guest_pages = PAGES };
	struct span_fv_dispatcher *d;
	char path[256], why[256] = "";

	if (m == FREPLACE) {
		NEED_FREPLACE();
		d = open_fv(guest, view, 0);
		if (d && load_filter(d, name, why, sizeof(why))) {
			printf("#   %s: %s\n", name, why);
			span_fv_close(d);
			d = NULL;
		}
		return d;
	}
	snprintf(path, sizeof(path), "%s/spanfv-%s.bpf.o", SPANFV_INLINE_DIR, name);
	o.obj_path = path;
	if (span_fv_open(&d, &o, why, sizeof(why))) {
		printf("#   %s: %s\n", path, why);
		return NULL;
	}
	return d;
}

/* The filter's map @name, wherever the filter lives. */
static int filter_map_fd(struct span_fv_dispatcher *d, const char *name)
{
	struct bpf_object *obj = span_fv_filter_object(d) ?: span_fv_object(d);
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	return m ? bpf_map__fd(m) : -1;
}

/* TEST(name_inline) and TEST(name_freplace), one body. */
#define BOTH(name)							\
	static void name(enum mode m);					\
	TEST(name##_inline) { name(INLINE); }				\
	TEST(name##_freplace) { name(FREPLACE); }			\
	static void name(enum mode m)

TEST(deliver_all_gets_every_event_in_order)
{
	struct span_fv_dispatcher *d = open_fv(GUEST, VIEW, 0);
	static struct seen s;
	struct span_fv_consumer *c;
	__u64 st[SPAN_FV_STAT_NR];
	unsigned int i;

	ASSERT_TRUE(d != NULL);
	c = consumer(d, &s);
	ASSERT_TRUE(c != NULL);
	EXPECT_TRUE(span_fv_filter_name(d) == NULL);
	for (i = 1; i <= 300; i++)
		ASSERT_EQ(fire(d, GUEST, VIEW, i % 4, 1000 + i, i % 2 ? 1 : 2, i % 3 == 0, i), 0);
	EXPECT_EQ(span_fv_consumer_consume(c), 300);
	ASSERT_EQ(s.n, 300);
	for (i = 0; i < s.n; i++) {
		const struct span_fv_event *e = &s.ev[i];

		EXPECT_EQ(e->seq, i + 1);
		EXPECT_EQ(e->dseq, i + 1);
		EXPECT_EQ(e->gfn, 1000 + i + 1);
		EXPECT_EQ(e->guest, GUEST);
		EXPECT_EQ(e->view, VIEW);
		EXPECT_EQ(e->l1, 42);
		EXPECT_EQ(e->vcpu, (i + 1) % 4);
		EXPECT_EQ(e->flags, (i + 1) % 3 == 0);
		EXPECT_EQ(e->user[0] | e->user[1], 0);
		EXPECT_TRUE(e->ts_ns > 0);
		if (i)
			EXPECT_TRUE(e->ts_ns >= s.ev[i - 1].ts_ns);
	}
	stats_of(d, st);
	EXPECT_EQ(st[SPAN_FV_STAT_SEEN], 300);
	EXPECT_EQ(st[SPAN_FV_STAT_DELIVERED], 300);
	EXPECT_EQ(st[SPAN_FV_STAT_FILTERED], 0);
	EXPECT_EQ(st[SPAN_FV_STAT_DROPPED], 0);
	EXPECT_EQ(st[SPAN_FV_STAT_DIRTY_SET], 100);
	EXPECT_EQ(span_fv_consumer_lost(c), 0);
	span_fv_consumer_free(c);
	span_fv_close(d);
}

struct gfn_range {
	__u64 lo, hi, tag;	/* bpf/filters/range.bpf.c */
};

BOTH(range_filter_gets_exactly_its_range)
{
	struct span_fv_dispatcher *d = with_filter(m, GUEST, VIEW, "range");
	struct gfn_range r = { .lo = 100, .hi = 164, .tag = 0x5241 };
	static struct seen s;
	struct span_fv_consumer *c;
	__u64 st[SPAN_FV_STAT_NR];
	__u32 zero = 0;
	unsigned int i;

	ASSERT_TRUE(d != NULL);
	if (m == FREPLACE)
		EXPECT_STREQ(span_fv_filter_name(d) ?: "(none)", "range");
	ASSERT_EQ(bpf_map_update_elem(filter_map_fd(d, "range"), &zero, &r, 0), 0);
	c = consumer(d, &s);
	ASSERT_TRUE(c != NULL);
	for (i = 0; i < 256; i++)
		ASSERT_EQ(fire(d, GUEST, VIEW, 0, i, 2, 0, i + 1), 0);
	span_fv_consumer_consume(c);
	ASSERT_EQ(s.n, 64);
	for (i = 0; i < s.n; i++) {
		EXPECT_EQ(s.ev[i].gfn, 100 + i);
		EXPECT_EQ(s.ev[i].seq, 101 + i);
		EXPECT_EQ(s.ev[i].user[0], 0x5241);
		/* dseq counts deliveries, not events: no gaps for filtered ones. */
		EXPECT_EQ(s.ev[i].dseq, i + 1);
	}
	EXPECT_EQ(span_fv_consumer_lost(c), 0);
	stats_of(d, st);
	EXPECT_EQ(st[SPAN_FV_STAT_SEEN], 256);
	EXPECT_EQ(st[SPAN_FV_STAT_FILTERED], 192);
	EXPECT_EQ(st[SPAN_FV_STAT_DELIVERED], 64);
	span_fv_consumer_free(c);
	span_fv_close(d);
}

BOTH(writes_filter_gets_only_writes)
{
	struct span_fv_dispatcher *d = with_filter(m, GUEST, VIEW, "writes");
	static struct seen s;
	struct span_fv_consumer *c;
	unsigned int i;

	ASSERT_TRUE(d != NULL);
	c = consumer(d, &s);
	ASSERT_TRUE(c != NULL);
	/* access cycles READ, WRITE, READ|WRITE, EXEC, ... */
	for (i = 0; i < 40; i++)
		ASSERT_EQ(fire(d, GUEST, VIEW, 0, i, (const __u32[]){ 1, 2, 3, 4 }[i % 4], 0, i + 1), 0);
	span_fv_consumer_consume(c);
	ASSERT_EQ(s.n, 20);
	for (i = 0; i < s.n; i++)
		EXPECT_TRUE(s.ev[i].access & SPAN_FV_ACCESS_WRITE);
	span_fv_consumer_free(c);
	span_fv_close(d);
}

/* Two featurevisors of one guest, and another guest's event. */
BOTH(each_featurevisor_sees_only_its_own_view)
{
	struct span_fv_dispatcher *a = with_filter(m, GUEST, 1, "count");
	struct span_fv_dispatcher *b = with_filter(m, GUEST, 2, "count");
	static struct seen sa, sb;
	struct span_fv_consumer *ca = NULL, *cb = NULL;
	__u64 st[SPAN_FV_STAT_NR], calls, bits[PAGES / 64] = {};
	struct span_fv_dispatcher *both[2] = { a, b };
	__u32 zero = 0;
	unsigned int i, k;

	ASSERT_TRUE(a && b);
	ca = consumer(a, &sa);
	cb = consumer(b, &sb);
	ASSERT_TRUE(ca && cb);
	/*
	 * The tracepoint runs every attached dispatcher: here each event is
	 * fed to both.  View 1 gets 3 + 2 async, view 2 gets 5, guest 8's
	 * view 1 gets 7 (async: its gfns must not show in a's bitmap).
	 */
	for (k = 0; k < 2; k++) {
		for (i = 0; i < 3; i++)
			fire(both[k], GUEST, 1, 0, 10 + i, 2, 0, i + 1);
		for (i = 0; i < 2; i++)
			fire(both[k], GUEST, 1, 0, 20 + i, 2, SPAN_FV_EVENT_NOTIFY, 4 + i);
		for (i = 0; i < 5; i++)
			fire(both[k], GUEST, 2, 1, 30 + i, 1, 0, i + 1);
		for (i = 0; i < 7; i++)
			fire(both[k], 8, 1, 2, 40 + i, 2, SPAN_FV_EVENT_NOTIFY, i + 1);
	}
	span_fv_consumer_consume(ca);
	span_fv_consumer_consume(cb);
	ASSERT_EQ(sa.n, 5);
	ASSERT_EQ(sb.n, 5);
	for (i = 0; i < 5; i++) {
		EXPECT_EQ(sa.ev[i].guest, GUEST);
		EXPECT_EQ(sa.ev[i].view, 1);
		EXPECT_EQ(sa.ev[i].seq, i + 1);
		EXPECT_EQ(sb.ev[i].view, 2);
		EXPECT_EQ(sb.ev[i].gfn, 30 + i);
		/* The filter's own count: it was shown nothing else in between. */
		EXPECT_EQ(sa.ev[i].user[0], i + 1);
		EXPECT_EQ(sb.ev[i].user[0], i + 1);
	}
	for (k = 0; k < 2; k++) {
		calls = 0;
		EXPECT_EQ(bpf_map_lookup_elem(filter_map_fd(both[k], "calls"), &zero, &calls), 0);
		EXPECT_EQ(calls, 5);
		stats_of(both[k], st);
		EXPECT_EQ(st[SPAN_FV_STAT_SEEN], 5);
	}
	/* a's bitmap: its two async gfns, not guest 8's. */
	EXPECT_EQ(span_fv_dirty_harvest(a, bits, PAGES / 64), 2);
	EXPECT_EQ(bits[0], (1ull << 20) | (1ull << 21));
	memset(bits, 0, sizeof(bits));
	EXPECT_EQ(span_fv_dirty_harvest(b, bits, PAGES / 64), 0);
	span_fv_consumer_free(ca);
	span_fv_consumer_free(cb);
	span_fv_close(a);
	span_fv_close(b);
}

/*
 * A ring of one page holds 46 records of 80 bytes (+8 of header): the rest
 * are dropped, counted by the dispatcher, seen as a dseq gap by the
 * consumer; the bitmap has every async gfn all the same.
 */
TEST(full_ring_counts_drops_and_bitmap_stays_complete)
{
	struct span_fv_dispatcher *d = open_fv(GUEST, VIEW, 4096);
	__u64 st[SPAN_FV_STAT_NR], bits[PAGES / 64] = {};
	static struct seen s;
	struct span_fv_consumer *c;
	unsigned int i, n = 200, fit;

	ASSERT_TRUE(d != NULL);
	c = consumer(d, &s);
	ASSERT_TRUE(c != NULL);
	for (i = 0; i < n; i++)
		ASSERT_EQ(fire(d, GUEST, VIEW, 0, 3 * i, 2, SPAN_FV_EVENT_NOTIFY, i + 1), 0);
	stats_of(d, st);
	fit = st[SPAN_FV_STAT_DELIVERED];
	EXPECT_TRUE(fit > 10 && fit < 60);
	EXPECT_EQ(st[SPAN_FV_STAT_DROPPED], n - fit);
	EXPECT_EQ(st[SPAN_FV_STAT_DIRTY_SET], n);
	span_fv_consumer_consume(c);
	EXPECT_EQ(s.n, fit);
	/* One more after the drain: its dseq shows the hole. */
	ASSERT_EQ(fire(d, GUEST, VIEW, 0, 9999 % PAGES, 2, 0, n + 1), 0);
	span_fv_consumer_consume(c);
	EXPECT_EQ(s.n, fit + 1);
	EXPECT_EQ(span_fv_consumer_lost(c), n - fit);
	EXPECT_EQ(s.ev[fit].dseq, n + 1);
	EXPECT_EQ(s.ev[fit].seq, n + 1);
	/* Every async gfn is in the bitmap; harvesting clears it. */
	EXPECT_EQ(span_fv_dirty_harvest(d, bits, PAGES / 64), n);
	for (i = 0; i < n; i++)
		EXPECT_TRUE(bits[(3 * i) / 64] & (1ull << ((3 * i) % 64)));
	EXPECT_EQ(span_fv_dirty_harvest(d, bits, PAGES / 64), 0);
	/* A gfn beyond the bitmap is counted, not lost silently. */
	ASSERT_EQ(fire(d, GUEST, VIEW, 0, PAGES + 5, 2, SPAN_FV_EVENT_NOTIFY, n + 2), 0);
	stats_of(d, st);
	EXPECT_EQ(st[SPAN_FV_STAT_DIRTY_OOB], 1);
	span_fv_consumer_free(c);
	span_fv_close(d);
}

BOTH(forge_filter_cannot_change_trusted_fields)
{
	struct span_fv_dispatcher *d = with_filter(m, GUEST, VIEW, "forge");
	static struct seen s;
	struct span_fv_consumer *c;
	unsigned int i;

	ASSERT_TRUE(d != NULL);
	c = consumer(d, &s);
	ASSERT_TRUE(c != NULL);
	for (i = 0; i < 10; i++)
		ASSERT_EQ(fire(d, GUEST, VIEW, 3, 500 + i, 4, i & 1, 77 + i), 0);
	span_fv_consumer_consume(c);
	ASSERT_EQ(s.n, 10);
	for (i = 0; i < s.n; i++) {
		EXPECT_EQ(s.ev[i].seq, 77 + i);
		EXPECT_EQ(s.ev[i].dseq, i + 1);
		EXPECT_EQ(s.ev[i].gfn, 500 + i);
		EXPECT_EQ(s.ev[i].guest, GUEST);
		EXPECT_EQ(s.ev[i].view, VIEW);
		EXPECT_EQ(s.ev[i].l1, 42);
		EXPECT_EQ(s.ev[i].vcpu, 3);
		EXPECT_EQ(s.ev[i].access, 4);
		EXPECT_EQ(s.ev[i].flags, i & 1);
		EXPECT_TRUE(s.ev[i].ts_ns > 1);
		/* user[] is the filter's: what it wrote is delivered. */
		EXPECT_EQ(s.ev[i].user[1], 0xf0f0);
	}
	span_fv_consumer_free(c);
	span_fv_close(d);
}

/* Each bad filter is refused, with a one-line reason naming what it did. */
TEST(checker_refuses_filters_that_reach_beyond_their_events)
{
	static const struct { const char *file, *why; } bad[] = {
		{ "probe_read", "calls bpf_probe_read_kernel (helper 113), not allowed" },
		{ "ksym", "extern init_task" },
		{ "kfunc", "kfunc bpf_task_from_pid" },
		{ "tail_call", "map progs is a prog_array" },
		{ "pinned", "map spanfv_shared is pinned" },
		{ "ringbuf", "map leak is a ringbuf" },
		{ "loop", "calls bpf_loop (helper 181)" },
		{ "two_progs", "2 programs" },
	};
	struct span_fv_dispatcher *d = open_fv(GUEST, VIEW, 0);
	static struct seen s;
	struct span_fv_consumer *c;
	char why[256];
	unsigned int i;

	ASSERT_TRUE(d != NULL);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(load_filter(d, bad[i].file, why, sizeof(why)), -EPERM);
		if (!strstr(why, bad[i].why))
			printf("#   %s: got \"%s\"\n", bad[i].file, why);
		EXPECT_TRUE(strstr(why, bad[i].why) != NULL);
		EXPECT_TRUE(strstr(why, bad[i].file) != NULL);
		EXPECT_TRUE(strchr(why, '\n') == NULL);
		/* The same without a dispatcher. */
		EXPECT_EQ(span_fv_filter_check(filter_path(bad[i].file), why, sizeof(why)),
			  -EPERM);
		EXPECT_TRUE(span_fv_filter_name(d) == NULL);
	}
	/* Nothing was pinned by the refused one. */
	EXPECT_NE(access("/sys/fs/bpf/spanfv_shared", F_OK), 0);
	/* A file that is no filter at all: an error, not a refusal. */
	EXPECT_EQ(span_fv_filter_load(d, "/nonexistent.bpf.o", why, sizeof(why)), -ENOENT);
	/* The good ones pass the check. */
	EXPECT_EQ(span_fv_filter_check(filter_path("all"), why, sizeof(why)), 0);
	EXPECT_EQ(span_fv_filter_check(filter_path("range"), why, sizeof(why)), 0);
	/* The lab tests' fixed-range filters (a .rodata-free, map-free filter). */
	EXPECT_EQ(span_fv_filter_check(filter_path("gfns_a"), why, sizeof(why)), 0);
	EXPECT_EQ(span_fv_filter_check(filter_path("gfns_b"), why, sizeof(why)), 0);
	/* And the dispatcher still delivers everything. */
	c = consumer(d, &s);
	ASSERT_TRUE(c != NULL);
	ASSERT_EQ(fire(d, GUEST, VIEW, 0, 1, 1, 0, 1), 0);
	span_fv_consumer_consume(c);
	EXPECT_EQ(s.n, 1);
	span_fv_consumer_free(c);
	span_fv_close(d);
}

TEST(unload_restores_deliver_all)
{
	struct span_fv_dispatcher *d;
	static struct seen s;
	struct span_fv_consumer *c;
	char why[256];

	NEED_FREPLACE();
	d = open_fv(GUEST, VIEW, 0);
	ASSERT_TRUE(d != NULL);
	c = consumer(d, &s);
	ASSERT_TRUE(c != NULL);
	ASSERT_EQ(load_filter(d, "writes", why, sizeof(why)), 0);
	ASSERT_EQ(fire(d, GUEST, VIEW, 0, 1, SPAN_FV_ACCESS_READ, 0, 1), 0);
	span_fv_consumer_consume(c);
	EXPECT_EQ(s.n, 0);
	/* A second load replaces the first. */
	ASSERT_EQ(load_filter(d, "all", why, sizeof(why)), 0);
	EXPECT_STREQ(span_fv_filter_name(d), "all");
	ASSERT_EQ(fire(d, GUEST, VIEW, 0, 2, SPAN_FV_ACCESS_READ, 0, 2), 0);
	span_fv_consumer_consume(c);
	EXPECT_EQ(s.n, 1);
	ASSERT_EQ(load_filter(d, "writes", why, sizeof(why)), 0);
	span_fv_filter_unload(d);
	EXPECT_TRUE(span_fv_filter_name(d) == NULL);
	ASSERT_EQ(fire(d, GUEST, VIEW, 0, 3, SPAN_FV_ACCESS_READ, 0, 3), 0);
	span_fv_consumer_consume(c);
	ASSERT_EQ(s.n, 2);
	EXPECT_EQ(s.ev[1].gfn, 3);
	span_fv_consumer_free(c);
	span_fv_close(d);
}

/* The consumer records each record's latency in the shared histogram. */
TEST(consumer_records_delivery_latency)
{
	struct span_fv_dispatcher *d = open_fv(GUEST, VIEW, 0);
	static struct span_fv_hist h;
	static struct seen s;
	struct span_fv_consumer *c;
	__u32 zero = 0;
	unsigned int i;

	ASSERT_TRUE(d != NULL);
	c = consumer(d, &s);
	ASSERT_TRUE(c != NULL);
	for (i = 0; i < 20; i++)
		ASSERT_EQ(fire(d, GUEST, VIEW, 0, i, 2, 0, i + 1), 0);
	usleep(2000);
	span_fv_consumer_consume(c);
	ASSERT_EQ(bpf_map_lookup_elem(span_fv_map_fd(d, "delivery"), &zero, &h), 0);
	EXPECT_EQ(span_hist_count(h.slots, SPAN_HIST_SLOTS), 20);
	/* Each waited the 2 ms at least, and less than a minute. */
	EXPECT_TRUE(h.sum_ns >= 20 * 2000000ull && h.sum_ns < 20 * 60000000000ull);
	span_fv_consumer_free(c);
	span_fv_close(d);
}

TEST(maps_are_pinned_for_spanmon_and_unpinned_at_close)
{
	struct span_fv_opts o = { .guest_id = GUEST, .view = 3, .guest_pages = 64 };
	struct span_fv_dispatcher *d;
	__u64 st[SPAN_FV_STAT_NR];
	char dir[128], path[160], why[256];
	int fd;

	snprintf(dir, sizeof(dir), "/sys/fs/bpf/span-test-%d/fv/%d-%d", getpid(), GUEST, 3);
	o.pin_dir = dir;
	/* A stale pin, as a controller that died leaves it: replaced. */
	snprintf(path, sizeof(path), "/sys/fs/bpf/span-test-%d", getpid());
	ASSERT_EQ(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "/sys/fs/bpf/span-test-%d/fv", getpid());
	ASSERT_EQ(mkdir(path, 0700), 0);
	ASSERT_EQ(mkdir(dir, 0700), 0);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "stale", 4, 8, 1, NULL);
	ASSERT_TRUE(fd >= 0);
	snprintf(path, sizeof(path), "%s/stats", dir);
	ASSERT_EQ(bpf_obj_pin(fd, path), 0);
	close(fd);
	ASSERT_EQ(span_fv_open(&d, &o, why, sizeof(why)), 0);
	ASSERT_EQ(fire(d, GUEST, 3, 0, 1, 2, 0, 1), 0);
	snprintf(path, sizeof(path), "%s/stats", dir);
	fd = bpf_obj_get(path);
	ASSERT_TRUE(fd >= 0);
	EXPECT_EQ(span_fv_stats_read(fd, st), 0);
	EXPECT_EQ(st[SPAN_FV_STAT_SEEN], 1);
	close(fd);
	snprintf(path, sizeof(path), "%s/delivery", dir);
	EXPECT_EQ(access(path, F_OK), 0);
	span_fv_close(d);
	EXPECT_NE(access(dir, F_OK), 0);
	/* The test's own parents. */
	snprintf(path, sizeof(path), "/sys/fs/bpf/span-test-%d/fv", getpid());
	rmdir(path);
	snprintf(path, sizeof(path), "/sys/fs/bpf/span-test-%d", getpid());
	EXPECT_EQ(rmdir(path), 0);
}

TEST(open_refuses_bad_ring_sizes)
{
	struct span_fv_opts o = { .guest_id = GUEST, .view = VIEW, .ring_bytes = 5000 };
	struct span_fv_dispatcher *d;
	char why[256] = "";

	EXPECT_EQ(span_fv_open(&d, &o, why, sizeof(why)), -EINVAL);
	EXPECT_TRUE(strstr(why, "5000") != NULL);
	EXPECT_TRUE(d == NULL);
}

/* What spanmon reads: the dispatchers pinned under a root, by (guest, view). */
TEST(spanmon_reads_pinned_dispatchers)
{
	struct span_fv_opts o = { .guest_id = GUEST, .view = 4, .guest_pages = 64 };
	struct span_fv_dispatcher *d, *e;
	struct spanmon_snapshot s = {};
	struct span_fv_consumer *c;
	static struct seen seen;
	char root[96], dir[128], why[256];
	size_t i;

	snprintf(root, sizeof(root), "/sys/fs/bpf/span-test-%d", getpid());
	snprintf(dir, sizeof(dir), "%s/%d-%d", root, GUEST, 4);
	o.pin_dir = dir;
	ASSERT_EQ(span_fv_open(&d, &o, why, sizeof(why)), 0);
	snprintf(dir, sizeof(dir), "%s/%d-%d", root, GUEST, 5);
	o.view = 5;
	ASSERT_EQ(span_fv_open(&e, &o, why, sizeof(why)), 0);
	c = consumer(d, &seen);
	ASSERT_TRUE(c != NULL);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(fire(d, GUEST, 4, 0, i, 2, SPAN_FV_EVENT_NOTIFY, i + 1), 0);
	span_fv_consumer_consume(c);
	ASSERT_EQ(spanmon_read_fvs(root, &s), 0);
	ASSERT_EQ(s.nr_fvs, 2);
	for (i = 0; i < s.nr_fvs; i++) {
		const struct spanmon_fv *fv = &s.fvs[i];

		EXPECT_EQ(fv->guest, GUEST);
		EXPECT_EQ(fv->stats[SPAN_FV_STAT_SEEN], fv->view == 4 ? 3 : 0);
		EXPECT_EQ(fv->stats[SPAN_FV_STAT_DIRTY_SET], fv->view == 4 ? 3 : 0);
		EXPECT_EQ(span_hist_count(fv->delivery.slots, SPAN_HIST_SLOTS),
			  fv->view == 4 ? 3 : 0);
	}
	spanmon_snapshot_free(&s);
	span_fv_consumer_free(c);
	span_fv_close(d);
	span_fv_close(e);
	EXPECT_EQ(rmdir(root), 0);
	/* No root at all: no featurevisors, no error. */
	EXPECT_EQ(spanmon_read_fvs(root, &s), 0);
	EXPECT_EQ(s.nr_fvs, 0);
}

/*
 * Batched wakeups: with wake_bytes, async records wake nobody until that
 * much waits (a poll finds nothing), a synchronous one wakes at once.
 */
TEST(async_records_wake_the_consumer_in_batches)
{
	struct span_fv_opts o = { .guest_id = GUEST, .view = VIEW, .guest_pages = PAGES,
				  .wake_bytes = 800 };
	struct span_fv_dispatcher *d;
	struct span_fv_consumer *c;
	static struct seen s;
	char why[256];
	unsigned int i;

	ASSERT_EQ(span_fv_open(&d, &o, why, sizeof(why)), 0);
	c = consumer(d, &s);
	ASSERT_TRUE(c != NULL);
	/* 88 bytes a record (80 + header): 9 async ones stay below 800. */
	for (i = 0; i < 9; i++)
		ASSERT_EQ(fire(d, GUEST, VIEW, 0, i, 2, SPAN_FV_EVENT_NOTIFY, i + 1), 0);
	EXPECT_EQ(span_fv_consumer_poll(c, 0), 0);
	EXPECT_EQ(s.n, 0);
	/* The 10th reaches 800: a wakeup, and all ten are read. */
	ASSERT_EQ(fire(d, GUEST, VIEW, 0, 9, 2, SPAN_FV_EVENT_NOTIFY, 10), 0);
	EXPECT_EQ(span_fv_consumer_poll(c, 0), 10);
	/*
	 * The ring is level-triggered in epoll: one more poll finds it empty
	 * and forgets the wakeup (a consumer's loop always makes that poll).
	 */
	EXPECT_EQ(span_fv_consumer_poll(c, 0), 0);
	/* One async (no wakeup), then a synchronous one: both at once. */
	ASSERT_EQ(fire(d, GUEST, VIEW, 0, 10, 2, SPAN_FV_EVENT_NOTIFY, 11), 0);
	EXPECT_EQ(span_fv_consumer_poll(c, 0), 0);
	ASSERT_EQ(fire(d, GUEST, VIEW, 0, 11, 1, 0, 12), 0);
	EXPECT_EQ(span_fv_consumer_poll(c, 0), 2);
	EXPECT_EQ(s.n, 12);
	span_fv_consumer_free(c);
	span_fv_close(d);
}
