// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The host benchmark's reference (bench/spanmon_host.c): kvmexits, one
 * hash-map counter per exit.  Its programs are tp_btf, which
 * BPF_PROG_TEST_RUN cannot run; these raw_tp programs run the very same
 * bodies (kvmexits.bpf.c compiled in), and warm runs them on bench_script
 * inside one program run, as bench/spanmon_bench.bpf.c does for spanmon.
 */
#include "kvmexits.bpf.c"
#include "spanmon_bench.h"

__u64 warm_ns[BENCH_SLOTS];
__u64 warm_cnt[BENCH_SLOTS];

SEC("raw_tp")
int BPF_PROG(kx_exit, struct kvm_vcpu *vcpu)
{
	return ____kvm_exit(ctx, vcpu);
}

SEC("raw_tp")
int BPF_PROG(kx_nested_exit, struct kvm_vcpu *vcpu)
{
	return ____kvm_nested_vmexit(ctx, vcpu);
}

SEC("raw_tp")
int BPF_PROG(kx_nested_enter)
{
	return ____kvm_nested_vmenter(ctx);
}

static long warm_one(__u64 i, void *data)
{
	__u32 idx = i % BENCH_SCRIPT_LEN, prog;
	struct kvm_vcpu *v;
	__u64 t0, t1;

	/* Keep the check the verifier needs, which the compiler knows true. */
	asm volatile("" : "+r"(idx));
	if (idx >= BENCH_SCRIPT_LEN)
		return 1;
	prog = bench_script[idx].prog;
	asm volatile("" : "+r"(prog));
	if (prog >= BP_NR)
		return 1;
	v = (struct kvm_vcpu *)BENCH_VCPU(bench_script[idx].vcpu);
	t0 = bpf_ktime_get_ns();
	if (prog == BP_EXIT)
		____kvm_exit(0, v);
	else if (prog == BP_NESTED_EXIT)
		____kvm_nested_vmexit(0, v);
	else if (prog == BP_NESTED_ENTER)
		____kvm_nested_vmenter(0);
	t1 = bpf_ktime_get_ns();
	/* The bound again, for the verifier: the calls spilled prog. */
	asm volatile("" : "+r"(prog));
	warm_ns[prog & (BENCH_SLOTS - 1)] += t1 - t0;
	warm_cnt[prog & (BENCH_SLOTS - 1)]++;
	t0 = bpf_ktime_get_ns();
	t1 = bpf_ktime_get_ns();
	warm_ns[BP_NR] += t1 - t0;
	warm_cnt[BP_NR]++;
	return 0;
}

SEC("raw_tp")
int BPF_PROG(kx_warm, __u64 events)
{
	bpf_loop(events, warm_one, NULL, 0);
	return 0;
}
