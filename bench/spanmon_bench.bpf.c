// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The host benchmark's BPF side for spanmon (bench/spanmon_host.c).
 *
 * spanmon.bpf.c itself, compiled in, plus:
 *  - empty: a raw_tp program that does nothing, the floor of any program
 *    run (what the kernel's run-time statistics cost around it);
 *  - warm: the round of bench_script run again and again inside one
 *    program run (bpf_loop), each event's program body (the same code the
 *    raw_tp programs run, inlined) timed with bpf_ktime_get_ns().  Per
 *    BPF_PROG_TEST_RUN, every program run starts cold on a host whose
 *    system calls flush the TLB; here only the first round does.
 * User space loads only these two; spanmon's own programs are measured
 * from spanmon's object.
 */
#include "spanmon.bpf.c"
#include "spanmon_bench.h"

/* Nanoseconds and runs per enum bench_prog; [BP_NR]: the timer alone. */
__u64 warm_ns[BENCH_SLOTS];
__u64 warm_cnt[BENCH_SLOTS];

SEC("raw_tp")
int BPF_PROG(empty)
{
	return 0;
}

static __always_inline void warm_event(__u32 prog, __u64 vcpu)
{
	struct kvm_vcpu *v = (struct kvm_vcpu *)vcpu;

	switch (prog) {
	case BP_EXIT:
		____kvm_exit(0, v, BENCH_ISA_SVM);
		break;
	case BP_PF:
		____kvm_page_fault(0, v);
		break;
	case BP_ENTRY:
		____kvm_entry(0, v);
		break;
	case BP_NESTED_EXIT:
		____kvm_nested_vmexit(0, v);
		break;
	case BP_NESTED_ENTER:
		____kvm_nested_vmenter(0);
		break;
	case BP_SHADOW_SYNC:
		____span_shadow_sync(0, 1, 2, 0x100, 1, 3, BENCH_REASON_FAULT);
		break;
	}
}

static long warm_one(__u64 i, void *data)
{
	__u32 idx = i % BENCH_SCRIPT_LEN, prog;
	__u64 t0, t1;

	/* Keep the check the verifier needs, which the compiler knows true. */
	asm volatile("" : "+r"(idx));
	if (idx >= BENCH_SCRIPT_LEN)
		return 1;
	prog = bench_script[idx].prog;
	asm volatile("" : "+r"(prog));
	if (prog >= BP_NR)
		return 1;
	fake_running_vcpu = BENCH_VCPU(bench_script[idx].vcpu);
	t0 = bpf_ktime_get_ns();
	warm_event(prog, BENCH_VCPU(bench_script[idx].vcpu));
	t1 = bpf_ktime_get_ns();
	/* The bound again, for the verifier: the calls spilled prog. */
	asm volatile("" : "+r"(prog));
	warm_ns[prog & (BENCH_SLOTS - 1)] += t1 - t0;
	warm_cnt[prog & (BENCH_SLOTS - 1)]++;
	/* The timer's own cost, to subtract. */
	t0 = bpf_ktime_get_ns();
	t1 = bpf_ktime_get_ns();
	warm_ns[BP_NR] += t1 - t0;
	warm_cnt[BP_NR]++;
	return 0;
}

/* @events: a multiple of BENCH_SCRIPT_LEN. */
SEC("raw_tp")
int BPF_PROG(warm, __u64 events)
{
	bpf_loop(events, warm_one, NULL, 0);
	return 0;
}
