/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Shared between spanmon.bpf.c and spanmon/ (user space). */
#ifndef __SPAN_SPANMON_H
#define __SPAN_SPANMON_H

/* Log-linear histograms of nanoseconds: SPAN_HIST_SLOTS, in hist_layout.h. */
#include "span/hist_layout.h"

#define SPANMON_MAX_SERIES	4096	/* hists: (kind, VM, vCPU, reason); 3.7 KiB each */
#define SPANMON_SERIES_CACHE	4	/* exit series a vCPU remembers */
#define SPANMON_MAX_VMS		256	/* vms: VMM processes seen */
#define SPANMON_MAX_OP_COUNTS	4096	/* op_counts: (VM, op, reason) */
/*
 * vCPU state: a set-associative table of 2^SPANMON_VCPU_SET_BITS sets of
 * SPANMON_VCPU_WAYS vCPUs (4096), a vCPU's set chosen by its pointer.
 */
#define SPANMON_VCPU_SET_BITS	9
#define SPANMON_VCPU_WAYS	8
/*
 * A vCPU whose last exit or fault is this old may lose its slot to a new
 * vCPU of its set (a destroyed one's never comes back); younger ones keep
 * it, and a new vCPU finding none that old is a counted drop.
 */
#define SPANMON_INFLIGHT_MAX_AGE_NS	(60ull * 1000000000ull)
#define SPANMON_COMM_LEN	16

/* What a histogram measures. */
enum span_kind {
	SPAN_KIND_EXIT = 1,	/* kvm_exit -> kvm_entry, same vCPU */
	SPAN_KIND_PF,		/* kvm_page_fault -> kvm_entry, same vCPU */
	SPAN_KIND_NESTED,	/* kvm_nested_vmexit -> kvm_nested_vmenter, same thread */
	SPAN_KIND_OP,		/* span op, same thread: *_start -> attach/detach,
				 * shadow_sync/view_fault -> kvm_entry */
	SPAN_KIND_MEM_REPLY,	/* span_mem_reply's wait_ns: a memory event's reply
				 * (key: reason = guest id, sub = view) */
	SPAN_KIND_MAX,
};

/* Span operations (issue 3's span:* tracepoints), the key's sub field. */
enum span_op {
	SPAN_OP_ATTACH,
	SPAN_OP_DETACH,
	SPAN_OP_SHADOW_SYNC,
	SPAN_OP_VIEW_FAULT,
	SPAN_OP_SET_ACCESS,	/* counted only: a view's access mask changed */
	SPAN_OP_NR,
};

/*
 * The span tracepoints' reason argument (kvm-patches 0001, span.h
 * SPAN_REASON_*).  Where each fires: ioctl and restrict on the VMM thread
 * of an ioctl, release where the L1 is destroyed, fault, remap, readonly
 * and denied on a vCPU thread handling an L2 fault, zap on detach's thread.
 */
enum span_reason {
	SPAN_REASON_IOCTL,	/* KVM_SPAN_ATTACH, KVM_SPAN_DETACH, KVM_SPAN_SET_ACCESS */
	SPAN_REASON_RELEASE,	/* the L1 VM was destroyed */
	SPAN_REASON_FAULT,	/* shadow entry built on a nested fault */
	SPAN_REASON_ZAP,	/* shadow entries of a window zapped (detach) */
	SPAN_REASON_REMAP,	/* L1 NPT/EPT breaks the co-mapping */
	SPAN_REASON_READONLY,	/* write through a read-only view */
	SPAN_REASON_DENIED,	/* access refused: another view restricted the frame */
	SPAN_REASON_RESTRICT,	/* views zapped by KVM_SPAN_SET_ACCESS */
	SPAN_REASON_UNKNOWN,	/* any other value: a kernel newer than spanmon */
	SPAN_REASON_NR,
};

/* The kvm_exit tracepoint's isa argument (KVM_ISA_VMX, KVM_ISA_SVM). */
enum span_isa {
	SPAN_ISA_UNKNOWN = 0,	/* the exit reason could not be read */
	SPAN_ISA_VMX = 1,
	SPAN_ISA_SVM = 2,
};

/* Where an event was lost: the index into the drops map. */
enum span_drop {
	SPAN_DROP_HISTS,	/* hists full: a new series */
	SPAN_DROP_VMS,		/* vms full: a new VMM (its series still count) */
	SPAN_DROP_INFLIGHT,	/* an in-flight map full: an exit/fault/op */
	SPAN_DROP_OPS,		/* op_counts full: a span event not counted */
	SPAN_DROP_EVICTED,	/* a vCPU's pending exit/fault lost its slot */
	SPAN_DROP_NR,
};
/* The drops map's size: room for new kinds without a pinned-map change. */
#define SPAN_DROP_MAX		16

struct span_hist_key {
	__u32 kind;	/* enum span_kind */
	__u32 tgid;	/* the VMM process; user space makes a label of it */
	__u32 vcpu;	/* vcpu->vcpu_id for exits, else 0 */
	__u32 reason;	/* exit reason for exits, else 0 */
	__u32 isa;	/* enum span_isa for exits, else 0 */
	__u32 sub;	/* page faults: nested (0/1); ops: enum span_op */
};

struct span_hist {
	__u64 slots[SPAN_HIST_SLOTS];
	__u64 sum_ns;
};

/*
 * A histogram is found by its key in hist_index, which gives its index in
 * the hists array; a vCPU remembers the indexes of its series, so the
 * common kvm_entry indexes an array (inlined) and hashes nothing.
 */
struct span_series_cache {
	__u32 reason;	/* the exit reason and isa this entry is for */
	__u16 isa;
	__u16 valid;
	__u32 idx;	/* index in hists */
};

/* One VMM process, recorded when its first series is made. */
struct span_vm {
	char comm[SPANMON_COMM_LEN];
	__u64 first_ns;	/* bpf_ktime_get_ns() then: orders VMs of one comm */
};

/* Span events counted per VM, operation and reason (pinned op_counts). */
struct span_op_key {
	__u32 tgid;	/* the thread's process (the VMM) */
	__u16 op;	/* enum span_op */
	__u16 reason;	/* enum span_reason */
};

struct span_op_count {
	__u64 events;		/* tracepoint hits (attach/detach: their ends) */
	__u64 npages;		/* their npages argument, summed */
	__u64 abandoned;	/* timed ops that never ended: replaced by the
				 * thread's next start (a failed ioctl) or op */
	__u64 unstarted;	/* ends whose start was not seen: not timed */
};

/*
 * Per vCPU: what awaits its kvm_entry (an exit, a page fault, a span op on
 * its fault path) or its L1's next VMRUN (an L2 exit).  Kept after the
 * entry (consumed: those pending bits cleared) and reused by the vCPU's
 * next exit.
 */
struct span_vcpu_inflight {
	__u64 exit_ns;	/* pending & SPAN_PENDING_EXIT: when it exited */
	__u64 pf_ns;	/* pending & SPAN_PENDING_PF: when it faulted */
	__u64 op_ns;	/* pending & SPAN_PENDING_OP: when the span op fired */
	__u64 nested_ns; /* pending & SPAN_PENDING_NESTED: its last L2 exit */
	__u64 last_ns;	/* the vCPU's last exit or fault */
	__u64 vm;	/* its struct kvm *: a vCPU at a freed one's address is
			 * another if its VM differs (span_vcpu_vm()) */
	__u32 tgid;
	__u32 vcpu;
	__u32 reason;
	__u8 isa;
	__u8 pf_nested;
	__u8 pending;	/* SPAN_PENDING_* */
	__u8 op;	/* enum span_op of the pending op */
	__u8 op_reason;	/* its enum span_reason */
	__u8 pad[3];
	/* Series indexes for (tgid, vcpu) as above (+ 1; 0: not known yet),
	 * reset when those change. */
	__u32 nested_series;
	__u32 pf_series[2];	/* not nested, nested */
	struct span_series_cache series[SPANMON_SERIES_CACHE];	/* exits, by reason */
};

#define SPAN_PENDING_EXIT	(1 << 0)
#define SPAN_PENDING_PF		(1 << 1)
#define SPAN_PENDING_OP		(1 << 2)
#define SPAN_PENDING_NESTED	(1 << 3)
/* What kvm_entry ends (a nested exit ends at L1's VMRUN instead). */
#define SPAN_PENDING_ENTRY	(SPAN_PENDING_EXIT | SPAN_PENDING_PF | SPAN_PENDING_OP)

/* One set of vCPUs: their keys together, so a lookup reads one line. */
struct span_vcpu_set {
	__u64 vcpu[SPANMON_VCPU_WAYS];	/* struct kvm_vcpu *; 0: free */
	struct span_vcpu_inflight in[SPANMON_VCPU_WAYS];
};

/*
 * Per thread (task storage, freed with the thread): an attach or detach
 * start awaiting its end.  Attach and detach are VM ioctls of a VMM thread
 * that need not run a vCPU.
 */
struct span_thread {
	__u64 ioctl_ns;
	__u16 ioctl_op;		/* enum span_op of the start */
	__u16 ioctl_reason;	/* its enum span_reason */
	__u8 pending;		/* the start is pending */
	__u8 pad[3];
};

#endif /* __SPAN_SPANMON_H */
