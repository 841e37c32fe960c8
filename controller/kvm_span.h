/* SPDX-License-Identifier: GPL-2.0 */
/*
 * <linux/kvm.h> with the span uAPI (kvm-patches/0001, 0003; documented in
 * 0007).  Built against the lab kernel's installed headers the real
 * definitions are used; against a distribution's header, which predates
 * span, the same ABI is declared here, and the sizes are checked so the two
 * can never disagree silently.
 */
#ifndef __SPANCTL_KVM_SPAN_H
#define __SPANCTL_KVM_SPAN_H

#include <linux/kvm.h>

#ifndef KVM_CAP_SPAN
#define KVM_CAP_SPAN 239

#define KVM_SPAN_ATTACH_READONLY	(1U << 0)

struct kvm_span_attach {
	__u32 span_fd;
	__u32 flags;
	__u64 window_gpa;
	__u64 guest_gpa;
	__u64 size;
	__u64 reserved[4];
};

struct kvm_span_detach {
	__u32 span_fd;
	__u32 flags;
	__u64 reserved[3];
};

#define KVM_SPAN_ATTACH		_IOW(KVMIO, 0xd6, struct kvm_span_attach)
#define KVM_SPAN_DETACH		_IOW(KVMIO, 0xd7, struct kvm_span_detach)
#endif

_Static_assert(KVM_CAP_SPAN == 239, "KVM_CAP_SPAN moved");
_Static_assert(sizeof(struct kvm_span_attach) == 64, "struct kvm_span_attach changed");
_Static_assert(sizeof(struct kvm_span_detach) == 32, "struct kvm_span_detach changed");

#endif /* __SPANCTL_KVM_SPAN_H */
