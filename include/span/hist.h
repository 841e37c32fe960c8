/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Log2 histograms of nanoseconds, as the BPF side builds them (lib/hist.c):
 * slot 0 holds 0..1 ns, slot i >= 1 holds [2^i, 2^(i+1)) ns, and the last
 * of n slots also holds everything above (the BPF side clamps).
 */
#ifndef __SPAN_HIST_H
#define __SPAN_HIST_H

#include <linux/types.h>
#include <stdint.h>
#include <stdio.h>

/* The slot a value of @ns lands in, among @nslots (clamped). */
unsigned int span_hist_slot(uint64_t ns, unsigned int nslots);

/* Lowest value of slot @i, in ns. */
uint64_t span_hist_slot_low_ns(unsigned int i);

/*
 * Upper bound of slot @i in seconds, as a Prometheus "le": every value in
 * the slot is below 2^(i+1) ns.  Meaningless for the last (clamped) slot,
 * whose bound is +Inf.
 */
double span_hist_slot_le_seconds(unsigned int i);

/* Sum of all slots. */
__u64 span_hist_count(const __u64 *slots, unsigned int nslots);

/*
 * Estimate quantile @q (0..1) in ns, the way Prometheus'
 * histogram_quantile() does: find the slot holding rank q*count and
 * interpolate linearly inside it.  The clamped last slot has no upper bound:
 * its lower bound is returned.  0 for an empty histogram.
 */
double span_hist_quantile_ns(const __u64 *slots, unsigned int nslots, double q);

/*
 * bcc's print_log2_hist(): the nonzero range of the histogram, one slot a
 * line with a 40-column bar; fits 80 columns.
 */
void span_print_log2_hist(FILE *f, const __u64 *slots, unsigned int nslots,
			  const char *unit);

/* A duration in ns as a short human string ("812ns", "3.4us", "1.25s"). */
const char *span_fmt_ns(double ns, char *buf, size_t len);

#endif /* __SPAN_HIST_H */
