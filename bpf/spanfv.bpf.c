// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A featurevisor's memory-event dispatcher: one loaded instance per
 * featurevisor, with maps of its own, on raw_tp/span_mem_event.
 *
 *   - Events of any other (guest, view) are ignored first thing: whatever
 *     runs below, the featurevisor's filter included, sees only its own.
 *   - Async events (first writes, SPAN_FV_EVENT_NOTIFY) set their bit in
 *     `dirty` before anything else, so the bitmap is the complete record of
 *     dirtied pages whatever the filter says or the ring can hold.
 *   - The record is built on the stack and a copy handed to span_filter(),
 *     a global function the featurevisor's filter replaces (freplace, as
 *     libxdp's dispatcher does); only the copy's drop and user[] are kept,
 *     so a filter may tag and drop but not forge.
 *   - It goes to this featurevisor's own ring buffer; a full ring is a
 *     counted drop and a gap in dseq.
 *
 * Wakeups: without wake_bytes, every record takes the ring's default
 * (wake the consumer if it has caught up).  With it, async records wake no
 * one until the ring holds wake_bytes, the consumer's poll timeout
 * bounding how long a few of them can sit (libbpf's ring buffer
 * benchmarks: ~1.1 M records/s woken one by one, 12-21 M/s batched), and
 * a synchronous record, whose vCPU waits, always wakes it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "span/spanfv_event.h"

/* Set by the loader (lib/spanevents.c). */
const volatile __u32 guest_id = 0;
const volatile __u32 view = 0;
/*
 * Async records wake the consumer only once this many bytes wait; 0: the
 * ring's default for them too.
 */
const volatile __u64 wake_bytes = 0;

/* Delivery sequence: the last dseq handed out. */
__u64 last_dseq = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);	/* the loader sets it */
} events SEC(".maps");

/* One bit per guest page (word gfn / 64, bit gfn % 64); sized by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} dirty SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SPAN_FV_STAT_NR);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Written by the consumers (mmap), read by spanmon; never by BPF. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct span_fv_hist);
} delivery SEC(".maps");

static __always_inline void stat_add(__u32 what)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &what);

	/* Per CPU, and a raw_tp program does not migrate: no atomics needed. */
	if (v)
		*v += 1;
}

static __always_inline void mark_dirty(__u64 gfn)
{
	__u64 bit = 1ull << (gfn & 63), old;
	__u32 idx = gfn >> 6;
	__u64 *w = NULL;

	if ((gfn >> 6) <= 0xffffffffull)
		w = bpf_map_lookup_elem(&dirty, &idx);
	if (!w) {
		stat_add(SPAN_FV_STAT_DIRTY_OOB);
		return;
	}
	old = __sync_fetch_and_or(w, bit);
	if (!(old & bit))
		stat_add(SPAN_FV_STAT_DIRTY_SET);
}

/*
 * The featurevisor's filter: returns 0, and drops @ev by setting ev->drop;
 * it may set ev->user[].  This body (deliver everything) runs while no filter is
 * attached.  @ev is never NULL, but the verifier checks the filter as if
 * it could be.
 */
#ifndef SPANFV_INLINE_FILTER
__noinline int span_filter(struct span_fv_event *ev)
{
	volatile int ret = 0;	/* not folded into the caller */

	if (!ev)
		return 0;
	return ret;
}
#endif

SEC("raw_tp/span_mem_event")
int BPF_PROG(span_mem_event, __u32 guest, __u32 v, __u32 l1, __u32 vcpu, __u64 gfn,
	     __u32 access, __u32 flags, __u64 seq)
{
	struct span_fv_event ev = {}, shown, *rec;
	__u64 wake = 0;

	if (guest != guest_id || v != view)
		return 0;
	stat_add(SPAN_FV_STAT_SEEN);
	if (flags & SPAN_FV_EVENT_NOTIFY)
		mark_dirty(gfn);

	ev.seq = seq;
	ev.gfn = gfn;
	ev.ts_ns = bpf_ktime_get_ns();
	ev.guest = guest;
	ev.view = v;
	ev.l1 = l1;
	ev.vcpu = vcpu;
	ev.access = access;
	ev.flags = flags;
	/* The filter sees a copy: of what it writes, only drop and user[] count. */
	__builtin_memcpy(&shown, &ev, sizeof(ev));
	span_filter(&shown);
	if (shown.drop) {
		stat_add(SPAN_FV_STAT_FILTERED);
		return 0;
	}
	ev.user[0] = shown.user[0];
	ev.user[1] = shown.user[1];
	ev.dseq = __sync_fetch_and_add(&last_dseq, 1) + 1;

	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		stat_add(SPAN_FV_STAT_DROPPED);
		return 0;
	}
	__builtin_memcpy(rec, &ev, sizeof(*rec));
	/*
	 * The ring's default wakes the consumer only if it has read
	 * everything before this record; after async records submitted
	 * without a wakeup that is never true, so a synchronous record then
	 * forces one.
	 */
	if (wake_bytes && !(flags & SPAN_FV_EVENT_NOTIFY))
		wake = BPF_RB_FORCE_WAKEUP;
	else if (wake_bytes)
		wake = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) < wake_bytes ?
			BPF_RB_NO_WAKEUP : BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(rec, wake);
	stat_add(SPAN_FV_STAT_DELIVERED);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
