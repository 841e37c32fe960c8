/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kernel differences for spanmon.bpf.c, in one place (bcc libbpf-tools
 * habit).  The vendor vCPU structs live in kvm-amd/kvm-intel, which a kernel
 * may lack (this project's host has neither) or build as modules: they are
 * declared here as CO-RE "flavours" (___span), relocated against whichever
 * BTF has them, and guarded by bpf_core_type_exists() so an object built
 * without them still loads everywhere.
 */
#ifndef __SPAN_CORE_FIXES_BPF_H
#define __SPAN_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>
#include "spanmon.h"

/*
 * SVM: the exit code is vmcb->control.exit_code (arch/x86/kvm/svm/svm.h,
 * struct vcpu_svm { struct kvm_vcpu vcpu; struct vmcb *vmcb; ... }).  It is
 * u32 exit_code + u32 exit_code_hi up to 6.12 and may become one u64; the low
 * 32 bits hold the code either way (little endian), so read 32.
 */
struct vmcb_control_area___span {
	__u32 exit_code;
} __attribute__((preserve_access_index));

struct vmcb___span {
	struct vmcb_control_area___span control;
} __attribute__((preserve_access_index));

struct vcpu_svm___span {
	struct kvm_vcpu vcpu;
	struct vmcb___span *vmcb;
} __attribute__((preserve_access_index));

/*
 * VMX: struct vcpu_vmx has held a union vmx_exit_reason exit_reason since
 * "KVM: VMX: Convert vcpu_vmx.exit_reason to a union" (well before 6.12);
 * its low 16 bits are the basic exit reason.
 */
union vmx_exit_reason___span {
	__u32 full;
} __attribute__((preserve_access_index));

struct vcpu_vmx___span {
	struct kvm_vcpu vcpu;
	union vmx_exit_reason___span exit_reason;
} __attribute__((preserve_access_index));

/*
 * Reads through the vcpu pointer: bpf_probe_read_kernel() is a helper call
 * each; bpf_rdonly_cast() (6.2+, inlined away by the verifier since 6.8)
 * makes them plain loads, which the JIT guards like probe reads (a bad
 * pointer reads 0, as on the synthetic vcpus of tests).  The cast takes a
 * type of vmlinux's BTF only, so user space turns each on where the type is
 * built in (spanmon_collect_open()); elsewhere, a KVM built as modules,
 * the probe reads stay.  Dead code of the path not taken is removed at
 * load.
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

const volatile bool direct_vcpu = false;	/* struct kvm_vcpu in vmlinux */
const volatile bool direct_svm = false;		/* struct vcpu_svm in vmlinux */
const volatile bool direct_vmx = false;		/* struct vcpu_vmx in vmlinux */

#define span_cast(ptr, type) \
	((type *)bpf_rdonly_cast((ptr), bpf_core_type_id_kernel(type)))

/*
 * The exit reason of @vcpu as kvm_exit reports it.  Returns the isa it was
 * read for, or SPAN_ISA_UNKNOWN (and *reason = 0) when the vendor struct is
 * absent or the read fails (as with the synthetic pointers of host tests).
 */
static __always_inline __u32 span_exit_reason(struct kvm_vcpu *vcpu, __u32 isa,
					      __u32 *reason)
{
	*reason = 0;
	if (isa == SPAN_ISA_SVM && direct_svm &&
	    bpf_core_type_exists(struct vcpu_svm___span)) {
		struct vcpu_svm___span *svm = span_cast((void *)vcpu -
			bpf_core_field_offset(struct vcpu_svm___span, vcpu),
			struct vcpu_svm___span);
		struct vmcb___span *vmcb = svm->vmcb;

		if (!vmcb)
			return SPAN_ISA_UNKNOWN;
		*reason = vmcb->control.exit_code;
		return SPAN_ISA_SVM;
	}
	if (isa == SPAN_ISA_VMX && direct_vmx &&
	    bpf_core_type_exists(struct vcpu_vmx___span)) {
		struct vcpu_vmx___span *vmx = span_cast((void *)vcpu -
			bpf_core_field_offset(struct vcpu_vmx___span, vcpu),
			struct vcpu_vmx___span);

		*reason = vmx->exit_reason.full & 0xffff;
		return SPAN_ISA_VMX;
	}
	if (isa == SPAN_ISA_SVM && bpf_core_type_exists(struct vcpu_svm___span)) {
		struct vcpu_svm___span *svm = (void *)vcpu -
			bpf_core_field_offset(struct vcpu_svm___span, vcpu);
		struct vmcb___span *vmcb = NULL;

		if (bpf_core_read(&vmcb, sizeof(vmcb), &svm->vmcb) || !vmcb)
			return SPAN_ISA_UNKNOWN;
		if (bpf_core_read(reason, sizeof(*reason), &vmcb->control.exit_code))
			return *reason = 0, SPAN_ISA_UNKNOWN;
		return SPAN_ISA_SVM;
	}
	if (isa == SPAN_ISA_VMX && bpf_core_type_exists(struct vcpu_vmx___span)) {
		struct vcpu_vmx___span *vmx = (void *)vcpu -
			bpf_core_field_offset(struct vcpu_vmx___span, vcpu);
		__u32 full;

		if (bpf_core_read(&full, sizeof(full), &vmx->exit_reason.full))
			return SPAN_ISA_UNKNOWN;
		*reason = full & 0xffff;
		return SPAN_ISA_VMX;
	}
	return SPAN_ISA_UNKNOWN;
}

/* HF_GUEST_MASK (arch/x86/include/asm/kvm_host.h): the vCPU runs L2. */
#define SPAN_HF_GUEST_MASK	(1 << 0)

static __always_inline __u8 span_is_guest_mode(struct kvm_vcpu *vcpu)
{
	__u32 hflags = 0;

	if (direct_vcpu)
		return !!(span_cast(vcpu, struct kvm_vcpu)->arch.hflags & SPAN_HF_GUEST_MASK);
	if (bpf_core_read(&hflags, sizeof(hflags), &vcpu->arch.hflags))
		return 0;
	return !!(hflags & SPAN_HF_GUEST_MASK);
}

static __always_inline __u32 span_vcpu_id(struct kvm_vcpu *vcpu)
{
	int id = 0;

	if (direct_vcpu)
		return span_cast(vcpu, struct kvm_vcpu)->vcpu_id;
	if (bpf_core_read(&id, sizeof(id), &vcpu->vcpu_id))
		return 0;
	return id;
}

/*
 * The VM (struct kvm *) @vcpu belongs to, as a number: with the vcpu
 * pointer it tells a vCPU from a later one that the allocator put at the
 * same address (the VM destroyed and another made, as state_test does at
 * every stage).  vcpu->kvm is the first field, in the cache line of
 * vcpu_id.  0 when the read fails (the synthetic vcpus of tests).
 */
static __always_inline __u64 span_vcpu_vm(struct kvm_vcpu *vcpu)
{
	struct kvm *kvm = NULL;

	if (direct_vcpu)
		return (__u64)span_cast(vcpu, struct kvm_vcpu)->kvm;
	if (bpf_core_read(&kvm, sizeof(kvm), &vcpu->kvm))
		return 0;
	return (__u64)kvm;
}

/*
 * The vCPU the current thread runs, for tracepoints without a vcpu argument
 * that fire inside KVM_RUN (span ops on the fault path, 6.12's
 * kvm_nested_vmenter).  vcpu_load() registers the vCPU's preempt notifier
 * on its thread (hlist_add_head, so the newest is first) until vcpu_put():
 * current->preempt_notifiers.first is &vcpu->preempt_notifier.  Both fields
 * have been there since KVM selected CONFIG_PREEMPT_NOTIFIERS (2.6.23).
 * Returns 0 when unknown (a thread that is not running a vCPU reads NULL).
 */
static __always_inline __u64 span_running_vcpu(void)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	__u64 first = 0;

	if (!bpf_core_field_exists(task->preempt_notifiers) ||
	    !bpf_core_field_exists(struct kvm_vcpu, preempt_notifier))
		return 0;
	if (bpf_core_read(&first, sizeof(first), &task->preempt_notifiers.first) || !first)
		return 0;
	return first - bpf_core_field_offset(struct kvm_vcpu, preempt_notifier);
}

#endif /* __SPAN_CORE_FIXES_BPF_H */
