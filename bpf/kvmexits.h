/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Shared between kvmexits.bpf.c and kvmexits.c. */
#ifndef __SPAN_KVMEXITS_H
#define __SPAN_KVMEXITS_H

#define KVMEXITS_MAX_PROCS	1024
#define KVMEXITS_COMM_LEN	16

/* Per-process (VMM) exit counts, keyed by the vCPU thread's tgid. */
struct kvmexits_val {
	__u64 exits;		/* kvm:kvm_exit */
	__u64 nested_exits;	/* kvm:kvm_nested_vmexit (L2 exits seen by L0) */
	__u64 nested_entries;	/* kvm:kvm_nested_vmenter (L1 VMRUN/VMLAUNCH) */
	__u32 max_vcpu_id;	/* highest vcpu_id seen, read through CO-RE */
	__u32 pad;
	char comm[KVMEXITS_COMM_LEN];
};

#endif /* __SPAN_KVMEXITS_H */
