#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# spanmon, attached while span_attach_test and span_comap_test attach and
# detach views, must time the span operations: attach and detach from their
# *_start tracepoint to their end in the VMM thread that issues the ioctl,
# shadow sync to the vCPU thread's next kvm_entry; and drop nothing.
# span_attach_test attaches and detaches with no vCPU run in between (its
# only vcpu_run comes last): timed to a kvm_entry, as spanmon once did, at
# most one of its ops would be recorded.  The counts are read by a second spanmon process from the pinned
# maps, as in spanmon_live.sh.
fail() { echo "FAIL: $*"; exit 1; }
t=/span/selftests/x86_64/span_comap_test
ta=/span/selftests/x86_64/span_attach_test

spanmon --reset || fail "spanmon --reset"
spanmon top -i 3600 -n 2 >/dev/null 2>&1 &
top=$!
sleep 3
kill -0 $top 2>/dev/null || fail "spanmon top died"

"$ta" >/tmp/span_attach.log 2>&1 || { tail -5 /tmp/span_attach.log; fail "$ta failed"; }
"$t" >/tmp/span_comap.log 2>&1 || { tail -5 /tmp/span_comap.log; fail "$t failed"; }
sleep 1
kill -INT $top; wait $top

spanmon json >/tmp/snap.json || fail "spanmon json"
q() { jq -r "$1" /tmp/snap.json; }
# op OP [VM]: how many OP were timed (VM: a label prefix; comms are cut at 15).
op() { q "[.series[] | select(.kind == \"span_op\" and .op == \"$1\" and (.vm | startswith(\"${2:-}\"))) | .count] | add // 0"; }

q '.series[] | select(.kind == "span_op") | "\(.vm) \(.op) count \(.count) p50 \(.p50_ns) ns"'
attach=$(op attach span_comap_test)
detach=$(op detach span_comap_test)
sync=$(op shadow_sync span_comap_test)
a_attach=$(op attach span_attach_tes)
a_detach=$(op detach span_attach_tes)
echo "span_comap_test: attach $attach detach $detach shadow_sync $sync"
echo "span_attach_test: attach $a_attach detach $a_detach"
# span_comap_test attaches 5 times and detaches 3 times (span_trace.sh).
[ "$attach" -eq 5 ] || fail "$attach attaches of span_comap_test recorded, it makes 5"
[ "$detach" -eq 3 ] || fail "$detach detaches of span_comap_test recorded, it makes 3"
[ "$sync" -gt 0 ] || fail "no shadow sync latency recorded"
[ "$a_attach" -gt 1 ] || fail "$a_attach attaches of span_attach_test recorded (no vCPU ran)"
[ "$a_detach" -gt 1 ] || fail "$a_detach detaches of span_attach_test recorded (no vCPU ran)"
dropped=$(q '[.dropped[]] | add')
[ "$dropped" = 0 ] || fail "spanmon dropped $dropped events"
echo "PASS: span_comap_test attach $attach, detach $detach, shadow_sync $sync;" \
	"span_attach_test attach $a_attach, detach $a_detach; 0 dropped"
