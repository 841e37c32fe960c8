#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# spanmon, attached while span_attach_test and span_comap_test attach and
# detach views, must time the span operations: attach and detach from their
# *_start tracepoint to their end in the VMM thread that issues the ioctl,
# a fault's shadow sync to the vCPU thread's next kvm_entry; count every
# span event by reason (detach's zap shadow syncs counted, never timed:
# they fire on the ioctl thread); and drop nothing.
# span_attach_test attaches and detaches with no vCPU run in between (its
# only vcpu_run comes last): timed to a kvm_entry, as spanmon once did, at
# most one of its ops would be recorded.  The counts are read by a second
# spanmon process from the pinned maps, as in spanmon_live.sh.  Kernels with
# or without a start before the release detach both pass.
fail() { echo "FAIL: $*"; exit 1; }
t=/span/selftests/x86_64/span_comap_test
ta=/span/selftests/x86_64/span_attach_test
# KVM_SPAN_SET_ACCESS's test, on kernels that have span:span_set_access
# (and when the list names it for this script).
tx=/span/selftests/x86_64/span_access_test
access=0
[ -x "$tx" ] && [ -d /sys/kernel/tracing/events/span/span_set_access ] && access=1

. spanmon_lib.sh
spanmon --reset || fail "spanmon --reset"
spanmon_bg /tmp/spanmon-top.log -i 3600 -n 2 ||
	fail "spanmon top did not start: $(cat /tmp/spanmon-top.log)"
top=$spanmon_pid

"$ta" >/tmp/span_attach.log 2>&1 || { tail -5 /tmp/span_attach.log; fail "$ta failed"; }
"$t" >/tmp/span_comap.log 2>&1 || { tail -5 /tmp/span_comap.log; fail "$t failed"; }
if [ $access = 1 ]; then
	"$tx" >/tmp/span_access.log 2>&1 || { tail -5 /tmp/span_access.log; fail "$tx failed"; }
fi
sleep 1
kill -INT $top; wait $top

spanmon json >/tmp/snap.json || fail "spanmon json"
q() { jq -r "$1" /tmp/snap.json; }
# op OP [VM]: how many OP were timed (VM: a label prefix; comms are cut at 15).
op() { q "[.series[] | select(.kind == \"span_op\" and .op == \"$1\" and (.vm | startswith(\"${2:-}\"))) | .count] | add // 0"; }

q '.series[] | select(.kind == "span_op") | "\(.vm) \(.op) count \(.count) p50 \(.p50_ns) p99 \(.p99_ns) ns"'
q '.span_ops[] | "\(.vm) \(.op) \(.reason): \(.events) events, \(.pages) pages, \(.abandoned) abandoned, \(.no_start) no start"'
# ev OP REASON [VM]: span events counted, timed or not.
ev() { q "[.span_ops[] | select(.op == \"$1\" and .reason == \"$2\" and (.vm | startswith(\"${3:-}\"))) | .events] | add // 0"; }
attach=$(op attach span_comap_test)
detach=$(op detach span_comap_test)
sync=$(op shadow_sync span_comap_test)
sync_p99=$(q '[.series[] | select(.kind == "span_op" and .op == "shadow_sync") | .p99_ns] | max // 0')
fault_syncs=$(ev shadow_sync fault span_comap_test)
zaps=$(ev shadow_sync zap span_comap_test)
detach_ioctl=$(ev detach ioctl span_comap_test)
a_attach=$(op attach span_attach_tes)
a_detach=$(op detach span_attach_tes)
echo "span_comap_test: attach $attach detach $detach shadow_sync $sync (of $fault_syncs fault syncs, p99 $sync_p99 ns), $zaps zaps"
echo "span_attach_test: attach $a_attach detach $a_detach"
# span_comap_test attaches 7 times and detaches 5 times (span_trace.sh);
# its views left at exit are released, timed where the kernel starts them.
[ "$attach" -eq 7 ] || fail "$attach attaches of span_comap_test recorded, it makes 7"
[ "$detach_ioctl" -eq 5 ] || fail "$detach_ioctl detach ioctls of span_comap_test counted, it makes 5"
[ "$detach" -ge 5 ] || fail "$detach detaches of span_comap_test timed, it makes 5"
# Each detach zaps, on its own thread: counted, never a latency.
[ "$zaps" -eq 5 ] || fail "$zaps zap shadow syncs of span_comap_test counted, wanted 5"
[ "$sync" -gt 0 ] || fail "no shadow sync latency recorded"
[ "$sync" -le "$fault_syncs" ] || fail "$sync shadow syncs timed, more than the $fault_syncs fault ones"
# A fault's shadow sync ends at its vCPU's next entry: well under 100 ms
# even under TCG (a zap timed to the ioctl thread's next entry read 201 ms).
[ "${sync_p99%.*}" -lt 100000000 ] || fail "shadow sync p99 $sync_p99 ns: a non-fault sync timed?"
[ "$a_attach" -gt 1 ] || fail "$a_attach attaches of span_attach_test recorded (no vCPU ran)"
[ "$a_detach" -gt 1 ] || fail "$a_detach detaches of span_attach_test recorded (no vCPU ran)"
if [ $access = 1 ]; then
	set_access=$(ev set_access ioctl span_access_tes)
	denied=$(ev view_fault denied span_access_tes)
	restrict=$(ev shadow_sync restrict span_access_tes)
	release_unstarted=$(q '[.span_ops[] | select(.op == "detach" and .reason == "release") | .no_start] | add // 0')
	echo "span_access_test: set_access $set_access, denied $denied, restrict $restrict"
	[ "$set_access" -gt 0 ] || fail "no span_set_access counted for span_access_test"
	[ "$denied" -gt 0 ] || fail "no denied view fault counted for span_access_test"
	# The kernel that has set_access starts every release detach.
	[ "$release_unstarted" -eq 0 ] || fail "$release_unstarted release detaches without a start"
else
	echo "span_access_test or span:span_set_access absent: access changes not checked"
fi
dropped=$(q '[.dropped[]] | add')
[ "$dropped" = 0 ] || fail "spanmon dropped $dropped events"
echo "PASS: span_comap_test attach $attach, detach $detach, shadow_sync $sync of $fault_syncs," \
	"$zaps zaps counted; span_attach_test attach $a_attach, detach $a_detach; 0 dropped"
