// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * kvmexits: count VM exits per VMM process, nested ones apart.
 *
 * tp_btf programs on the stock kvm:kvm_exit, kvm:kvm_nested_vmexit and
 * kvm:kvm_nested_vmenter tracepoints.  The vcpu argument is a typed kernel
 * pointer; reading vcpu_id through it is relocated with CO-RE against the
 * running kernel's BTF, so one object serves any kernel with KVM and BTF.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kvmexits.h"

const volatile __u32 targ_tgid = 0;	/* 0: every process */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KVMEXITS_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct kvmexits_val);
} counts SEC(".maps");

/* Exits lost because the counts map was full: reported, never silent. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} dropped SEC(".maps");

enum kind { EXIT, NESTED_EXIT, NESTED_ENTRY };

static __always_inline int count(struct kvm_vcpu *vcpu, enum kind kind)
{
	static const struct kvmexits_val zero;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct kvmexits_val *v;
	__u32 id;

	if (targ_tgid && tgid != targ_tgid)
		return 0;

	v = bpf_map_lookup_elem(&counts, &tgid);
	if (!v) {
		bpf_map_update_elem(&counts, &tgid, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&counts, &tgid);
		if (!v) {
			__u32 k = 0;
			__u64 *d = bpf_map_lookup_elem(&dropped, &k);

			if (d)
				__sync_fetch_and_add(d, 1);
			return 0;
		}
		bpf_get_current_comm(v->comm, sizeof(v->comm));
	}

	switch (kind) {
	case EXIT:
		__sync_fetch_and_add(&v->exits, 1);
		break;
	case NESTED_EXIT:
		__sync_fetch_and_add(&v->nested_exits, 1);
		break;
	case NESTED_ENTRY:
		__sync_fetch_and_add(&v->nested_entries, 1);
		break;
	}
	if (vcpu) {
		id = BPF_CORE_READ(vcpu, vcpu_id);
		if (id > v->max_vcpu_id)
			v->max_vcpu_id = id;
	}
	return 0;
}

SEC("tp_btf/kvm_exit")
int BPF_PROG(kvm_exit, struct kvm_vcpu *vcpu)
{
	return count(vcpu, EXIT);
}

SEC("tp_btf/kvm_nested_vmexit")
int BPF_PROG(kvm_nested_vmexit, struct kvm_vcpu *vcpu)
{
	return count(vcpu, NESTED_EXIT);
}

SEC("tp_btf/kvm_nested_vmenter")
int BPF_PROG(kvm_nested_vmenter)
{
	/* Its first argument is the L2 RIP, not a vcpu: 6.12 has no vcpu here. */
	return count(NULL, NESTED_ENTRY);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
