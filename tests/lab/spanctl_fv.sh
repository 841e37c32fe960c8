#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# A featurevisor serves a running span guest: `spanctl fv start` boots an L1
# (the lab's own, unmodified kernel, and spanfv-marker on libspanfv) inside
# the guest's controller; `spanctl attach --readonly` co-maps the guest
# into the L1's window (KVM_SPAN_ATTACH); the featurevisor finds the page
# where the guest's workload keeps its marker and sees its progress counter
# move, and its page walker, from a CR3 of the guest's, translates the
# page's address in the guest kernel's direct map back to it; `spanctl detach` takes the window away and the featurevisor reads
# nothing of the guest any more, while the guest keeps running.  Attached
# again and then stopped (as if killed), it is detached automatically.  Bad
# featurevisor requests get one-line errors.
#
# Usage: spanctl_fv.sh [MEM]   (the guest's; default 128M)
mem=${1:-128M}
export SPAN_RUN_DIR=/tmp/span-run
log=$SPAN_RUN_DIR/g1.log
fvlog=$SPAN_RUN_DIR/g1.scan.log
fv_logs=$fvlog
. "$(dirname "$0")/spanctl_lib.sh"

spanctl start g1 --kernel $g/bzImage --initrd $g/initramfs.cpio.gz --mem "$mem" \
	--cpus 1 --append "$append" || fail "spanctl start"
spanctl fv start g1 scan --kernel $g/bzImage --initrd $g/fv.cpio.gz \
	--append "$append quiet" || fail "spanctl fv start"
st=$(spanctl status g1 --json)
[ "$(echo "$st" | jq -r '.featurevisors[0].name')" = scan ] || fail "no featurevisor in $st"
[ "$(fv_state scan)" = "running false" ] || fail "scan: $(fv_state scan) at start"

wait_for "$log" 'workload: progress [1-9]' 90 || fail "the guest's workload did not run"
wait_for "$fvlog" 'spanfv: window of' 60 || fail "the featurevisor did not map its window"
grep 'spanfv: window of' "$fvlog"

expect_fail unknown_fv spanctl attach g1 nosuch
expect_fail detach_unattached spanctl detach g1 scan
expect_fail duplicate_fv spanctl fv start g1 scan --kernel $g/bzImage --initrd $g/fv.cpio.gz
expect_fail unknown_guest spanctl attach nosuch scan

spanctl attach g1 scan --readonly || fail "spanctl attach"
st=$(spanctl status g1 --json)
echo "$st"
[ "$(fv_state scan)" = "running true" ] || fail "not attached: $st"
[ "$(echo "$st" | jq -r '.featurevisors[0].readonly')" = true ] || fail "not read-only: $st"
attach_s=$(echo "$st" | jq -r '.featurevisors[0].attach_s')
expect_fail attach_twice spanctl attach g1 scan

wait_for "$fvlog" 'spanfv: guest progress' 60 || fail "the featurevisor found nothing"
grep 'spanfv: found' "$fvlog" | grep -q 'SPAN-WORKLOAD-MARKER pid=' || fail "wrong marker"
grep 'spanfv: found\|spanfv: through\|spanfv: guest progress' "$fvlog"
grep 'spanfv: through the guest' "$fvlog" | grep -q ': matches' ||
	fail "the page walk through the guest's page tables did not find the marker's page"
set -- $(sed -n 's/.*spanfv: guest progress \([0-9]*\) -> \([0-9]*\).*/\1 \2/p' "$fvlog" | tail -n 1)
[ "${2:-0}" -gt "${1:-0}" ] || fail "the featurevisor saw no progress: $1 -> $2"
seen="$1 -> $2"

spanctl detach g1 scan || fail "spanctl detach"
wait_for "$fvlog" 'spanfv: detached' 60 || fail "the featurevisor did not notice the detach"
grep 'spanfv: detached' "$fvlog"
grep -q 'nothing of the guest is left' "$fvlog" || fail "the window still shows the guest"
detach_s=$(spanctl status g1 --json | jq -r '.featurevisors[0].detach_s')
expect_progress "after the detach"

# Attached again, then stopped as if killed: detached at once.
spanctl attach g1 scan || fail "spanctl attach (again)"
[ "$(fv_state scan)" = "running true" ] || fail "scan: $(fv_state scan)"
spanctl fv stop g1 scan || fail "spanctl fv stop"
expect_fv_state scan "stopped false" 20
expect_fail fv_stop_twice spanctl fv stop g1 scan
expect_fail attach_stopped spanctl attach g1 scan
expect_progress "after its featurevisor was stopped"
spanctl status g1

spanctl stop g1 || fail "spanctl stop"
echo "PASS: featurevisor attached in ${attach_s} s, detached in ${detach_s} s" \
	"(guest $mem); it saw the guest's progress $seen"
