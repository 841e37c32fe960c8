// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * spanmon: log-linear latency histograms of KVM and span operations.
 *
 * raw_tp programs (not tp_btf): BPF_PROG_TEST_RUN runs raw_tp programs, so
 * the host tests drive exactly the programs production attaches.  Arguments
 * are plain u64s; everything read through the vcpu pointer goes through
 * CO-RE reads (core_fixes.bpf.h), which fail safely on the synthetic
 * pointers of tests.  Pairing keys on the pointer value, never dereferenced.
 *
 *   exit     kvm_exit(vcpu, isa)          -> kvm_entry of the same vcpu
 *   pf       kvm_page_fault(vcpu, ...)    -> kvm_entry of the same vcpu
 *   nested   kvm_nested_vmexit(vcpu, isa) -> kvm_nested_vmenter, same thread
 *            (6.12's kvm_nested_vmenter has no vcpu argument)
 *   op       span_attach_start            -> span_attach, same thread
 *            span_detach_start            -> span_detach, same thread
 *            span_shadow_sync (fault),
 *            span_view_fault (remap, readonly, denied) -> kvm_entry, same thread
 *
 * Every span event is also counted per VM, op and reason (op_counts), timed
 * or not: span_set_access, and shadow syncs that do not come from a fault
 * (zap on detach's thread, restrict on KVM_SPAN_SET_ACCESS's), are counted
 * only, having no kvm_entry of their own to end at.
 *
 * What awaits its end is bounded without user space: per vCPU, a slot in
 * a fixed table (vcpu_sets) that a new vCPU takes from one quiet for
 * SPANMON_INFLIGHT_MAX_AGE_NS, counted if something was pending; per
 * thread (attach/detach starts), task storage, freed with the thread (a
 * start still pending then is counted abandoned by sched_process_exit).
 * Tracepoints without a vcpu argument that fire inside KVM_RUN find the
 * vCPU their thread runs (span_running_vcpu()), so a span op and a nested
 * exit wait in their vCPU's slot, and kvm_entry finds everything it ends in
 * the slot it already reads.
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
/*
 * Tests' vcpus cannot be read: with this, kvm_exit takes the exit reason
 * and vcpu_id from its isa argument (isa | reason << 8 | vcpu_id << 24).
 */
const volatile bool fake_vcpu_fields = false;
/* Set by user space when any span:* tracepoint exists (or in tests). */
const volatile bool have_span_ops = false;
/* log2 of vcpu_sets' size (tests make it one set). */
const volatile __u32 vcpu_set_bits = SPANMON_VCPU_SET_BITS;
/*
 * Tests and benchmarks run no vCPU: with this, the vCPU "running" on the
 * calling thread is fake_running_vcpu (when not 0).
 */
const volatile bool use_fake_running = false;
__u64 fake_clock_ns = 0;
__u64 fake_running_vcpu = 0;
/* With fake_vcpu_fields: the VM every vcpu belongs to (span_vcpu_vm()). */
__u64 fake_vm = 0;

/* The histograms, by index; hist_index gives a series' index. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SPANMON_MAX_SERIES);
	__type(key, __u32);
	__type(value, struct span_hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SPANMON_MAX_SERIES);
	__type(key, struct span_hist_key);
	__type(value, __u32);
} hist_index SEC(".maps");

/* [0]: hists' indexes handed out (a new series takes the next). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hists_used SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SPANMON_MAX_VMS);
	__type(key, __u32);
	__type(value, struct span_vm);
} vms SEC(".maps");

/* Events lost, by enum span_drop: counted, never silent. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SPAN_DROP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* Span events by VM, op and reason, and the timed ones that could not be. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SPANMON_MAX_OP_COUNTS);
	__type(key, struct span_op_key);
	__type(value, struct span_op_count);
} op_counts SEC(".maps");

/*
 * vCPU state, written in place and never deleted: a hash update and delete
 * per exit cost more than everything else spanmon does per exit.  A vCPU's
 * set is chosen by its pointer; it keeps its way for good unless a new
 * vCPU of the set finds no free way and its own has been quiet for
 * SPANMON_INFLIGHT_MAX_AGE_NS (a destroyed vCPU, or one halted that long):
 * then the quietest is taken over, and if it had an exit or a fault
 * pending, that is a counted drop (inflight_evicted).  A new vCPU finding
 * only busy ways is a counted drop (inflight).  An array lookup is inlined
 * by the verifier: no hashing, no helper call.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << SPANMON_VCPU_SET_BITS);
	__type(key, __u32);
	__type(value, struct span_vcpu_set);
} vcpu_sets SEC(".maps");

/*
 * Per thread: an attach/detach start awaiting its end.  Freed with the
 * thread: no entry outlives it, none needs pruning.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct span_thread);
} threads SEC(".maps");

static __always_inline __u64 now_ns(void)
{
	return use_fake_clock ? fake_clock_ns : bpf_ktime_get_ns();
}

static __always_inline __u64 running_vcpu(void)
{
	/* Read even when faked, so that benchmarks pay for it. */
	__u64 vcpu = span_running_vcpu();

	if (use_fake_running && fake_running_vcpu)
		return fake_running_vcpu;
	return vcpu;
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

/* @v's slot in the log-linear layout of span/hist_layout.h. */
static __always_inline __u64 hist_slot(__u64 v)
{
	__u64 e;

	if (v < 2 * SPAN_HIST_SUB)
		return v;
	e = log2l(v);
	if (e > SPAN_HIST_MAX_EXP)
		return SPAN_HIST_SLOTS - 1;
	return ((e - SPAN_HIST_SUB_BITS) << SPAN_HIST_SUB_BITS) + (v >> (e - SPAN_HIST_SUB_BITS));
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

/* Count @delta in histogram @idx. */
static __always_inline void hist_at(__u32 idx, __u64 delta)
{
	struct span_hist *h = bpf_map_lookup_elem(&hists, &idx);
	__u64 slot;

	if (!h)
		return;
	slot = hist_slot(delta);
	if (slot >= SPAN_HIST_SLOTS)	/* for the verifier */
		slot = SPAN_HIST_SLOTS - 1;
	__sync_fetch_and_add(&h->slots[slot], 1);
	__sync_fetch_and_add(&h->sum_ns, delta);
}

/* The index of @key's histogram, made if new; -1: no room (a counted drop). */
static __always_inline long series_of(struct span_hist_key *key)
{
	__u32 *p = bpf_map_lookup_elem(&hist_index, key), zero = 0, idx;
	__u64 *used;

	if (p)
		return *p;
	/* A new series: rare, so the VM's name is recorded here. */
	note_vm(key->tgid);
	used = bpf_map_lookup_elem(&hists_used, &zero);
	if (!used)
		return -1;
	idx = __sync_fetch_and_add(used, 1);
	if (idx >= SPANMON_MAX_SERIES || !bpf_map_lookup_elem(&hists, &idx) ||
	    bpf_map_update_elem(&hist_index, key, &idx, BPF_NOEXIST)) {
		/* Full, or another CPU made it first (idx is then unused). */
		p = bpf_map_lookup_elem(&hist_index, key);
		if (p)
			return *p;
		drop(SPAN_DROP_HISTS);
		return -1;
	}
	return idx;
}

static __always_inline void hist_add(struct span_hist_key *key, __u64 delta)
{
	long idx = series_of(key);

	if (idx >= 0)
		hist_at(idx, delta);
}

/*
 * The histogram index of @in's exit series (its tgid, vcpu, reason and
 * isa), from its cache (by reason) or hist_index; -1: no room.
 */
static __always_inline long exit_series(struct span_vcpu_inflight *in)
{
	struct span_hist_key hk = {
		.kind = SPAN_KIND_EXIT, .tgid = in->tgid, .vcpu = in->vcpu,
		.reason = in->reason, .isa = in->isa,
	};
	__u32 c = (in->reason * 0x9E3779B1u) >> 30;	/* 0..3 */
	struct span_series_cache *sc;
	long idx;

	asm volatile("" : "+r"(c));	/* keep the bound for the verifier */
	sc = &in->series[c & (SPANMON_SERIES_CACHE - 1)];
	if (sc->valid && sc->reason == in->reason && sc->isa == in->isa)
		return sc->idx;
	idx = series_of(&hk);
	if (idx >= 0) {
		sc->reason = in->reason;
		sc->isa = in->isa;
		sc->idx = idx;
		sc->valid = 1;
	}
	return idx;
}

/* The same for its page faults (@nested or not). */
static __always_inline long pf_series(struct span_vcpu_inflight *in, __u8 nested)
{
	struct span_hist_key hk = { .kind = SPAN_KIND_PF, .tgid = in->tgid, .sub = !!nested };
	__u32 *cached = &in->pf_series[nested ? 1 : 0];
	long idx;

	if (*cached)
		return *cached - 1;
	idx = series_of(&hk);
	if (idx >= 0)
		*cached = idx + 1;
	return idx;
}

/* @in now belongs to (@tgid, @vcpu): its cached series go if that changed. */
static __always_inline void vcpu_owner(struct span_vcpu_inflight *in, __u32 tgid, __u32 vcpu)
{
	int c;

	if (in->tgid == tgid && in->vcpu == vcpu)
		return;
	in->tgid = tgid;
	in->vcpu = vcpu;
	in->nested_series = 0;
	in->pf_series[0] = in->pf_series[1] = 0;
#pragma unroll
	for (c = 0; c < SPANMON_SERIES_CACHE; c++)
		in->series[c].valid = 0;
}

/* @vcpu's VM, to tell it from an earlier vCPU at the same address. */
static __always_inline __u64 vcpu_vm(struct kvm_vcpu *vcpu)
{
	return fake_vcpu_fields ? fake_vm : span_vcpu_vm(vcpu);
}

/* @vcpu's set of vcpu_sets. */
static __always_inline struct span_vcpu_set *set_of(__u64 vcpu)
{
	/* Fibonacci hashing: the pointer's top bits, well mixed. */
	__u32 idx = vcpu_set_bits ? (vcpu * 0x9E3779B97F4A7C15ull) >> (64 - vcpu_set_bits) : 0;

	return bpf_map_lookup_elem(&vcpu_sets, &idx);
}

/* @vcpu's state in @s, or NULL. */
static __always_inline struct span_vcpu_inflight *vcpu_find(struct span_vcpu_set *s,
								__u64 vcpu)
{
	int w;

#pragma unroll
	for (w = 0; w < SPANMON_VCPU_WAYS; w++)
		if (s->vcpu[w] == vcpu)
			return &s->in[w];
	return NULL;
}

/* Way @w of @s is @vcpu's now: its state starts empty. */
static __always_inline struct span_vcpu_inflight *vcpu_took(struct span_vcpu_set *s, int w,
								__u64 t)
{
	struct span_vcpu_inflight *in = &s->in[w];

	in->pending = 0;
	in->last_ns = t;
	return in;
}

/*
 * A way of @s for a vCPU seen for the first time (or whose way was taken):
 * a free one, else the quietest if quiet long enough; NULL, counted, if
 * none.  Ways change hands by compare-and-swap of their key, so two new
 * vCPUs never share one; the loser of a race is a counted drop.
 */
static __always_inline struct span_vcpu_inflight *vcpu_claim(struct span_vcpu_set *s,
								 __u64 vcpu, __u64 t)
{
	__u64 oldest = ~0ull, old;
	int w, victim = -1;

	if (!vcpu)
		return NULL;
#pragma unroll
	for (w = 0; w < SPANMON_VCPU_WAYS; w++)
		if (!s->vcpu[w] && !__sync_val_compare_and_swap(&s->vcpu[w], 0, vcpu))
			return vcpu_took(s, w, t);
#pragma unroll
	for (w = 0; w < SPANMON_VCPU_WAYS; w++) {
		if (s->in[w].last_ns < oldest) {
			oldest = s->in[w].last_ns;
			victim = w;
		}
	}
	if (t < oldest + SPANMON_INFLIGHT_MAX_AGE_NS) {
		drop(SPAN_DROP_INFLIGHT);
		return NULL;
	}
#pragma unroll
	for (w = 0; w < SPANMON_VCPU_WAYS; w++) {
		if (w != victim)
			continue;
		old = s->vcpu[w];
		if (!old || __sync_val_compare_and_swap(&s->vcpu[w], old, vcpu) != old)
			break;
		if (s->in[w].pending)
			drop(SPAN_DROP_EVICTED);
		return vcpu_took(s, w, t);
	}
	drop(SPAN_DROP_INFLIGHT);
	return NULL;
}

/* @vcpu's state, a way claimed for it if it has none; NULL: counted drop. */
static __always_inline struct span_vcpu_inflight *vcpu_state(__u64 vcpu, __u64 t)
{
	struct span_vcpu_set *s = set_of(vcpu);
	struct span_vcpu_inflight *in;

	if (!s)
		return NULL;
	in = vcpu_find(s, vcpu);
	return in ? in : vcpu_claim(s, vcpu, t);
}

/* The slot of the vCPU this thread runs, if it has one. */
static __always_inline struct span_vcpu_inflight *running_state(void)
{
	__u64 vcpu = running_vcpu();
	struct span_vcpu_set *s;

	if (!vcpu)
		return NULL;
	s = set_of(vcpu);
	return s ? vcpu_find(s, vcpu) : NULL;
}

/* This thread's state; made if @create (NULL then: a counted drop). */
static __always_inline struct span_thread *thread_state(bool create)
{
	struct span_thread *th;

	th = bpf_task_storage_get(&threads, bpf_get_current_task_btf(), 0,
				  create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	if (!th && create)
		drop(SPAN_DROP_INFLIGHT);
	return th;
}

SEC("raw_tp/kvm_exit")
int BPF_PROG(kvm_exit, struct kvm_vcpu *vcpu, __u32 isa)
{
	__u64 t = now_ns();
	struct span_vcpu_inflight *in = vcpu_state((__u64)vcpu, t);
	__u32 reason, vcpu_id;
	__u64 vm;

	if (!in)
		return 0;
	/*
	 * Another VM's vCPU at a freed vCPU's address: what the freed one
	 * left pending (its last exit, an L2 exit awaiting L1's VMRUN) is
	 * not this one's to end.
	 */
	vm = vcpu_vm(vcpu);
	if (in->vm != vm) {
		in->vm = vm;
		in->pending = 0;
	}
	/*
	 * Written in place; the same vCPU's exit, fault and entry never run
	 * at once (vcpu->mutex).  vcpu_id and tgid are read every time: a
	 * freed vCPU's address is soon another VM's vCPU.  An exit whose
	 * entry we never saw (and its fault) is simply overwritten.
	 */
	if (fake_vcpu_fields) {
		in->isa = isa & 0xff;
		reason = (isa >> 8) & 0xffff;
		vcpu_id = isa >> 24;
	} else {
		in->isa = span_exit_reason(vcpu, isa, &reason);
		vcpu_id = span_vcpu_id(vcpu);
	}
	in->reason = reason;
	vcpu_owner(in, bpf_get_current_pid_tgid() >> 32, vcpu_id);
	in->last_ns = t;
	in->exit_ns = t;
	/* A previous exit, fault or op not ended is overwritten; an L2 exit
	 * reflected to L1 still awaits L1's VMRUN. */
	in->pending = (in->pending & SPAN_PENDING_NESTED) | SPAN_PENDING_EXIT;
	return 0;
}

SEC("raw_tp/kvm_page_fault")
int BPF_PROG(kvm_page_fault, struct kvm_vcpu *vcpu)
{
	__u64 t = now_ns();
	struct span_vcpu_inflight *in = vcpu_state((__u64)vcpu, t);

	if (!in)
		return 0;
	/* A fault with no exit seen (spanmon attached mid-exit). */
	if (!(in->pending & SPAN_PENDING_EXIT))
		vcpu_owner(in, bpf_get_current_pid_tgid() >> 32, span_vcpu_id(vcpu));
	in->pf_nested = span_is_guest_mode(vcpu);
	in->last_ns = t;
	in->pf_ns = t;
	in->pending |= SPAN_PENDING_PF;
	return 0;
}

SEC("raw_tp/kvm_entry")
int BPF_PROG(kvm_entry, struct kvm_vcpu *vcpu)
{
	struct span_vcpu_set *s = set_of((__u64)vcpu);
	struct span_vcpu_inflight *in = s ? vcpu_find(s, (__u64)vcpu) : NULL;
	__u64 t;
	long idx;

	if (!in || !(in->pending & SPAN_PENDING_ENTRY))
		return 0;
	/* The first entry of a vCPU at a freed one's address ends nothing. */
	if (in->vm != vcpu_vm(vcpu)) {
		in->pending = 0;
		return 0;
	}
	t = now_ns();
	if ((in->pending & SPAN_PENDING_EXIT) && t >= in->exit_ns) {
		idx = exit_series(in);
		if (idx >= 0)
			hist_at(idx, t - in->exit_ns);
	}
	if ((in->pending & SPAN_PENDING_PF) && t >= in->pf_ns) {
		idx = pf_series(in, in->pf_nested);
		if (idx >= 0)
			hist_at(idx, t - in->pf_ns);
	}
	/* Rare: a span op on this vCPU's fault path (on span kernels). */
	if ((in->pending & SPAN_PENDING_OP) && t >= in->op_ns) {
		struct span_hist_key ok = { .kind = SPAN_KIND_OP, .tgid = in->tgid, .sub = in->op };

		hist_add(&ok, t - in->op_ns);
	}
	/* Consumed: a second entry records nothing. */
	in->pending &= ~SPAN_PENDING_ENTRY;
	return 0;
}

/*
 * span_mem_reply(guest, view, l1, vcpu, seq, action, wait_ns): a view
 * replied to a synchronous memory event (or was released, action 3) after
 * its vCPU waited wait_ns.  The kernel measured it: no pairing here, one
 * histogram per (replying VMM, guest, view).  Action 4 ("unemulated": KVM
 * could not do an access allowed once and unsubscribed the frame instead)
 * is no reply and no wait: not counted.
 */
SEC("raw_tp/span_mem_reply")
int BPF_PROG(span_mem_reply, __u32 guest, __u32 view, __u32 l1, __u32 vcpu, __u64 seq,
	     __u32 action, __u64 wait_ns)
{
	struct span_hist_key k = {
		.kind = SPAN_KIND_MEM_REPLY, .tgid = bpf_get_current_pid_tgid() >> 32,
		.reason = guest, .sub = view,
	};

	if (action == 4)
		return 0;

	hist_add(&k, wait_ns);
	return 0;
}

SEC("raw_tp/kvm_nested_vmexit")
int BPF_PROG(kvm_nested_vmexit, struct kvm_vcpu *vcpu)
{
	__u64 t = now_ns();
	struct span_vcpu_inflight *in = vcpu_state((__u64)vcpu, t);

	/*
	 * L2 exits that L0 handles itself are overwritten by the next one: the
	 * last exit before L1's VMRUN is the one reflected to L1.
	 */
	if (in) {
		in->nested_ns = t;
		in->pending |= SPAN_PENDING_NESTED;
	}
	return 0;
}

/* L1's VMRUN (VMLAUNCH/VMRESUME), in the thread of the vCPU that runs L1. */
SEC("raw_tp/kvm_nested_vmenter")
int BPF_PROG(kvm_nested_vmenter)
{
	struct span_vcpu_inflight *in = running_state();
	struct span_hist_key hk = { .kind = SPAN_KIND_NESTED };
	__u64 t;
	long idx;

	if (!in || !(in->pending & SPAN_PENDING_NESTED))
		return 0;
	t = now_ns();
	in->pending &= ~SPAN_PENDING_NESTED;
	if (t < in->nested_ns)
		return 0;
	if (in->nested_series) {
		hist_at(in->nested_series - 1, t - in->nested_ns);
		return 0;
	}
	hk.tgid = in->tgid;
	idx = series_of(&hk);
	if (idx < 0)
		return 0;
	in->nested_series = idx + 1;
	hist_at(idx, t - in->nested_ns);
	return 0;
}

/*
 * Span operations (issue 3).  Every one is counted in op_counts by its
 * reason.  Those that fire where L0 handles an L2 fault (shadow sync
 * "fault", view faults), in the vCPU thread that then re-enters the guest,
 * are timed to that thread's next kvm_entry.  Attach and detach are timed
 * from their *_start tracepoint to their end.  Shadow syncs of other
 * reasons (zap, restrict: the ioctl thread, which may never enter a guest)
 * and set_access are counted only.  User space loads only the programs
 * whose tracepoint exists.
 */
enum { OP_EVENT, OP_ABANDONED, OP_UNSTARTED };

static __always_inline __u32 reason_of(__u32 reason)
{
	return reason < SPAN_REASON_UNKNOWN ? reason : SPAN_REASON_UNKNOWN;
}

static const struct span_op_count zero_count;

/* Count one event of @op (@what: an event, or a timing lost). */
static __always_inline void op_count(__u32 tgid, __u32 op, __u32 reason, __u64 npages,
				     int what)
{
	struct span_op_key k = { .tgid = tgid, .op = op, .reason = reason };
	struct span_op_count *c;

	c = bpf_map_lookup_elem(&op_counts, &k);
	if (!c) {
		note_vm(tgid);
		bpf_map_update_elem(&op_counts, &k, &zero_count, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&op_counts, &k);
		if (!c) {
			drop(SPAN_DROP_OPS);
			return;
		}
	}
	if (what == OP_ABANDONED) {
		__sync_fetch_and_add(&c->abandoned, 1);
		return;
	}
	if (what == OP_UNSTARTED)
		__sync_fetch_and_add(&c->unstarted, 1);
	__sync_fetch_and_add(&c->events, 1);
	__sync_fetch_and_add(&c->npages, npages);
}

/*
 * A span op on a vCPU's fault path: counted, and timed to that vCPU's next
 * kvm_entry.  One already pending never ended (the vCPU did not re-enter
 * before this one): replaced, counted abandoned; as is one whose vCPU is
 * not known (none running, or no exit of it seen yet).
 */
static __always_inline int span_fault_op(__u32 op, __u64 npages, __u32 reason)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct span_vcpu_inflight *in = running_state();

	op_count(tgid, op, reason, npages, OP_EVENT);
	if (!in) {
		op_count(tgid, op, reason, 0, OP_ABANDONED);
		return 0;
	}
	if (in->pending & SPAN_PENDING_OP)
		op_count(tgid, in->op, in->op_reason, 0, OP_ABANDONED);
	in->op_ns = now_ns();
	in->op = op;
	in->op_reason = reason;
	in->pending |= SPAN_PENDING_OP;
	return 0;
}

/*
 * An attach or detach starts in this thread.  A start already pending
 * never ended (an ioctl that failed after its start): replaced, counted
 * abandoned.
 */
static __always_inline int span_ioctl_start(__u32 op, __u32 reason)
{
	struct span_thread *th = thread_state(true);

	if (!th)
		return 0;
	if (th->pending)
		op_count(bpf_get_current_pid_tgid() >> 32, th->ioctl_op, th->ioctl_reason, 0,
			 OP_ABANDONED);
	th->ioctl_ns = now_ns();
	th->ioctl_op = op;
	th->ioctl_reason = reason_of(reason);
	th->pending = 1;
	return 0;
}

/*
 * The end of @op: counted; timed if this thread's start of @op was seen,
 * else counted unstarted (spanmon attached mid-ioctl, a kernel without the
 * *_start tracepoints).
 */
static __always_inline int span_ioctl_end(__u32 op, __u64 npages, __u32 reason)
{
	__u64 tid = bpf_get_current_pid_tgid(), t = now_ns();
	struct span_thread *th = thread_state(false);
	struct span_hist_key hk = { .kind = SPAN_KIND_OP, .tgid = tid >> 32, .sub = op };

	reason = reason_of(reason);
	if (!th || !th->pending || th->ioctl_op != op) {
		op_count(tid >> 32, op, reason, npages, OP_UNSTARTED);
		return 0;
	}
	op_count(tid >> 32, op, reason, npages, OP_EVENT);
	if (t >= th->ioctl_ns)
		hist_add(&hk, t - th->ioctl_ns);
	th->pending = 0;
	return 0;
}

SEC("raw_tp/span_attach_start")
int BPF_PROG(span_attach_start, __u32 guest, __u32 l1, __u64 gfn, __u64 npages,
	     __u32 access, __u32 reason)
{
	return span_ioctl_start(SPAN_OP_ATTACH, reason);
}

SEC("raw_tp/span_attach")
int BPF_PROG(span_attach, __u32 guest, __u32 l1, __u64 gfn, __u64 npages,
	     __u32 access, __u32 reason)
{
	return span_ioctl_end(SPAN_OP_ATTACH, npages, reason);
}

SEC("raw_tp/span_detach_start")
int BPF_PROG(span_detach_start, __u32 guest, __u32 l1, __u64 gfn, __u64 npages,
	     __u32 access, __u32 reason)
{
	return span_ioctl_start(SPAN_OP_DETACH, reason);
}

SEC("raw_tp/span_detach")
int BPF_PROG(span_detach, __u32 guest, __u32 l1, __u64 gfn, __u64 npages,
	     __u32 access, __u32 reason)
{
	return span_ioctl_end(SPAN_OP_DETACH, npages, reason);
}

/*
 * Only a fault's shadow sync runs on a vCPU thread about to re-enter: a
 * zap fires on detach's thread, a restrict on KVM_SPAN_SET_ACCESS's, and
 * timing those to that thread's next kvm_entry (if it ever runs a vCPU)
 * measured nothing (one such "sample" read 201 ms).
 */
SEC("raw_tp/span_shadow_sync")
int BPF_PROG(span_shadow_sync, __u32 guest, __u32 l1, __u64 gfn, __u64 npages,
	     __u32 access, __u32 reason)
{
	reason = reason_of(reason);
	if (reason == SPAN_REASON_FAULT)
		return span_fault_op(SPAN_OP_SHADOW_SYNC, npages, reason);
	op_count(bpf_get_current_pid_tgid() >> 32, SPAN_OP_SHADOW_SYNC, reason, npages,
		 OP_EVENT);
	return 0;
}

/* Refused accesses, all on the fault path; a reason spanmon does not know
 * may not be, so it is counted only. */
SEC("raw_tp/span_view_fault")
int BPF_PROG(span_view_fault, __u32 guest, __u32 l1, __u64 gfn, __u64 npages,
	     __u32 access, __u32 reason)
{
	reason = reason_of(reason);
	if (reason == SPAN_REASON_REMAP || reason == SPAN_REASON_READONLY ||
	    reason == SPAN_REASON_DENIED)
		return span_fault_op(SPAN_OP_VIEW_FAULT, npages, reason);
	op_count(bpf_get_current_pid_tgid() >> 32, SPAN_OP_VIEW_FAULT, reason, npages,
		 OP_EVENT);
	return 0;
}

/* A view's access mask changed (KVM_SPAN_SET_ACCESS, or its L1's release). */
SEC("raw_tp/span_set_access")
int BPF_PROG(span_set_access, __u32 guest, __u32 l1, __u64 gfn, __u64 npages,
	     __u32 access, __u32 reason)
{
	op_count(bpf_get_current_pid_tgid() >> 32, SPAN_OP_SET_ACCESS, reason_of(reason),
		 npages, OP_EVENT);
	return 0;
}

/*
 * A thread exits: its state goes with it; an attach or detach it had
 * started never ends, so it is counted abandoned.  Loaded with the span
 * programs.
 */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(sched_process_exit)
{
	struct span_thread *th = thread_state(false);

	if (th && th->pending) {
		op_count(bpf_get_current_pid_tgid() >> 32, th->ioctl_op, th->ioctl_reason, 0,
			 OP_ABANDONED);
		th->pending = 0;
	}
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
