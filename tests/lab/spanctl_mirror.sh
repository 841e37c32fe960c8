#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Mirroring from write notifications: two spanfv-mirror featurevisors, one
# with 1000 ms rounds and one with 100 ms rounds, each keep a copy of the
# whole guest in their own L1's RAM while the guest's workload writes
# random memory (KVM_SPAN_ACCESS_NOTIFY armed on the whole guest, then per
# round: harvest the dispatcher's dirty bitmap, re-arm those pages, copy
# them).  Then `spanctl pause` stops the guest's vCPUs, each mirror does a
# last round and compares every page of its copy with the guest, byte for
# byte: 0 mismatching pages, twice (pause, resume, pause again).
#
# Usage: spanctl_mirror.sh [MEM] [RAND_MIB]   (default 128M, 32)
mem=${1:-128M}
rand=${2:-32}
export SPAN_RUN_DIR=/tmp/span-run
log=$SPAN_RUN_DIR/g1.log
m1=$SPAN_RUN_DIR/g1.m1000.log
m2=$SPAN_RUN_DIR/g1.m100.log
fv_logs="$m1 $m2"
. "$(dirname "$0")/spanctl_lib.sh"

spanctl start g1 --kernel $g/bzImage --initrd $g/initramfs.cpio.gz --mem "$mem" \
	--cpus 1 --append "$append span.rand=$rand" || fail "spanctl start"
for p in 1000 100; do
	spanctl fv start g1 m$p --mem 320M --kernel $g/bzImage --initrd $g/fv.cpio.gz \
		--append "$append quiet spanfv.prog=mirror spanfv.period=$p" ||
		fail "spanctl fv start m$p"
done
wait_for "$log" 'workload: rand' 120 || fail "the guest's random writes did not start"
expect_fail resume_running spanctl resume g1
for p in 1000 100; do
	wait_for $SPAN_RUN_DIR/g1.m$p.log 'spanfv-mirror: a copy of' 90 || fail "m$p did not start"
	spanctl attach g1 m$p --readonly || fail "spanctl attach m$p"
done
for f in "$m1" "$m2"; do
	wait_for "$f" 'spanfv-mirror: full copy (start)' 120 || fail "no full copy in $f"
	grep 'full copy' "$f"
done
# A few rounds while the guest writes.
wait_for "$m1" 'spanfv-mirror: round 4:' 60 || fail "m1000 did not do 4 rounds"
wait_for "$m2" 'spanfv-mirror: round 30:' 60 || fail "m100 did not do 30 rounds"
expect_progress "while mirrored"
for f in "$m1" "$m2"; do
	grep 'spanfv-mirror: round' "$f" | tail -n 3
	grep 'spanfv-mirror: round' "$f" | grep -q 'round [0-9]*: [1-9][0-9]* pages copied' ||
		fail "$(basename "$f"): no round copied a page: the notifications did not come"
done

for n in 1 2; do
	spanctl pause g1 || fail "spanctl pause ($n)"
	[ "$(spanctl status g1 --json | jq -r .state)" = paused ] || fail "not paused"
	expect_fail pause_twice spanctl pause g1
	a=$(progress); sleep 2
	[ "$(progress)" = "$a" ] || fail "the guest ran while paused ($a -> $(progress))"
	for f in "$m1" "$m2"; do
		wait_for "$f" "spanfv-mirror: verify (pause $n)" 120 || fail "no verify $n in $f"
		v=$(grep "spanfv-mirror: verify (pause $n)" "$f")
		echo "$(basename "$f"): $v"
		echo "$v" | grep -q ', 0 mismatching pages' ||
			fail "$(basename "$f"): $(grep 'differs\|verify' "$f" | tail -n 12)"
	done
	spanctl resume g1 || fail "spanctl resume ($n)"
	expect_progress "after resume $n"
	# More rounds before the next pause.
	r=$(grep -c 'spanfv-mirror: round' "$m1")
	wait_for "$m1" "spanfv-mirror: round $((r + 3)):" 60 || fail "m1000 stopped its rounds"
done
for f in "$m1" "$m2"; do
	grep -q 'spanfv-mirror: loss' "$f" && echo "$(basename "$f"): $(grep 'loss' "$f" | head -n 3)"
done
r1=$(grep -c 'spanfv-mirror: round' "$m1")
spanctl detach g1 m1000 && spanctl detach g1 m100 || fail "spanctl detach"
spanctl stop g1 || fail "spanctl stop"
echo "PASS: two mirrors (1000 ms, 100 ms) of a $mem guest under $rand MiB of random" \
	"writes: byte-exact at two pauses ($r1 rounds at 1000 ms)"
