#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# A featurevisor serves a running span guest: `spanctl fv start` boots an L1
# (the lab's own, unmodified kernel, and spanfv-marker on libspanfv) inside
# the guest's controller; `spanctl attach --readonly` co-maps the guest
# into the L1's window (KVM_SPAN_ATTACH); the featurevisor finds the page
# where the guest's workload keeps its marker and sees its progress counter
# move; `spanctl detach` takes the window away and the featurevisor reads
# nothing of the guest any more, while the guest keeps running.  Bad
# featurevisor requests get one-line errors.
#
# Usage: spanctl_fv.sh [MEM]   (the guest's; default 128M)
mem=${1:-128M}
g=/span/guest
export SPAN_RUN_DIR=/tmp/span-run
log=$SPAN_RUN_DIR/g1.log
fvlog=$SPAN_RUN_DIR/g1.scan.log
append=noxsave		# see spanctl_guest.sh

fail() {
	echo "FAIL: $*"
	for f in "$log" "$fvlog"; do
		[ -f "$f" ] && { echo "--- $f (last 25 lines)"; tail -n 25 "$f" | sed 's/^/guest| /'; }
	done
	cat "$SPAN_RUN_DIR/g1.ctl.log" 2>/dev/null
	spanctl stop g1 >/dev/null 2>&1
	exit 1
}
wait_for() {	# FILE PATTERN SECONDS
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt $(($3 * 5)) ] && return 1
		sleep 0.2
	done
}
progress() { sed -n 's/.*workload: progress \([0-9]*\).*/\1/p' "$log" | tail -n 1; }
# expect_fail NAME CMD...: exit status 1 and one line on stderr.
expect_fail() {
	what=$1; shift
	err=$("$@" 2>&1 >/dev/null); rc=$?
	[ $rc = 1 ] && [ "$(echo "$err" | wc -l)" = 1 ] || fail "$what: exit $rc: $err"
	echo "refused ($what): $err"
}

spanctl start g1 --kernel $g/bzImage --initrd $g/initramfs.cpio.gz --mem "$mem" \
	--cpus 1 --append "$append" || fail "spanctl start"
spanctl fv start g1 scan --kernel $g/bzImage --initrd $g/fv.cpio.gz --append "$append" ||
	fail "spanctl fv start"
st=$(spanctl status g1 --json)
[ "$(echo "$st" | jq -r '.featurevisors[0].name')" = scan ] || fail "no featurevisor in $st"
[ "$(echo "$st" | jq -r '.featurevisors[0].attached')" = false ] || fail "attached too early: $st"

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
[ "$(echo "$st" | jq -r '.featurevisors[0].attached')" = true ] || fail "not attached: $st"
[ "$(echo "$st" | jq -r '.featurevisors[0].readonly')" = true ] || fail "not read-only: $st"
attach_s=$(echo "$st" | jq -r '.featurevisors[0].attach_s')
expect_fail attach_twice spanctl attach g1 scan

wait_for "$fvlog" 'spanfv: guest progress' 60 || fail "the featurevisor found nothing"
grep 'spanfv: found' "$fvlog" | grep -q 'SPAN-WORKLOAD-MARKER pid=' || fail "wrong marker"
grep 'spanfv: found\|spanfv: guest progress' "$fvlog"
set -- $(sed -n 's/.*spanfv: guest progress \([0-9]*\) -> \([0-9]*\).*/\1 \2/p' "$fvlog" | tail -n 1)
[ "${2:-0}" -gt "${1:-0}" ] || fail "the featurevisor saw no progress: $1 -> $2"

p1=$(progress)
spanctl detach g1 scan || fail "spanctl detach"
wait_for "$fvlog" 'spanfv: detached' 20 || fail "the featurevisor did not notice the detach"
grep 'spanfv: detached' "$fvlog"
grep -q 'nothing of the guest is left' "$fvlog" || fail "the window still shows the guest"
detach_s=$(spanctl status g1 --json | jq -r '.featurevisors[0].detach_s')
sleep 2
p2=$(progress)
[ "${p2:-0}" -gt "${p1:-0}" ] || fail "the guest stopped after the detach ($p1 -> $p2)"
spanctl status g1

spanctl stop g1 || fail "spanctl stop"
echo "PASS: featurevisor attached in ${attach_s} s, detached in ${detach_s} s" \
	"(guest $mem); saw progress $1 -> $2; guest progress $p1 -> $p2 after detach"
