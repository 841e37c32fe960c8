#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the lab kernel under QEMU and run a list of tests inside it.
#
# TCG with `-cpu max` (emulated AMD SVM + nested paging) by default; KVM with
# `-cpu host` when /dev/kvm is usable and nested virtualization is on.  The
# console is streamed and saved; each test's output, status and time come
# back to the host through markers printed by tests/lab/init.  The run fails
# on any failed, skipped-when-required or unfinished test, on any kernel
# WARN, BUG, oops, lockdep or RCU report, soft lockup or hung task, and when
# the guest does not finish within the whole-run timeout.
#
# Usage: scripts/lab-run.sh [options] LIST      run the tests in LIST
#        scripts/lab-run.sh --shell             interactive lab shell
# Options:
#   --results DIR   write NAME.results, console and test logs here (out/lab)
#   --name NAME     results name (default: LIST's basename without .list)
#   --smp N         vCPUs (default 2)        --mem SIZE   (default 2G)
#   --timeout S     whole-run limit (default: sum of test limits + 120 s)
#   --quiet         do not stream the console (it is still saved)
# Environment: O (build dir, default out), LAB_ACCEL=tcg|kvm to force one.

set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"

O=${O:-$top/out}
kdir=$O/kernel
bindir=$O/lab-bin
results=$O/lab
name= smp=2 mem=2G timeout= shell=0 quiet=0 list=
while [ $# -gt 0 ]; do
	case $1 in
	--shell) shell=1 ;;
	--results) results=$2; shift ;;
	--name) name=$2; shift ;;
	--smp) smp=$2; shift ;;
	--mem) mem=$2; shift ;;
	--timeout) timeout=$2; shift ;;
	--quiet) quiet=1 ;;
	-*) die "lab-run.sh: unknown option $1" ;;
	*) list=$1 ;;
	esac
	shift
done
[ -f "$kdir/bzImage" ] || die "no lab kernel in $kdir: run 'make kernel'"
if [ $shell = 1 ]; then
	list=${list:-$top/tests/lab/smoke.list}
	name=${name:-shell}
fi
[ -n "$list" ] && [ -f "$list" ] || die "lab-run.sh: no test list given (or not found: $list)"
name=${name:-$(basename "$list" .list)}
mkdir -p "$results"
res=$results/$name
rm -rf "$res" "$res.results"
mkdir -p "$res"

initrd=$O/lab/$name.cpio.gz
"$top/scripts/lab-initramfs.sh" "$initrd" "$kdir" "$bindir" "$list"

# ---- the machine ---------------------------------------------------------------
accel=${LAB_ACCEL:-}
if [ -z "$accel" ]; then
	accel=tcg
	nested=$(cat /sys/module/kvm_amd/parameters/nested /sys/module/kvm_intel/parameters/nested 2>/dev/null || true)
	if [ -w /dev/kvm ] && echo "$nested" | grep -qE '^(1|Y)$'; then
		accel=kvm
	fi
fi
case $accel in
kvm) machine=(-accel kvm -cpu host) ;;
tcg) machine=(-accel tcg -cpu max) ;;
*) die "LAB_ACCEL must be tcg or kvm" ;;
esac

# The guest's TSC calibration can fail under TCG without a reference: hand it
# the host's TSC frequency (LAB.md).
tsc_khz=$( (dmesg 2>/dev/null || true) | sed -n 's/.*tsc: Detected \([0-9]*\)\.\([0-9]\{3\}\).* MHz.*/\1\2/p' | head -1)
if [ -z "$tsc_khz" ]; then
	tsc_khz=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
fi

mode=test; [ $shell = 1 ] && mode=shell
append="console=ttyS0 panic=-1 kvm_amd.nested=1 kvm_amd.npt=1 span.mode=$mode"
[ -n "$tsc_khz" ] && append="$append tsc_early_khz=$tsc_khz"
qemu=(qemu-system-x86_64 "${machine[@]}" -m "$mem" -smp "$smp"
	-kernel "$kdir/bzImage" -initrd "$initrd" -append "$append" -no-reboot)

if [ $shell = 1 ]; then
	info "lab shell ($accel, $smp vCPUs): Ctrl-A X quits QEMU"
	exec "${qemu[@]}" -nographic
fi

# Whole-run limit: every test's own limit, plus boot and slack.
if [ -z "$timeout" ]; then
	timeout=$(awk '!/^[[:space:]]*(#|$)/ { s += $2 } END { print s + 120 }' "$list")
fi
info "lab: $name on $accel, $smp vCPUs, $mem, limit ${timeout}s ($(uname -m) host)"

console=$res/console.log
t0=$SECONDS
set +e
if [ $quiet = 1 ]; then
	timeout -k 10 "$timeout" "${qemu[@]}" -display none -serial stdio -monitor none \
		</dev/null 2>&1 | tr -d '\r' >"$console"
else
	timeout -k 10 "$timeout" "${qemu[@]}" -display none -serial stdio -monitor none \
		</dev/null 2>&1 | tr -d '\r' | tee "$console"
fi
qrc=${PIPESTATUS[0]}
set -e
elapsed=$((SECONDS - t0))

# ---- results -------------------------------------------------------------------
# One line per test: STATUS<TAB>lab:NAME<TAB>detail, STATUS in PASS FAIL SKIP.
# Per-test output goes to $res/NAME.log.
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

out=$res.results
: >"$out"
failed=0
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
		printf 'FAIL\tlab:%s\t%s (log: %s)\n' "$tname" "$why" "$res/$tname.log" >>"$out"
		failed=1
	fi
done < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list")

# Kernel health: any report from the kernel (printk lines carry a timestamp,
# user-space output does not) fails the run, naming the test it came during.
splat_re='^\[ *[0-9]+\.[0-9]+\] .*(WARNING:|BUG:|INFO: |Oops|Kernel panic|general protection fault|kernel BUG at|Call Trace:|detected stall|soft lockup|hard LOCKUP|UBSAN:|KASAN:|lockdep)'
splat=$(grep -nE "$splat_re" "$console" | head -1 || true)
if [ -n "$splat" ]; then
	line=${splat%%:*}
	during=$(head -n "$line" "$console" | grep -o '@@SPAN-BEGIN [^ ]*' | tail -1 | cut -d' ' -f2)
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

echo
echo "lab results ($name, ${elapsed}s):"
sed 's/^/  /' "$out"
exit $failed
