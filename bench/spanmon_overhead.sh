#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# spanmon's overhead, measured in the lab on real VM exits:
#  1. the slowdown of an exit-heavy KVM loop (kvmloop) with spanmon attached
#     against without, in the same run, alternating so drift in the emulator
#     hits every side alike; kvmexits (one hash-map counter per exit) is the
#     baseline for "any BPF program on kvm_exit";
#  2. each BPF program's own cost, run_time_ns / run_cnt, with
#     kernel.bpf_stats_enabled=1 (the kernel's own accounting).
# Prints a table; fails only if a measurement could not be taken.
# Usage: spanmon_overhead.sh [EXITS_PER_RUN] [ROUNDS]
n=${1:-20000}
rounds=${2:-5}
fail() { echo "FAIL: $*"; exit 1; }
per_exit() { kvmloop -n "$n" -j | jq -r .ns_per_exit; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
. spanmon_lib.sh

spanmon --reset >/dev/null || fail "spanmon --reset"
# Statistics cost two clock reads per program run: off while timing kvmloop,
# on only for the last round, which measures the programs.
echo 0 >/proc/sys/kernel/bpf_stats_enabled || fail "no kernel.bpf_stats_enabled"
: >/tmp/off; : >/tmp/on; : >/tmp/base
kvmloop -n 1000 >/dev/null || fail "kvmloop"	# warm up
i=0
while [ $i -le "$rounds" ]; do
	last=0; [ $i = "$rounds" ] && last=1
	if [ $last = 1 ]; then
		echo 1 >/proc/sys/kernel/bpf_stats_enabled
		off=/dev/null on=/dev/null base=/dev/null
	else
		off=/tmp/off on=/tmp/on base=/tmp/base
	fi
	per_exit >>$off || fail "kvmloop (spanmon off)"
	kvmexits -j -- sh -c "kvmloop -n $n -j | jq -r .ns_per_exit >>$base &&
		bpftool prog show -j >/tmp/base-progs.json" >/dev/null ||
		fail "kvmloop under kvmexits"
	spanmon_bg /tmp/spanmon-top.log -i 3600 -n 2 || fail "spanmon did not start"
	mon=$spanmon_pid
	per_exit >>$on || fail "kvmloop (spanmon on)"
	# Program stats while spanmon's programs are still loaded.
	[ $last = 1 ] && bpftool prog show -j >/tmp/progs.json
	kill -INT $mon; wait $mon
	i=$((i + 1))
done

off=$(median </tmp/off)
on=$(median </tmp/on)
base=$(median </tmp/base)
printf '\nkvmloop, %d port-I/O exits per run, %d runs each (ns per exit):\n' "$n" "$rounds"
printf '  %-26s %10s %10s   %s\n' SETUP MEDIAN SLOWDOWN RUNS
row() {
	awk -v l="$1" -v a="$off" -v b="$2" -v r="$(tr '\n' ' ' <"$3")" \
		'BEGIN { printf "  %-26s %10d %9.1f%%   %s\n", l, b, (b - a) * 100 / a, r }'
}
row "no BPF" "$off" /tmp/off
row "kvmexits (1 counter)" "$base" /tmp/base
row "spanmon attached" "$on" /tmp/on

printf '\nBPF programs, one extra run of each tool with bpf_stats_enabled:\n'
printf '  %-9s %-20s %10s %14s %10s\n' TOOL PROGRAM RUNS RUN_TIME_NS NS/RUN
progs() {
	jq -r '.[] | select(.run_cnt != null and .run_cnt > 0) |
		[.name, .run_cnt, .run_time_ns] | @tsv' "$2" |
		while IFS='	' read -r name cnt ns; do
			printf '  %-9s %-20s %10s %14s %10s\n' "$1" "$name" "$cnt" "$ns" "$((ns / cnt))"
		done
}
[ -s /tmp/progs.json ] && [ -s /tmp/base-progs.json ] || fail "no program statistics"
progs kvmexits /tmp/base-progs.json
progs spanmon /tmp/progs.json
echo 0 >/proc/sys/kernel/bpf_stats_enabled
