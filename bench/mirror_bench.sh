#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# What mirroring costs the guest, measured in the lab in one run: the span
# guest's random-write workload (span.rand=MIB: random 8-byte writes over
# MIB MiB, its throughput printed every second) not mirrored, then
# mirrored by spanfv-mirror at 1000, 100 and 25 ms rounds (one featurevisor
# each, attached one at a time), then not mirrored again, so drift in the
# emulator shows.  Prints writes/s per setup and the ratio to the
# unmirrored mean (README targets: <= 5% loss at 1 s, <= 15% at 100 ms),
# and each mirror's rounds (pages copied, round time).
# Usage: mirror_bench.sh [SECONDS_PER_SETUP] [RAND_MIB] [GUEST_MEM]
secs=${1:-10}
rand=${2:-32}
mem=${3:-128M}
export SPAN_RUN_DIR=/tmp/span-run
log=$SPAN_RUN_DIR/g1.log
fv_logs="$SPAN_RUN_DIR/g1.m1000.log $SPAN_RUN_DIR/g1.m100.log $SPAN_RUN_DIR/g1.m25.log"
. "$(dirname "$0")/spanctl_lib.sh"

# The mean of the workload's reports from the next SECONDS seconds.
measure() {
	n=$(grep -c 'workload: rand' "$log")
	sleep "$secs"
	sed -n 's/.*workload: rand \([0-9]*\) writes.*/\1/p' "$log" | tail -n +$((n + 2)) |
		awk '{ s += $1; c++ } END { if (c) printf "%d %d\n", s / c, c; else print "0 0" }'
}

spanctl start g1 --kernel $g/bzImage --initrd $g/initramfs.cpio.gz --mem "$mem" \
	--cpus 1 --append "$append span.rand=$rand" || fail "spanctl start"
for p in 1000 100 25; do
	spanctl fv start g1 m$p --mem 320M --kernel $g/bzImage --initrd $g/fv.cpio.gz \
		--append "$append quiet spanfv.prog=mirror spanfv.period=$p" ||
		fail "spanctl fv start m$p"
done
wait_for "$log" 'workload: rand' 120 || fail "the random writes did not start"
for p in 1000 100 25; do
	wait_for $SPAN_RUN_DIR/g1.m$p.log 'spanfv-mirror: a copy of' 120 || fail "m$p did not start"
done
sleep 3
set -- $(measure); base1=$1; nb1=$2
for p in 1000 100 25; do
	f=$SPAN_RUN_DIR/g1.m$p.log
	spanctl attach g1 m$p --readonly || fail "spanctl attach m$p"
	wait_for "$f" 'spanfv-mirror: full copy (start)' 120 || fail "m$p: no full copy"
	sleep 2
	set -- $(measure)
	eval "w$p=$1 n$p=$2"
	spanctl detach g1 m$p || fail "spanctl detach m$p"
	sleep 2
done
set -- $(measure); base2=$1; nb2=$2
spanctl stop g1 >/dev/null

[ "$base1" -gt 0 ] && [ "$base2" -gt 0 ] || fail "no throughput without a mirror"
base=$(((base1 + base2) / 2))
printf '\nspan guest %s, 1 vCPU, random 8-byte writes over %s MiB; %s s per setup\n' \
	"$mem" "$rand" "$secs"
printf '  %-22s %12s %8s %8s %s\n' SETUP WRITES/S RATIO LOSS REPORTS
row() {
	awk -v l="$1" -v w="$2" -v b="$base" -v n="$3" \
		'BEGIN { printf "  %-22s %12d %8.3f %7.1f%% %s\n", l, w, w / b, (b - w) * 100 / b, n }'
}
row "not mirrored (before)" "$base1" "$nb1"
row "mirrored, 1000 ms" "$w1000" "$n1000"
row "mirrored, 100 ms" "$w100" "$n100"
row "mirrored, 25 ms" "$w25" "$n25"
row "not mirrored (after)" "$base2" "$nb2"
printf '\nmirror rounds while measured (pages copied per round, round time):\n'
for p in 1000 100 25; do
	f=$SPAN_RUN_DIR/g1.m$p.log
	grep 'spanfv-mirror: full copy' "$f" | head -n 1 | sed "s/^/  m$p: /"
	if [ $p -ge 100 ]; then
		sed -n 's/.*round [0-9]*: \([0-9]*\) pages copied.*, \([0-9.]*\) ms .*/\1 \2/p' "$f" |
			awk -v p=$p '{ pg += $1; t += $2; if ($2 > m) m = $2; c++ }
			END { if (c) printf "  m%s: %d rounds, %d pages/round, %.1f ms/round (max %.1f)\n",
				p, c, pg / c, t / c, m }'
	else
		sed -n 's/.*rounds \([0-9]*\)-\([0-9]*\): \([0-9]*\) pages copied, round time avg \([0-9]*\) us max \([0-9]*\).*/\1 \2 \3 \4 \5/p' "$f" |
			awk -v p=$p '{ r += $2 - $1 + 1; pg += $3; t += $4; if ($5 > m) m = $5; c++ }
			END { if (c) printf "  m%s: %d rounds, %d pages/round, %.1f ms/round (max %.1f)\n",
				p, r, pg / r, t / c / 1000, m / 1000 }'
	fi
	grep -q 'spanfv-mirror: loss' "$f" && grep 'spanfv-mirror: loss' "$f" | head -n 2 | sed "s/^/  m$p: /"
done
true
