#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The span tracepoints (kvm-patches 0001-0003) exist, carry their fields,
# are in the kernel's BTF for tp_btf/raw_tp programs, and fire during
# span_comap_test: attach (7: by hypercall, by the controller, re-attach,
# read-only attach, re-attach, across two memslots, re-attach), detach (5)
# with its zap, each after its
# *_start, shadow sync on faults, view faults on the refused remap and the
# read-only write; and during span_access_test: set_access (15 changes),
# shadow sync "restrict" for the views zapped, view faults "denied", and
# the release of both L1s, each detach_start before its detach; and during
# span_dirty_log_test: shadow sync "dirty_log" for windows write-protected
# again when the span guest's dirty log is read or starts.
fail() { echo "FAIL: $*"; exit 1; }
tr=/sys/kernel/tracing
t=/span/selftests/x86_64/span_comap_test
ta=/span/selftests/x86_64/span_access_test
td=/span/selftests/x86_64/span_dirty_log_test

for e in span_attach_start span_attach span_detach_start span_detach \
	span_shadow_sync span_view_fault span_set_access; do
	[ -d "$tr/events/span/$e" ] || fail "no tracepoint span:$e"
	grep -q 'field:u32 guest' "$tr/events/span/$e/format" &&
		grep -q 'field:u64 gfn' "$tr/events/span/$e/format" &&
		grep -q 'field:u32 reason' "$tr/events/span/$e/format" ||
		fail "span:$e lacks guest/gfn/reason fields"
	grep -aq "btf_trace_$e" /sys/kernel/btf/vmlinux ||
		fail "btf_trace_$e not in /sys/kernel/btf/vmlinux (tp_btf cannot attach)"
done

# traced CMD: run CMD with the span events traced into /tmp/span.trace.
traced() {
	echo 0 >"$tr/tracing_on"
	echo >"$tr/trace"
	echo 1 >"$tr/events/span/enable"
	echo 1 >"$tr/tracing_on"
	"$1" || fail "$1 failed"
	echo 0 >"$tr/tracing_on"
	echo 0 >"$tr/events/span/enable"
	cat "$tr/trace" >/tmp/span.trace
}
# paired 'EVENTS' REASON: each end of EVENTS with REASON follows its
# *_start in the same task.
paired() {
	awk -v evs="$1" -v why="reason $2" '$0 ~ "span_(" evs ")(_start)?:" && index($0, why) {
		task = $1; match($0, /span_[a-z_]+:/); ev = substr($0, RSTART, RLENGTH - 1)
		if (ev ~ /_start$/) { pend[task] = ev; next }
		if (pend[task] != ev "_start") { print "unpaired: " $0; bad = 1 }
		pend[task] = ""
	} END { exit bad }' /tmp/span.trace
}

traced "$t"

count() { grep -c "$1" /tmp/span.trace; }
attach=$(count 'span_attach:.*reason ioctl')
detach=$(count 'span_detach:.*reason ioctl')
zap=$(count 'span_shadow_sync:.*reason zap')
sync=$(count 'span_shadow_sync:.*reason fault')
remap=$(count 'span_view_fault:.*reason remap')
ro=$(count 'span_view_fault:.*reason readonly')
release=$(count 'span_detach:.*reason release')
attach_start=$(count 'span_attach_start:.*reason ioctl')
detach_start=$(count 'span_detach_start:.*reason ioctl')
echo "span events: attach_start $attach_start detach_start $detach_start"
echo "span events: attach $attach detach $detach zap $zap fault-sync $sync remap $remap readonly $ro release $release"
grep -m 3 'span_' /tmp/span.trace
[ "$attach" -eq 7 ] || fail "span_attach fired $attach times, wanted 7"
[ "$detach" -eq 5 ] || fail "span_detach (ioctl) fired $detach times, wanted 5"
# A start for every completed ioctl (more if some failed after the start).
[ "$attach_start" -ge "$attach" ] || fail "span_attach_start fired $attach_start times, fewer than $attach attaches"
[ "$detach_start" -ge "$detach" ] || fail "span_detach_start fired $detach_start times, fewer than $detach detaches"
# Each completed ioctl's end follows its start in the same task.
paired 'attach|detach' ioctl || fail "a span_attach/span_detach not preceded by its start in the same task"
[ "$zap" -eq 5 ] || fail "span_shadow_sync zap fired $zap times, wanted 5"
[ "$sync" -gt 0 ] || fail "no span_shadow_sync on nested faults"
[ "$remap" -gt 0 ] || fail "no span_view_fault for the refused remap"
[ "$ro" -gt 0 ] || fail "no span_view_fault for the write to a read-only view"
# Two L1s freed with their views attached: released, not leaked.
[ "$release" -eq 2 ] || fail "span_detach (release) fired $release times, wanted 2"
echo "ok: span attach/detach tracepoints"

# ---- access restrictions (KVM_SPAN_SET_ACCESS) --------------------------------
traced "$ta"
set_access=$(count 'span_set_access:.*reason ioctl')
restrict=$(count 'span_shadow_sync:.*reason restrict')
denied=$(count 'span_view_fault:.*reason denied')
denied_w=$(count 'span_view_fault:.*access rw- reason denied')
denied_x=$(count 'span_view_fault:.*access r-x reason denied')
release=$(count 'span_detach:.*reason release')
release_start=$(count 'span_detach_start:.*reason release')
echo "span events: set_access $set_access restrict $restrict denied $denied (write $denied_w, exec $denied_x) release $release/$release_start"
grep -m 3 'span_set_access' /tmp/span.trace
[ "$set_access" -eq 15 ] || fail "span_set_access fired $set_access times, wanted 15"
# Each restriction zaps span0 and both windows (while attached).
[ "$restrict" -ge 6 ] || fail "span_shadow_sync restrict fired $restrict times, wanted >= 6"
[ "$denied_w" -ge 6 ] || fail "span_view_fault denied writes: $denied_w, wanted >= 6"
[ "$denied_x" -ge 1 ] || fail "no span_view_fault for the denied execution"
[ "$release" -eq 2 ] && [ "$release_start" -eq 2 ] ||
	fail "release: $release span_detach, $release_start span_detach_start, wanted 2 and 2"
paired detach release || fail "a release span_detach not preceded by its start in the same task"
echo "ok: span access tracepoints"

# ---- dirty logging through windows ----------------------------------------------
traced "$td"
dirty_log=$(count 'span_shadow_sync:.*reason dirty_log')
echo "span events: dirty_log $dirty_log"
# One per logged write through a window read back (>= 55 in the test),
# plus the zaps when logging starts (2 L1s, twice).
[ "$dirty_log" -ge 55 ] || fail "span_shadow_sync dirty_log fired $dirty_log times, wanted >= 55"
echo "PASS: span tracepoints"
