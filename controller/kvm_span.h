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

#define KVM_SPAN_ACCESS_READ	(1U << 0)
#define KVM_SPAN_ACCESS_WRITE	(1U << 1)
#define KVM_SPAN_ACCESS_EXEC	(1U << 2)

struct kvm_span_access {
	__u32 span_fd;
	__u32 flags;
	__u64 guest_gpa;
	__u64 size;
	__u32 access;
	__u32 pad;
	__u64 reserved[4];
};

#define KVM_SPAN_SET_ACCESS	_IOW(KVMIO, 0xd8, struct kvm_span_access)
#endif

/* Access restrictions (kvm-patches/0003). */
#ifndef KVM_SPAN_SET_ACCESS
#define KVM_SPAN_ACCESS_READ	(1U << 0)
#define KVM_SPAN_ACCESS_WRITE	(1U << 1)
#define KVM_SPAN_ACCESS_EXEC	(1U << 2)
#define KVM_SPAN_ACCESS_ALL	(KVM_SPAN_ACCESS_READ | KVM_SPAN_ACCESS_WRITE | \
				 KVM_SPAN_ACCESS_EXEC)

struct kvm_span_access {
	__u32 span_fd;
	__u32 flags;
	__u64 guest_gpa;
	__u64 size;
	__u32 access;
	__u32 pad;
	__u64 reserved[4];
};

#define KVM_SPAN_SET_ACCESS	_IOW(KVMIO, 0xd8, struct kvm_span_access)
#endif

/*
 * Memory events (kvm-patches/0016, /work/notes/events-spec.md): a view's
 * subscription, its index and the guest's id in span tracepoints; replies
 * to synchronous events.  Headers of a span kernel before 0016 lack them.
 */
#ifndef KVM_SPAN_GET_ACCESS
#define KVM_SPAN_ACCESS_SUBSCRIBE	(1U << 0)
#define KVM_SPAN_ACCESS_NOTIFY		(1U << 1)

#define KVM_SPAN_GET_SUBSCRIBED		(1U << 4)
#define KVM_SPAN_GET_NOTIFY		(1U << 5)

struct kvm_span_access_get {
	__u32 span_fd;
	__u32 flags;
	__u64 guest_gpa;
	__u64 size;
	__u64 entries;		/* user pointer: size >> 12 bytes */
	__u32 view;		/* out: this view's index in the guest, 0 = span0 */
	__u32 guest_id;		/* out: the guest's id in span tracepoints */
	__u64 reserved[3];
};

#define KVM_SPAN_REPLY_ALLOW		0
#define KVM_SPAN_REPLY_UNSUBSCRIBE	1
#define KVM_SPAN_REPLY_DENY		2

struct kvm_span_reply {
	__u32 span_fd;
	__u32 vcpu_id;
	__u64 seq;
	__u32 action;
	__u32 flags;
	__u64 reserved[5];
};

#define KVM_SPAN_GET_ACCESS	_IOWR(KVMIO, 0xd9, struct kvm_span_access_get)
#define KVM_SPAN_REPLY		_IOW(KVMIO, 0xda, struct kvm_span_reply)
#endif

_Static_assert(KVM_CAP_SPAN == 239, "KVM_CAP_SPAN moved");
_Static_assert(sizeof(struct kvm_span_access) == 64, "struct kvm_span_access changed");
_Static_assert(sizeof(struct kvm_span_access_get) == 64, "struct kvm_span_access_get changed");
_Static_assert(sizeof(struct kvm_span_reply) == 64, "struct kvm_span_reply changed");
_Static_assert(sizeof(struct kvm_span_attach) == 64, "struct kvm_span_attach changed");
_Static_assert(sizeof(struct kvm_span_detach) == 32, "struct kvm_span_detach changed");
_Static_assert(sizeof(struct kvm_span_access) == 64, "struct kvm_span_access changed");

#endif /* __SPANCTL_KVM_SPAN_H */
