/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a featurevisor's event dispatcher (bpf/spanfv.bpf.c) and its users
 * share: the record it delivers, its counters, the delivery-latency
 * histogram.  Included by BPF (after vmlinux.h) and by user space.
 *
 * One dispatcher per featurevisor, on raw_tp/span_mem_event, handles only
 * its own (guest, view) (kvm-patches/0016, notes in README "Memory events
 * through BPF").
 */
#ifndef __SPAN_SPANFV_EVENT_H
#define __SPAN_SPANFV_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "span/hist_layout.h"

/* span_mem_event's access and flags arguments. */
#define SPAN_FV_ACCESS_READ	1
#define SPAN_FV_ACCESS_WRITE	2
#define SPAN_FV_ACCESS_EXEC	4
#define SPAN_FV_EVENT_NOTIFY	1	/* async (first write): no reply expected */

/*
 * One event as a featurevisor's consumer sees it.  Every field but user[]
 * is written by the dispatcher after the filter ran: a filter can tag an
 * event (user[]) and choose to drop it, never change what it says.
 */
struct span_fv_event {
	__u64 seq;	/* the kernel's per-view sequence (KVM_SPAN_REPLY's seq) */
	__u64 dseq;	/* this dispatcher's delivery sequence, from 1: a gap = lost */
	__u64 gfn;
	__u64 ts_ns;	/* bpf_ktime_get_ns() at the tracepoint (CLOCK_MONOTONIC) */
	__u32 guest;	/* span id of the guest */
	__u32 view;	/* view index in the guest */
	__u32 l1;	/* span id of the view's VM */
	__u32 vcpu;	/* vcpu_id that made the access */
	__u32 access;	/* SPAN_FV_ACCESS_* */
	__u32 flags;	/* SPAN_FV_EVENT_* */
	__u32 drop;	/* the filter's verdict: nonzero drops (0 when delivered) */
	__u32 pad;
	__u64 user[2];	/* the filter's own tags; 0 without a filter */
};

#ifdef __VMLINUX_H__
/*
 * The dispatcher's filter hook: it returns 0 and drops @ev by setting
 * ev->drop (an freplace program's return value must be what the program
 * type allows, 0 for a raw tracepoint: the verdict is in the record).  A
 * filter is an freplace program of this function:
 *
 *	SPAN_FILTER_SEC int span_filter(struct span_fv_event *ev) { ... }
 *
 * SPAN_FILTER_SEC is SEC("freplace/span_filter"); the host tests also
 * build each filter straight into a dispatcher (SPANFV_INLINE_FILTER, no
 * section: a global function), for kernels that refuse BPF trampolines.
 */
int span_filter(struct span_fv_event *ev);
#ifdef SPANFV_INLINE_FILTER
#define SPAN_FILTER_SEC
#else
#define SPAN_FILTER_SEC SEC("freplace/span_filter")
#endif
#endif

/* The dispatcher's own accounting (stats map, per CPU; index = enum). */
enum span_fv_stat {
	SPAN_FV_STAT_SEEN,	/* events of this (guest, view) */
	SPAN_FV_STAT_FILTERED,	/* the filter said drop */
	SPAN_FV_STAT_DELIVERED,	/* submitted to the ring */
	SPAN_FV_STAT_DROPPED,	/* the ring was full: lost (a dseq gap) */
	SPAN_FV_STAT_DIRTY_SET,	/* async events that set a clear dirty bit */
	SPAN_FV_STAT_DIRTY_OOB,	/* async events with a gfn beyond the bitmap */
	SPAN_FV_STAT_NR,
};

/*
 * Tracepoint-to-consumer latency, recorded by the consumer (lib/
 * spanevents.c) into the dispatcher's mmapable `delivery` map: the layout
 * of spanmon's struct span_hist (span/hist_layout.h).
 */
struct span_fv_hist {
	__u64 slots[SPAN_HIST_SLOTS];
	__u64 sum_ns;
};

/* Where a dispatcher's maps are pinned: SPAN_FV_PIN_ROOT/<guest>-<view>/. */
#define SPAN_FV_PIN_ROOT	"/sys/fs/bpf/span/fv"

#endif /* __SPAN_SPANFV_EVENT_H */
