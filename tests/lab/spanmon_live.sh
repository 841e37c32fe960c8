#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# spanmon, attached while KVM programs and a nested selftest run in the lab,
# must report nonzero, plausible histograms: kvmloop's port-I/O exits under
# the SVM reason "ioio" (read with CO-RE from the VMCB), as many as kvmloop
# made (but the last, never re-entered), with a sane median; page faults;
# exits reflected to L1 by the nested selftest (state_test enters L2 more
# than once, so some nested exits are followed by another VMRUN from L1);
# and nothing dropped.  The counts are read by a second spanmon process
# after the first one exited: state survives in the pinned maps.
n=${1:-5000}
fail() { echo "FAIL: $*"; exit 1; }

spanmon --reset || fail "spanmon --reset"
# Keep spanmon attached (live view, no tty needed) while the workloads run.
spanmon top -i 1 -n 600 >/tmp/spanmon-top.log 2>&1 &
top=$!
sleep 3
kill -0 $top 2>/dev/null || fail "spanmon top died: $(cat /tmp/spanmon-top.log)"

kvmloop -n "$n" || fail "kvmloop"
selftest -r x86_64/state_test >/dev/null || fail "state_test"
sleep 2
kill -INT $top; wait $top
echo "--- the live view's last screen:"
tail -25 /tmp/spanmon-top.log

# A new spanmon process: what it reports comes from the pinned maps.
spanmon json >/tmp/snap.json || fail "spanmon json"
q() { jq -r "$1" /tmp/snap.json; }

io=$(q '[.series[] | select(.kind == "exit" and (.vm | startswith("kvmloop")) and .reason == "ioio") | .count] | add // 0')
echo "kvmloop: $io ioio exits"
# An exit is timed until the vCPU's next entry: kvmloop's last exit has none.
[ "$io" -ge $((n - 1)) ] || fail "spanmon saw $io ioio exits of kvmloop, fewer than its $n - 1"
[ "$io" -le $((n * 2)) ] || fail "spanmon saw $io ioio exits for $n"

p50=$(q '[.series[] | select(.kind == "exit" and (.vm | startswith("kvmloop")) and .reason == "ioio") | .p50_ns] | max')
echo "kvmloop: ioio exit handling p50 ${p50} ns"
# Exit handling under TCG: more than 100 ns, less than 10 ms.
[ "${p50%.*}" -gt 100 ] && [ "${p50%.*}" -lt 10000000 ] || fail "implausible p50 $p50 ns"

pf=$(q '[.series[] | select(.kind == "page_fault") | .count] | add // 0')
[ "$pf" -gt 0 ] || fail "no page faults recorded"
nr=$(q '[.series[] | select(.kind == "nested_reflect" and (.vm | startswith("state_test"))) | .count] | add // 0')
[ "$nr" -gt 0 ] || fail "no exits reflected to L1 recorded for state_test"
nx=$(q '[.series[] | select(.kind == "exit" and (.vm | startswith("state_test"))) | .count] | add // 0')
[ "$nx" -gt 0 ] || fail "no exits recorded for state_test"
dropped=$(q '[.dropped[]] | add')
[ "$dropped" = 0 ] || fail "spanmon dropped $dropped events"
echo "PASS: $io ioio exits (p50 $p50 ns), $pf page faults, $nx state_test exits, $nr reflected to L1, 0 dropped"
