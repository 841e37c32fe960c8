#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Boot a span guest to user space and stop it, N times in a row: the
# stress test for VM boots under nested SVM (each boot calibrates and
# verifies the guest's local APIC timer and brings up its second vCPU,
# where a lost lab interrupt shows: tests/lab/bootloop.list).  Prints each
# boot's time to user space, the lab's load and its busiest commands (a
# controller that outlived its stop would show).
#
# Usage: spanctl_bootloop.sh [N [MEM [CPUS]]]
n=${1:-20}
mem=${2:-128M}
cpus=${3:-2}
export SPAN_RUN_DIR=/tmp/span-run
log=$SPAN_RUN_DIR/g1.log
. "$(dirname "$0")/spanctl_lib.sh"
k=0
while [ $k -lt "$n" ]; do
	k=$((k + 1))
	t0=$(now)
	out=$(spanctl start g1 --kernel "$g/bzImage" --initrd "$g/initramfs.cpio.gz" --mem "$mem" \
		--cpus "$cpus" --append "$append" 2>&1) || fail "boot $k: spanctl start: $out"
	wait_for "$log" '^span-guest: user space up' 90 || fail "boot $k: no user space within 90 s"
	t1=$(now)
	spanctl stop g1 || fail "boot $k: spanctl stop failed"
	left=$(grep -lx spanctl /proc/[0-9]*/comm 2>/dev/null)
	[ -z "$left" ] || fail "boot $k: a spanctl process outlived the stop: $left"
	echo "boot $k: user space in $(( (t1 - t0) * 10 )) ms; load $(cut -d' ' -f1-4 /proc/loadavg);" \
		"$(cat /proc/[0-9]*/comm 2>/dev/null | sort | uniq -c | sort -rn | head -4 | tr -s ' \n' ' ')"
	rm -f "$log"
done
echo "PASS: $n boots"
