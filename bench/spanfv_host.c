// SPDX-License-Identifier: GPL-2.0
/*
 * A featurevisor dispatcher's cost per memory event on this host, natively
 * (JIT), without KVM: the dispatcher of lib/spanevents.c driven by
 * BPF_PROG_TEST_RUN with span_mem_event's arguments, one event per test
 * run, timed by the kernel's run-time statistics (BPF_ENABLE_STATS):
 * run_time_ns / run_cnt, so each run starts after a system call, with cold
 * caches (an upper bound, as spanmon_host's "cold" column).
 *
 * Rows: an event of another (guest, view) (what every other featurevisor's
 * dispatcher pays for each event), one delivered without a filter, one
 * the range filter drops, one it delivers, and one lost to a full ring.
 * The filter is built into the dispatcher as its span_filter()
 * (tests/host/spanfv_inline.bpf.c): this host's kernel refuses freplace,
 * which adds a trampoline's jump on kernels that allow it.
 *
 * Usage: spanfv_host [-n EVENTS] [-d DIR]   (as root; DIR holds
 * spanfv-range.bpf.o, default out/tests/host)
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "span/spanevents.h"

struct gfn_range {
	__u64 lo, hi, tag;	/* bpf/filters/range.bpf.c */
};

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static int prog_stats(int fd, __u64 *cnt, __u64 *ns)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int err = bpf_obj_get_info_by_fd(fd, &info, &len);

	*cnt = info.run_cnt;
	*ns = info.run_time_ns;
	return err;
}

/* ns per event for @n events of (guest, view, gfn); -1 on error. */
static double cost(struct span_fv_dispatcher *d, struct span_fv_consumer *c, unsigned int n,
		   __u32 guest, __u32 view, __u64 gfn, bool drain)
{
	__u64 args[8] = { guest, view, 1, 0, gfn, 2, 0, 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args));
	int fd = span_fv_prog_fd(d);
	__u64 cnt0, ns0, cnt1, ns1;
	unsigned int i;

	if (prog_stats(fd, &cnt0, &ns0))
		return -1;
	for (i = 0; i < n; i++) {
		args[7] = i + 1;
		if (bpf_prog_test_run_opts(fd, &opts))
			return -1;
		/* Keep the ring from filling, outside the timed program. */
		if (drain && (i & 1023) == 1023)
			span_fv_consumer_consume(c);
	}
	if (drain)
		span_fv_consumer_consume(c);
	if (prog_stats(fd, &cnt1, &ns1) || cnt1 == cnt0)
		return -1;
	return (double)(ns1 - ns0) / (cnt1 - cnt0);
}

int main(int argc, char **argv)
{
	const char *dir = "out/tests/host";
	struct span_fv_dispatcher *plain = NULL, *range = NULL, *full = NULL;
	struct span_fv_consumer *cp = NULL, *cr = NULL, *cf = NULL;
	struct gfn_range r = { .lo = 1000, .hi = 2000, .tag = 1 };
	unsigned int n = 20000;
	char path[256], why[256];
	int opt, stats_fd, err = 1;
	__u32 zero = 0;
	struct bpf_map *m;

	while ((opt = getopt(argc, argv, "n:d:h")) != -1) {
		if (opt == 'n' && atoi(optarg) > 0) {
			n = atoi(optarg);
		} else if (opt == 'd') {
			dir = optarg;
		} else {
			fprintf(stderr, "usage: spanfv_host [-n EVENTS] [-d DIR]\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	libbpf_set_print(quiet);
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0) {
		fprintf(stderr, "spanfv_host: BPF_ENABLE_STATS: %s (root?)\n", strerror(-stats_fd));
		return 1;
	}
	{
		struct span_fv_opts o = { .guest_id = 1, .view = 1, .guest_pages = 1 << 18,
					  .ring_bytes = 1 << 20 };

		if (span_fv_open(&plain, &o, why, sizeof(why)))
			goto fail;
		snprintf(path, sizeof(path), "%s/spanfv-range.bpf.o", dir);
		o.obj_path = path;
		if (span_fv_open(&range, &o, why, sizeof(why)))
			goto fail;
		o.obj_path = NULL;
		o.ring_bytes = 4096;
		if (span_fv_open(&full, &o, why, sizeof(why)))
			goto fail;
	}
	m = bpf_object__find_map_by_name(span_fv_object(range), "range");
	if (!m || bpf_map_update_elem(bpf_map__fd(m), &zero, &r, 0)) {
		snprintf(why, sizeof(why), "cannot set the range filter's range");
		goto fail;
	}
	if (span_fv_consumer_new(&cp, plain, NULL, NULL, why, sizeof(why)) ||
	    span_fv_consumer_new(&cr, range, NULL, NULL, why, sizeof(why)) ||
	    span_fv_consumer_new(&cf, full, NULL, NULL, why, sizeof(why)))
		goto fail;
	/* Fill the small ring for good: every later event there is a drop. */
	cost(full, cf, 100, 1, 1, 5, false);

	printf("dispatcher cost per event, ns (run_time_ns / run_cnt, %u events each,\n"
	       "one BPF_PROG_TEST_RUN per event: cold caches)\n\n", n);
	printf("%-44s %8s\n", "event", "ns");
	printf("%-44s %8.0f\n", "another (guest, view): ignored",
	       cost(plain, cp, n, 2, 1, 5, false));
	printf("%-44s %8.0f\n", "no filter: delivered", cost(plain, cp, n, 1, 1, 5, true));
	printf("%-44s %8.0f\n", "range filter: outside, dropped by the filter",
	       cost(range, cr, n, 1, 1, 5, true));
	printf("%-44s %8.0f\n", "range filter: inside, delivered",
	       cost(range, cr, n, 1, 1, 1500, true));
	printf("%-44s %8.0f\n", "no filter, ring full: lost (counted)",
	       cost(full, cf, n, 1, 1, 5, false));
	err = 0;
fail:
	if (err)
		fprintf(stderr, "spanfv_host: %s\n", why);
	span_fv_consumer_free(cp);
	span_fv_consumer_free(cr);
	span_fv_consumer_free(cf);
	span_fv_close(plain);
	span_fv_close(range);
	span_fv_close(full);
	close(stats_fd);
	return err;
}
