// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * spanmon: log2 latency histograms of KVM and span operations.
 *
 * raw_tp programs (not tp_btf): BPF_PROG_TEST_RUN runs raw_tp programs, so
 * the host tests drive exactly the programs production attaches.  Arguments
 * are plain u64s; everything read through the vcpu pointer goes through
 * CO-RE probe reads (core_fixes.bpf.h), which fail safely on the synthetic
 * pointers of tests.  Pairing keys on the pointer value, never dereferenced.
 *
 *   exit     kvm_exit(vcpu, isa)          -> kvm_entry of the same vcpu
 *   pf       kvm_page_fault(vcpu, ...)    -> kvm_entry of the same vcpu
 *   nested   kvm_nested_vmexit(vcpu, isa) -> kvm_nested_vmenter, same thread
 *            (6.12's kvm_nested_vmenter has no vcpu argument)
 *   op       span_attach_start            -> span_attach, same thread
 *            span_detach_start            -> span_detach, same thread
 *            span_shadow_sync, span_view_fault -> kvm_entry, same thread
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "spanmon.h"
#include "core_fixes.bpf.h"

#define E2BIG 7

/* Tests run on a clock they set, so that deltas are exact. */
const volatile bool use_fake_clock = false;
/* Set by user space when any span:* tracepoint exists (or in tests). */
const volatile bool have_span_ops = false;
__u64 fake_clock_ns = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SPANMON_MAX_SERIES);
	__type(key, struct span_hist_key);
	__type(value, struct span_hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SPANMON_MAX_VMS);
	__type(key, __u32);
	__type(value, struct span_vm);
} vms SEC(".maps");

/* Events lost, by enum span_drop: counted, never silent. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SPAN_DROP_NR);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/*
 * One entry per vCPU seen, updated in place and never deleted by the
 * programs: a hash update (bucket lock, element swap) and a delete on every
 * exit cost more than everything else spanmon does per exit, more still on
 * a lockdep kernel.  kvm_entry marks the entry consumed (exit_ns = 0).
 * Entries of vCPUs gone quiet (destroyed) are pruned by user space
 * (spanmon_inflight_prune(), on every snapshot); a new vCPU finding the map
 * full is a counted drop.  No prealloc: an element user space deletes while
 * a program writes into it stays valid memory until an RCU grace period.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SPANMON_MAX_INFLIGHT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);	/* struct kvm_vcpu * */
	__type(value, struct span_vcpu_inflight);
} vcpu_inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SPANMON_MAX_INFLIGHT);
	__type(key, __u64);	/* pid_tgid */
	__type(value, struct span_thread_inflight);
} nested_inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SPANMON_MAX_INFLIGHT);
	__type(key, __u64);	/* pid_tgid */
	__type(value, struct span_thread_inflight);
} op_inflight SEC(".maps");

/*
 * Attach and detach are VM ioctls of a VMM thread that need not run a vCPU:
 * timed from their start to their end, both in that thread.  A map of its
 * own, as detach's span_shadow_sync (zap) fires in between.  A start whose
 * ioctl fails has no end: the thread's next start overwrites it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SPANMON_MAX_INFLIGHT);
	__type(key, __u64);	/* pid_tgid */
	__type(value, struct span_thread_inflight);
} ioctl_inflight SEC(".maps");

static const struct span_hist zero_hist;

static __always_inline __u64 now_ns(void)
{
	return use_fake_clock ? fake_clock_ns : bpf_ktime_get_ns();
}

static __always_inline void drop(__u32 what)
{
	__u64 *d = bpf_map_lookup_elem(&drops, &what);

	if (d)
		__sync_fetch_and_add(d, 1);
}

/* bcc libbpf-tools bits.bpf.h */
static __always_inline __u64 log2_u32(__u32 v)
{
	__u32 shift, r;

	r = (v > 0xFFFF) << 4; v >>= r;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline __u64 log2l(__u64 v)
{
	__u32 hi = v >> 32;

	return hi ? log2_u32(hi) + 32 : log2_u32(v);
}

static __always_inline void note_vm(__u32 tgid)
{
	struct span_vm vm = {};

	if (bpf_map_lookup_elem(&vms, &tgid))
		return;
	bpf_get_current_comm(vm.comm, sizeof(vm.comm));
	vm.first_ns = bpf_ktime_get_ns();
	/* -EEXIST is a racing CPU that did it first: fine. */
	if (bpf_map_update_elem(&vms, &tgid, &vm, BPF_NOEXIST) == -E2BIG)
		drop(SPAN_DROP_VMS);
}

static __always_inline void hist_add(struct span_hist_key *key, __u64 delta)
{
	struct span_hist *h;
	__u64 slot;

	h = bpf_map_lookup_elem(&hists, key);
	if (!h) {
		/* A new series: rare, so the VM's name is recorded here. */
		note_vm(key->tgid);
		bpf_map_update_elem(&hists, key, &zero_hist, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, key);
		if (!h) {
			drop(SPAN_DROP_HISTS);
			return;
		}
	}
	slot = log2l(delta);
	if (slot >= SPAN_HIST_SLOTS)
		slot = SPAN_HIST_SLOTS - 1;
	__sync_fetch_and_add(&h->slots[slot], 1);
	__sync_fetch_and_add(&h->sum_ns, delta);
}

static const struct span_vcpu_inflight zero_inflight;

/* @vcpu's in-flight entry, made on its first exit or fault; NULL: map full. */
static __always_inline struct span_vcpu_inflight *inflight_of(__u64 *key)
{
	struct span_vcpu_inflight *in;

	in = bpf_map_lookup_elem(&vcpu_inflight, key);
	if (in)
		return in;
	/* Only this vCPU's thread makes its entry: no race to lose. */
	bpf_map_update_elem(&vcpu_inflight, key, &zero_inflight, BPF_NOEXIST);
	in = bpf_map_lookup_elem(&vcpu_inflight, key);
	if (!in)
		drop(SPAN_DROP_INFLIGHT);
	return in;
}

SEC("raw_tp/kvm_exit")
int BPF_PROG(kvm_exit, struct kvm_vcpu *vcpu, __u32 isa)
{
	__u64 key = (__u64)vcpu, t = now_ns();
	struct span_vcpu_inflight *in = inflight_of(&key);
	__u32 reason;

	if (!in)
		return 0;
	/*
	 * Written in place; the same vCPU's exit, fault and entry never run
	 * at once (vcpu->mutex).  vcpu_id and tgid are read every time: a
	 * freed vCPU's address is soon another VM's vCPU.  An exit whose
	 * entry we never saw (and its fault) is simply overwritten.
	 */
	in->isa = span_exit_reason(vcpu, isa, &reason);
	in->reason = reason;
	in->vcpu = span_vcpu_id(vcpu);
	in->tgid = bpf_get_current_pid_tgid() >> 32;
	in->pf_ns = 0;
	in->last_ns = t;
	in->exit_ns = t;
	return 0;
}

SEC("raw_tp/kvm_page_fault")
int BPF_PROG(kvm_page_fault, struct kvm_vcpu *vcpu)
{
	__u64 key = (__u64)vcpu, t = now_ns();
	struct span_vcpu_inflight *in = inflight_of(&key);

	if (!in)
		return 0;
	if (!in->exit_ns) {
		/* A fault with no exit seen (spanmon attached mid-exit). */
		in->tgid = bpf_get_current_pid_tgid() >> 32;
		in->vcpu = span_vcpu_id(vcpu);
	}
	in->pf_nested = span_is_guest_mode(vcpu);
	in->last_ns = t;
	in->pf_ns = t;
	return 0;
}

SEC("raw_tp/kvm_entry")
int BPF_PROG(kvm_entry, struct kvm_vcpu *vcpu)
{
	__u64 key = (__u64)vcpu, t = now_ns();
	struct span_vcpu_inflight *in;
	struct span_hist_key hk = {};

	in = bpf_map_lookup_elem(&vcpu_inflight, &key);
	if (in && (in->exit_ns | in->pf_ns)) {
		hk.tgid = in->tgid;
		if (in->exit_ns && t >= in->exit_ns) {
			hk.kind = SPAN_KIND_EXIT;
			hk.vcpu = in->vcpu;
			hk.reason = in->reason;
			hk.isa = in->isa;
			hist_add(&hk, t - in->exit_ns);
		}
		if (in->pf_ns && t >= in->pf_ns) {
			hk.kind = SPAN_KIND_PF;
			hk.vcpu = 0;
			hk.reason = 0;
			hk.isa = 0;
			hk.sub = in->pf_nested;
			hist_add(&hk, t - in->pf_ns);
		}
		/* Consumed: a second entry records nothing. */
		in->exit_ns = 0;
		in->pf_ns = 0;
	}

	/* Dead code, removed at load, on kernels without span tracepoints. */
	if (have_span_ops) {
		__u64 tid = bpf_get_current_pid_tgid();
		struct span_thread_inflight *op;

		op = bpf_map_lookup_elem(&op_inflight, &tid);
		if (op) {
			struct span_hist_key ok = {
				.kind = SPAN_KIND_OP,
				.tgid = tid >> 32,
				.sub = op->sub,
			};

			if (t >= op->ns)
				hist_add(&ok, t - op->ns);
			bpf_map_delete_elem(&op_inflight, &tid);
		}
	}
	return 0;
}

SEC("raw_tp/kvm_nested_vmexit")
int BPF_PROG(kvm_nested_vmexit, struct kvm_vcpu *vcpu)
{
	__u64 tid = bpf_get_current_pid_tgid();
	struct span_thread_inflight in = { .ns = now_ns() };

	/*
	 * L2 exits that L0 handles itself are overwritten by the next one: the
	 * last exit before L1's VMRUN is the one reflected to L1.
	 */
	if (bpf_map_update_elem(&nested_inflight, &tid, &in, BPF_ANY))
		drop(SPAN_DROP_INFLIGHT);
	return 0;
}

SEC("raw_tp/kvm_nested_vmenter")
int BPF_PROG(kvm_nested_vmenter)
{
	__u64 tid = bpf_get_current_pid_tgid(), t = now_ns();
	struct span_thread_inflight *in;
	struct span_hist_key hk = { .kind = SPAN_KIND_NESTED, .tgid = tid >> 32 };

	in = bpf_map_lookup_elem(&nested_inflight, &tid);
	if (!in)
		return 0;
	if (t >= in->ns)
		hist_add(&hk, t - in->ns);
	bpf_map_delete_elem(&nested_inflight, &tid);
	return 0;
}

/*
 * Span operations (issue 3).  Shadow sync and view faults fire where L0
 * handles an L2 fault, in the vCPU thread that then re-enters the guest, so
 * they are timed to that thread's next kvm_entry.  Attach and detach are
 * timed from their *_start tracepoint to their end.  Arguments are not
 * read, so these programs load on any kernel; user space loads only those
 * whose tracepoint exists.
 */
static __always_inline int span_op(__u32 op)
{
	__u64 tid = bpf_get_current_pid_tgid();
	struct span_thread_inflight in = { .ns = now_ns(), .sub = op };

	if (bpf_map_update_elem(&op_inflight, &tid, &in, BPF_ANY))
		drop(SPAN_DROP_INFLIGHT);
	return 0;
}

static __always_inline int span_ioctl_start(__u32 op)
{
	__u64 tid = bpf_get_current_pid_tgid();
	struct span_thread_inflight in = { .ns = now_ns(), .sub = op };

	if (bpf_map_update_elem(&ioctl_inflight, &tid, &in, BPF_ANY))
		drop(SPAN_DROP_INFLIGHT);
	return 0;
}

/* The end of @op: recorded only if this thread's start of @op was seen. */
static __always_inline int span_ioctl_end(__u32 op)
{
	__u64 tid = bpf_get_current_pid_tgid(), t = now_ns();
	struct span_thread_inflight *in;
	struct span_hist_key hk = { .kind = SPAN_KIND_OP, .tgid = tid >> 32, .sub = op };

	in = bpf_map_lookup_elem(&ioctl_inflight, &tid);
	if (!in)
		return 0;
	if (in->sub == op && t >= in->ns)
		hist_add(&hk, t - in->ns);
	bpf_map_delete_elem(&ioctl_inflight, &tid);
	return 0;
}

SEC("raw_tp/span_attach_start")
int BPF_PROG(span_attach_start)
{
	return span_ioctl_start(SPAN_OP_ATTACH);
}

SEC("raw_tp/span_attach")
int BPF_PROG(span_attach)
{
	return span_ioctl_end(SPAN_OP_ATTACH);
}

SEC("raw_tp/span_detach_start")
int BPF_PROG(span_detach_start)
{
	return span_ioctl_start(SPAN_OP_DETACH);
}

SEC("raw_tp/span_detach")
int BPF_PROG(span_detach)
{
	return span_ioctl_end(SPAN_OP_DETACH);
}

SEC("raw_tp/span_shadow_sync")
int BPF_PROG(span_shadow_sync)
{
	return span_op(SPAN_OP_SHADOW_SYNC);
}

SEC("raw_tp/span_view_fault")
int BPF_PROG(span_view_fault)
{
	return span_op(SPAN_OP_VIEW_FAULT);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
