#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Turn a lab console log into results: one line per test,
# STATUS<TAB>lab:NAME<TAB>detail with STATUS in PASS FAIL SKIP QUARANTINED,
# plus lab:kernel-health (any kernel WARN/BUG/oops/lockdep/RCU/lockup report
# fails it, naming the test it came during) and lab:run-complete (the guest
# reached the end).  Each test's output goes to RESDIR/NAME.log.  A test
# that failed with the signature its QUARANTINE entry gives (see
# tests/lab/quarantine.list) is QUARANTINED, with the reason: it neither
# passes nor fails the run.  Separate from lab-run.sh so that host tests can
# feed it canned consoles.
#
# A stock selftest whose guest took an unhandled exception (as
# tests/lab/selftest reports it) gets one more line in its log, naming the
# guest instruction at the faulting RIP, read from the selftest binary in
# SELFTESTS (the guest runs the selftest's own code at its ELF addresses):
#   lab: guest exception 0x6 in x86_64/state_test on vmovdqu (0x40224e: c5 fa 6f 44 24 30)
# so that a quarantine signature can name the instruction.
#
# Usage: lab-results.sh CONSOLE LIST RESDIR OUT QEMU_STATUS TIMEOUT ACCEL ELAPSED [QUARANTINE [SELFTESTS]]
# Exits 1 if anything failed.

set -euo pipefail
console=$1 list=$2 res=$3 out=$4 qrc=$5 timeout=$6 accel=$7 elapsed=$8 quarantine=${9:-}
selftests=${10:-}
mkdir -p "$res"
rm -f "$res/ends"
: >"$out"
failed=0

# The quarantine: NAME "SIGNATURE" REASON a line.  A line that is not that
# fails the run (a typo must not quietly un-quarantine, or quarantine, a test).
declare -A qsig=() qwhy=()
if [ -n "$quarantine" ]; then
	n=0
	while IFS= read -r line; do
		n=$((n + 1))
		[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
		if [[ $line =~ ^([^[:space:]\"]+)[[:space:]]+\"([^\"]+)\"[[:space:]]+([^[:space:]].*)$ ]] &&
			[ -z "${qsig[${BASH_REMATCH[1]}]:-}" ]; then
			qsig[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
			qwhy[${BASH_REMATCH[1]}]=${BASH_REMATCH[3]}
		else
			printf 'FAIL\tlab:quarantine-list\t%s:%s: not NAME "SIGNATURE" REASON, or NAME twice: %s\n' \
				"$quarantine" "$n" "$line" >>"$out"
			failed=1
		fi
	done <"$quarantine"
fi

# Per-test output goes to $res/NAME.log; each test's end (status, time) to
# $res/ends.
awk -v res="$res" '
	function marker(line,    i) { i = index(line, "@@SPAN-"); return i ? substr(line, i) : "" }
	{
		m = marker($0)
		if (m ~ /^@@SPAN-BEGIN /) { split(m, f, " "); cur = f[2]; next }
		if (m ~ /^@@SPAN-END /) {
			split(m, f, " "); sub(/^rc=/, "", f[3]); sub(/^ms=/, "", f[4])
			print f[2], f[3], f[4] > (res "/ends")
			cur = ""; next
		}
		if (cur != "") print > (res "/" cur ".log")
	}' "$console"
touch "$res/ends"

# The guest instruction behind an unhandled guest exception.
guest_insn() {	# PATH VECTOR RIP (hex, no 0x)
	local bin=$selftests/$1 line bytes insn
	line=$(objdump -d --start-address="0x$3" --stop-address=$((0x$3 + 16)) "$bin" 2>/dev/null |
		grep -m1 -E "^ *$3:	" || true)
	IFS=$'\t' read -r _ bytes insn <<<"$line"
	read -r -a bytes <<<"$bytes"
	if [ -n "$insn" ]; then
		echo "lab: guest exception 0x$2 in $1 on ${insn%% *} (0x$3: ${bytes[*]})"
	else
		echo "lab: guest exception 0x$2 in $1 at 0x$3, instruction unknown (no $bin to read it from)"
	fi
}
if [ -n "$selftests" ]; then
	ex_re="^selftest: ([^ ]+) failed \(exit [0-9]+\): Unhandled exception '0x([0-9a-f]+)' at guest RIP '0x([0-9a-f]+)'"
	for log in "$res"/*.log; do
		[ -f "$log" ] || continue
		{ grep -E "$ex_re" "$log" || true; } | while read -r line; do
			[[ $line =~ $ex_re ]] && guest_insn "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}"
		done >"$res/insn"
		cat "$res/insn" >>"$log"
	done
	rm -f "$res/insn"
fi

while read -r tname tlimit _; do
	end=$(awk -v n="$tname" '$1 == n { print $2, $3 }' "$res/ends")
	if [ -z "$end" ]; then
		if grep -q "@@SPAN-BEGIN $tname\$" "$console"; then
			detail="did not finish (kernel hang or crash, or the whole run hit ${timeout}s)"
		else
			detail="never started"
		fi
		printf 'FAIL\tlab:%s\t%s\n' "$tname" "$detail" >>"$out"
		failed=1
		continue
	fi
	read -r rc ms <<<"$end"
	if [ "$rc" = 0 ]; then
		printf 'PASS\tlab:%s\t%s ms\n' "$tname" "$ms" >>"$out"
	elif [ "$rc" = 4 ]; then
		printf 'SKIP\tlab:%s\t%s\n' "$tname" "$(tail -1 "$res/$tname.log" 2>/dev/null)" >>"$out"
	else
		why="exit status $rc"
		[ "$rc" = 137 ] && grep -q "timed out after" "$res/$tname.log" 2>/dev/null &&
			why="timed out after ${tlimit}s"
		sig=${qsig[$tname]:-}
		if [ -n "$sig" ] && grep -qF -- "$sig" "$res/$tname.log" 2>/dev/null; then
			printf 'QUARANTINED\tlab:%s\t%s, a known flake: %s (log: %s)\n' \
				"$tname" "$why" "${qwhy[$tname]}" "$res/$tname.log" >>"$out"
		else
			printf 'FAIL\tlab:%s\t%s (log: %s)\n' "$tname" "$why" "$res/$tname.log" >>"$out"
			failed=1
		fi
	fi
done < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' -e '/^@/d' "$list")

# Kernel health: any report from the kernel (printk lines carry a timestamp,
# user-space output does not) fails the run, naming the test it came during.
# Lockdep and RCU-debug reports start with "WARNING:" or "BUG:" too.
splat_re='^\[ *[0-9]+\.[0-9]+\] .*(WARNING:|BUG:|INFO: |Oops|Kernel panic|general protection fault|kernel BUG at|Call Trace:|detected stall|soft lockup|hard LOCKUP|UBSAN:|KASAN:)'
splat=$(grep -nE "$splat_re" "$console" | head -1 || true)
if [ -n "$splat" ]; then
	line=${splat%%:*}
	during=$(head -n "$line" "$console" | grep -o '@@SPAN-BEGIN [^ ]*' | tail -1 | cut -d' ' -f2 || true)
	printf 'FAIL\tlab:kernel-health\t%s (during %s; console: %s)\n' \
		"${splat#*:}" "${during:-boot}" "$console" >>"$out"
	failed=1
else
	printf 'PASS\tlab:kernel-health\tno WARN/BUG/oops/lockdep/stall reports\n' >>"$out"
fi
if grep -q '@@SPAN-DONE' "$console"; then
	printf 'PASS\tlab:run-complete\t%ss, %s\n' "$elapsed" "$accel" >>"$out"
elif [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	printf 'FAIL\tlab:run-complete\twhole run timed out after %ss (hang?)\n' "$timeout" >>"$out"
	failed=1
else
	printf 'FAIL\tlab:run-complete\tQEMU exited (status %s) before the tests finished (panic?)\n' "$qrc" >>"$out"
	failed=1
fi

exit $failed
