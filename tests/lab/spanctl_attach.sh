#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Attach and detach time against guest memory size: for each SIZE, a span
# guest of that size and one featurevisor; ROUNDS x (attach, detach) of the
# whole guest, each timed by the controller around KVM_SPAN_ATTACH /
# KVM_SPAN_DETACH; prints a table (min and median) and checks the guest
# kept running.  Span's prototype: about 220 ms per GiB; the target: flat.
#
# Usage: spanctl_attach.sh ROUNDS SIZE...   (e.g. 5 256M 1G)
rounds=${1:-5}; shift
[ $# -gt 0 ] || set -- 256M 1G
export SPAN_RUN_DIR=/tmp/span-run
log=$SPAN_RUN_DIR/g1.log
fv_logs=$SPAN_RUN_DIR/g1.scan.log
. "$(dirname "$0")/spanctl_lib.sh"
# median and min of the numbers on stdin, in ms with 3 decimals
stats() { sort -n | awk '{ v[NR] = $1 } END { printf "%8.3f %8.3f", v[1] * 1000, v[int((NR + 1) / 2)] * 1000 }'; }

table=
for size in "$@"; do
	spanctl start g1 --kernel $g/bzImage --initrd $g/initramfs.cpio.gz --mem "$size" \
		--cpus 1 --append "$append" >/dev/null || fail "spanctl start --mem $size"
	spanctl fv start g1 scan --kernel $g/bzImage --initrd $g/fv.cpio.gz --append "$append quiet" ||
		fail "spanctl fv start"
	# Once the L1 has mapped its BAR, attach lands where it looks.
	wait_for "$SPAN_RUN_DIR/g1.scan.log" 'spanfv: window of' 90 || fail "no featurevisor"
	: >/tmp/attach.s; : >/tmp/detach.s
	r=0
	while [ $r -lt "$rounds" ]; do
		spanctl attach g1 scan --readonly || fail "attach, round $r"
		spanctl status g1 --json | jq -r '.featurevisors[0].attach_s' >>/tmp/attach.s
		spanctl detach g1 scan || fail "detach, round $r"
		spanctl status g1 --json | jq -r '.featurevisors[0].detach_s' >>/tmp/detach.s
		r=$((r + 1))
	done
	st=$(spanctl status g1 --json)
	[ "$(echo "$st" | jq -r .state)" = running ] || fail "the guest stopped: $st"
	spanctl stop g1 || fail "spanctl stop"
	table="$table$(printf '%-8s %6s  %s  %s' "$size" "$rounds" \
		"$(stats </tmp/attach.s)" "$(stats </tmp/detach.s)")
"
done
echo "attach/detach of a whole span guest (ms, controller-side, lab: TCG)"
printf '%-8s %6s  %8s %8s  %8s %8s\n' size rounds att.min att.med det.min det.med
printf '%s' "$table"
echo "PASS: $rounds attach/detach rounds at each of $*"
