/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A featurevisor's event area: what its L1 and the controller share, so
 * that memory events reach the featurevisor program with no driver in the
 * L1 (controller/pci.h has the device; controller/fv/libspanfv.c the L1's
 * side; controller/controller.c the controller's).
 *
 * The window device's BAR0 is a doorbell: a 32-bit write to SPANFV_REG_DOORBELL
 * exits to the controller (KVM_EXIT_MMIO on the L1's own vCPU thread), which
 * carries out the request in the request page and writes its result there
 * before the write completes.  BAR4 (64-bit) is the event area, memslots of
 * the L1 mapped by the controller at attach and removed at detach:
 *
 *   info     read-only: layout, the view's ids, the guest's pause count
 *   request  read-write: one request at a time, and its result
 *   ring     the dispatcher's BPF ring buffer itself (zero-copy):
 *              consumer page read-write, producer page and the data pages
 *              (mapped twice, as the kernel maps them) read-only
 *   dirty    the dispatcher's dirty bitmap (one bit per guest page), read-write:
 *            the L1 harvests it with atomic exchanges, word by word
 *
 * The L1 is untrusted: the controller copies a request before looking at
 * it, checks every field, acts only on its own featurevisor's view (the
 * ioctls go to that L1's VM fd), and answers anything else with an errno.
 */
#ifndef __SPAN_SPANFV_AREA_H
#define __SPAN_SPANFV_AREA_H

#include <linux/types.h>

#define SPANFV_AREA_MAGIC	0x4e565053	/* "SPVN" */
#define SPANFV_AREA_VERSION	1

/* BAR0 registers (32-bit accesses). */
#define SPANFV_REGS_SIZE	4096
#define SPANFV_REG_DOORBELL	0x0	/* write SPANFV_DOORBELL_GO: do the request */
#define SPANFV_REG_RESULT	0x4	/* read: the last request's result (-errno) */
#define SPANFV_DOORBELL_GO	0x5350414e
/*
 * The featurevisor's watchdog: writing N to SPANFV_REG_WATCHDOG arms it
 * (N ms, at most SPANFV_WATCHDOG_MAX_MS; 0 disarms; reads give N), and
 * any write to SPANFV_REG_HEARTBEAT says the featurevisor is alive.  An
 * armed featurevisor attached with no heartbeat for N ms is hung: the
 * controller detaches it (spanctl status: "hung"), and the guest goes on.
 */
#define SPANFV_REG_WATCHDOG	0x8
#define SPANFV_REG_HEARTBEAT	0xc
#define SPANFV_WATCHDOG_MAX_MS	600000

/* Offsets in BAR4; the info page says them too (trust it, not these). */
#define SPANFV_AREA_INFO	0x0
#define SPANFV_AREA_REQ		0x1000
#define SPANFV_AREA_REQ_SIZE	0x4000
#define SPANFV_AREA_RING	0x5000	/* consumer page; producer page + data follow */

struct spanfv_area_info {
	__u32 magic;		/* SPANFV_AREA_MAGIC once attached */
	__u32 version;
	__u32 generation;	/* +1 at every attach: a new ring and bitmap */
	__u32 attached;		/* 0 once detached */
	__u64 guest_bytes;	/* the guest's memory: gfns 0 .. guest_bytes >> 12 */
	__u32 guest_id, view;	/* KVM_SPAN_GET_ACCESS's */
	__u64 ring_cons;	/* the ring's consumer page (offset in BAR4) */
	__u64 ring_prod;	/* its producer page; data from ring_prod + 4096 */
	__u64 ring_size;	/* data bytes (a power of two), mapped twice */
	__u64 dirty;		/* the dirty bitmap */
	__u64 dirty_words;	/* u64 words in it */
	__u32 paused;		/* the guest's vCPUs are stopped (spanctl pause) */
	__u32 pause_count;	/* +1 at every pause */
	__u64 reserved[6];
};

enum spanfv_op {
	SPANFV_OP_NOP = 0,
	/* ranges[0..nr): KVM_SPAN_SET_ACCESS each (flags SUBSCRIBE, NOTIFY or 0) */
	SPANFV_OP_SET_ACCESS = 1,
	/* KVM_SPAN_REPLY(vcpu, seq, action) */
	SPANFV_OP_REPLY = 2,
	SPANFV_OP_NR,
};

/* KVM_SPAN_SET_ACCESS's flags and access bits, as the kernel has them. */
#define SPANFV_SUBSCRIBE	(1U << 0)
#define SPANFV_NOTIFY		(1U << 1)
#define SPANFV_ACCESS_R		1
#define SPANFV_ACCESS_W		2
#define SPANFV_ACCESS_X		4
#define SPANFV_REPLY_ALLOW	0
#define SPANFV_REPLY_UNSUBSCRIBE 1
#define SPANFV_REPLY_DENY	2

struct spanfv_range {
	__u64 gpa;		/* page aligned, inside the guest */
	__u64 size;		/* page aligned, > 0 */
	__u32 access;		/* SPANFV_ACCESS_*: what the view allows */
	__u32 flags;		/* SPANFV_SUBSCRIBE, SPANFV_NOTIFY or 0 (lift) */
};

struct spanfv_request {
	/* Written by the L1. */
	__u32 op;		/* enum spanfv_op */
	__u32 nr;		/* SET_ACCESS: ranges */
	__u32 vcpu;		/* REPLY */
	__u32 action;		/* REPLY: SPANFV_REPLY_* */
	__u64 seq;		/* REPLY */
	__u64 tag;		/* echoed in done_tag */
	/* Written by the controller before the doorbell write completes. */
	__s32 result;		/* 0 or -errno */
	__u32 done;		/* ranges done (SET_ACCESS) */
	__u64 done_tag;
	/* The dispatcher's counters after the request (enum span_fv_stat). */
	__u64 stats[8];
	__u64 reserved[2];
	struct spanfv_range ranges[];
};

#define SPANFV_REQ_MAX_RANGES \
	((SPANFV_AREA_REQ_SIZE - sizeof(struct spanfv_request)) / sizeof(struct spanfv_range))

_Static_assert(sizeof(struct spanfv_area_info) <= 4096, "info page");
_Static_assert(sizeof(struct spanfv_request) == 128, "request header");
_Static_assert(sizeof(struct spanfv_range) == 24, "range");

#endif /* __SPAN_SPANFV_AREA_H */
