/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The log-linear histograms of nanoseconds the BPF side builds (layout in
 * span/hist_layout.h): slots, their bounds, quantiles, and the terminal's
 * log2 view of them.
 */
#ifndef __SPAN_HIST_H
#define __SPAN_HIST_H

#include <linux/types.h>
#include <stdint.h>
#include <stdio.h>

#include "span/hist_layout.h"

/* The slot a value of @ns lands in (the BPF side's computation). */
unsigned int span_hist_slot(uint64_t ns);

/* Lowest value of slot @i, in ns. */
uint64_t span_hist_slot_low_ns(unsigned int i);

/*
 * Upper bound of slot @i in ns: every value in it is below.  UINT64_MAX
 * for the overflow slot, which has none.
 */
uint64_t span_hist_slot_high_ns(unsigned int i);

/* The same in seconds, as a Prometheus "le" (not for the overflow slot). */
double span_hist_slot_le_seconds(unsigned int i);

/* Sum of all slots. */
__u64 span_hist_count(const __u64 *slots, unsigned int nslots);

/*
 * Estimate quantile @q (0..1) in ns, the way Prometheus'
 * histogram_quantile() does: find the slot holding rank q*count and
 * interpolate linearly inside it (within 1/16 of the true value, see
 * hist_layout.h).  The overflow slot has no upper bound: its lower bound
 * is returned.  0 for an empty histogram.
 */
double span_hist_quantile_ns(const __u64 *slots, double q);

/*
 * The histogram summed by power of two, for the terminal: @log2[i] holds
 * [2^i, 2^(i+1)) ns (0 and 1 in 0), the last the overflow slot.
 */
void span_hist_fold_log2(const __u64 *slots, __u64 log2[SPAN_HIST_LOG2_SLOTS]);

/*
 * bcc's print_log2_hist(): the nonzero range of a log2 histogram of
 * @nslots (the last one open-ended), one slot a line with a 40-column bar;
 * fits 80 columns.
 */
void span_print_log2_hist(FILE *f, const __u64 *slots, unsigned int nslots,
			  const char *unit);

/* A duration in ns as a short human string ("812ns", "3.4us", "1.25s"). */
const char *span_fmt_ns(double ns, char *buf, size_t len);

#endif /* __SPAN_HIST_H */
