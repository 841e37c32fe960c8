/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The log-linear histogram of nanoseconds spanmon builds in BPF (in the
 * manner of HdrHistogram), shared by bpf/spanmon.bpf.c and lib/hist.c:
 *
 *   v < 32               slot v (1 ns wide)
 *   2^e <= v < 2^(e+1)   16 slots of 2^(e-4) ns each, e = 5..SPAN_HIST_MAX_EXP:
 *                        slot (e - 4) * 16 + (v >> (e - 4))
 *   v >= 2^(MAX_EXP+1)   the last slot (overflow, le="+Inf")
 *
 * A slot is at most 1/16 of its lower bound wide, so a quantile estimated
 * inside the slot that holds it is within 1/16 (6.25%) of the true value,
 * or 1 ns below 32 ns.
 */
#ifndef __SPAN_HIST_LAYOUT_H
#define __SPAN_HIST_LAYOUT_H

#define SPAN_HIST_SUB_BITS	4
#define SPAN_HIST_SUB		(1 << SPAN_HIST_SUB_BITS)	/* slots per power of two */
#define SPAN_HIST_MAX_EXP	31	/* the last power of two split: [2^31, 2^32) ns */
/* The split slots, then the overflow slot (2^32 ns, about 4.3 s, and up). */
#define SPAN_HIST_SLOTS		((SPAN_HIST_MAX_EXP - SPAN_HIST_SUB_BITS + 2) * SPAN_HIST_SUB + 1)
/* Powers of two for the terminal's log2 view: 0..MAX_EXP and the overflow. */
#define SPAN_HIST_LOG2_SLOTS	(SPAN_HIST_MAX_EXP + 2)

#endif /* __SPAN_HIST_LAYOUT_H */
