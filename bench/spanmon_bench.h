/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The host benchmark's synthetic workload (bench/spanmon_host.c and its BPF
 * drivers): one round of KVM events, as the tracepoints would fire them on
 * a host running four vCPUs, one of them in L2.
 */
#ifndef __SPAN_SPANMON_BENCH_H
#define __SPAN_SPANMON_BENCH_H

/* Which program an event runs (spanmon's; kvmexits' where it has one). */
enum bench_prog {
	BP_EXIT,		/* kvm_exit(vcpu, SVM) */
	BP_PF,			/* kvm_page_fault(vcpu) */
	BP_ENTRY,		/* kvm_entry(vcpu) */
	BP_NESTED_EXIT,		/* kvm_nested_vmexit(vcpu, SVM) */
	BP_NESTED_ENTER,	/* kvm_nested_vmenter() */
	BP_SHADOW_SYNC,		/* span_shadow_sync(..., reason fault) */
	BP_NR,
};

/* The drivers' per-program counters: BP_NR of them, the timer's, a power of 2. */
#define BENCH_SLOTS	8

struct bench_event {
	unsigned char prog;	/* enum bench_prog */
	unsigned char vcpu;	/* 0..BENCH_VCPUS-1 */
};

#define BENCH_VCPUS	4
/* Synthetic vcpu pointers: never dereferenced (reads through them give 0). */
#define BENCH_VCPU(i)	(0x7f0000100000ull + (unsigned long long)(i) * 0x3000)
#define BENCH_ISA_SVM	2
#define BENCH_REASON_FAULT 2

/*
 * One round: 7 exits and their entries, 2 page faults, an L2 exit
 * reflected to L1 and L1's VMRUN back into L2, and a nested fault whose
 * shadow sync is timed to the entry (a span kernel).
 */
static const struct bench_event bench_script[] = {
	/* Four vCPUs exit, one takes a page fault, all re-enter. */
	{ BP_EXIT, 0 }, { BP_EXIT, 1 }, { BP_EXIT, 2 }, { BP_EXIT, 3 },
	{ BP_PF, 0 },
	{ BP_ENTRY, 0 }, { BP_ENTRY, 1 }, { BP_ENTRY, 2 }, { BP_ENTRY, 3 },
	/* vCPU 1 runs L2: an exit reflected to L1, then L1's VMRUN. */
	{ BP_EXIT, 1 }, { BP_NESTED_EXIT, 1 }, { BP_ENTRY, 1 },
	{ BP_EXIT, 1 }, { BP_NESTED_ENTER, 1 }, { BP_ENTRY, 1 },
	/* vCPU 2: an L2 fault on a span view, synced into the shadow NPT. */
	{ BP_EXIT, 2 }, { BP_PF, 2 }, { BP_SHADOW_SYNC, 2 }, { BP_ENTRY, 2 },
};

#define BENCH_SCRIPT_LEN (sizeof(bench_script) / sizeof(bench_script[0]))

#endif /* __SPAN_SPANMON_BENCH_H */
