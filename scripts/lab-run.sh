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
#   --only A,B      run only the tests of LIST with these names
#   --quarantine F  known flakes (default tests/lab/quarantine.list; /dev/null:
#                   none): a failure with its entry's signature is reported
#                   QUARANTINED, with the reason, and does not fail the run
# Environment: O (build dir, default out), LAB_ACCEL=tcg|kvm to force one,
# LAB_QEMU / LAB_QEMU_DATA another QEMU and its firmware directory,
# LAB_HEARTBEAT seconds between heartbeat keys (default 0.5, 0 = none: see
# scripts/lab-monitor.py).

set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"

O=${O:-$top/out}
kdir=$O/kernel
bindir=$O/lab-bin
results=$O/lab
name= smp=2 mem=2G timeout= shell=0 quiet=0 list= only=
quarantine=$top/tests/lab/quarantine.list
while [ $# -gt 0 ]; do
	case $1 in
	--shell) shell=1 ;;
	--results) results=$2; shift ;;
	--name) name=$2; shift ;;
	--smp) smp=$2; shift ;;
	--mem) mem=$2; shift ;;
	--timeout) timeout=$2; shift ;;
	--quiet) quiet=1 ;;
	--only) only=$2; shift ;;
	--quarantine) quarantine=$2; shift ;;
	-*) die "lab-run.sh: unknown option $1" ;;
	*) list=$1 ;;
	esac
	shift
done
[ -f "$kdir/bzImage" ] || die "no lab kernel in $kdir: run 'make kernel'"
[ -r "$quarantine" ] || die "lab-run.sh: cannot read the quarantine list $quarantine"
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

if [ -n "$only" ]; then
	sub=$res/tests.list
	awk -v only=",$only," '/^@/ { print; next } /^[[:space:]]*(#|$)/ { next } index(only, "," $1 ",")' "$list" >"$sub"
	grep -qv '^@' "$sub" || die "--only $only: no such test in $list"
	list=$sub
fi

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
# LAB_QEMU: another QEMU binary (LAB_QEMU_DATA: its firmware directory).
qemu=("${LAB_QEMU:-qemu-system-x86_64}" ${LAB_QEMU_DATA:+-L "$LAB_QEMU_DATA"}
	"${machine[@]}" -m "$mem" -smp "$smp"
	-kernel "$kdir/bzImage" -initrd "$initrd" -append "$append" -no-reboot)

if [ $shell = 1 ]; then
	info "lab shell ($accel, $smp vCPUs): Ctrl-A X quits QEMU"
	exec "${qemu[@]}" -nographic
fi

# Whole-run limit: every test's own limit, plus boot and slack.
if [ -z "$timeout" ]; then
	timeout=$(awk '!/^[[:space:]]*(#|@|$)/ { s += $2 } END { print s + 120 }' "$list")
fi
info "lab: $name on $accel, $smp vCPUs, $mem, limit ${timeout}s ($(uname -m) host)"
quarantined=$(awk 'FILENAME == ARGV[1] { if ($0 !~ /^[[:space:]]*(#|$)/) q[$1] = 1; next }
	!/^[[:space:]]*(#|@|$)/ && ($1 in q) { printf " %s", $1 }' "$quarantine" "$list")
[ -z "$quarantined" ] ||
	info "lab: quarantined (a failure with its known signature is QUARANTINED, see $quarantine):$quarantined"

console=$res/console.log
# scripts/lab-monitor.py holds QEMU's monitor for the whole run: it presses
# a key on the lab's keyboard every half second (the interrupt heartbeat: it
# recovers a lab interrupt QEMU's TCG lost while the lab ran a guest, which
# would otherwise hang the lab for good; the script says why), and, for a run
# about to hit the whole-run limit (a hung lab), takes the vCPUs' registers,
# local APIC and code into $res/hang-registers.txt first.
mon=$res/monitor.sock
regs=$res/hang-registers.txt
rm -f "$mon" "$regs"
python3 "$top/scripts/lab-monitor.py" "$mon" "$((timeout > 40 ? timeout - 20 : timeout))" \
	"${LAB_HEARTBEAT:-0.5}" >"$regs.tmp" 2>&1 </dev/null &
watcher=$!
t0=$SECONDS
set +e
if [ $quiet = 1 ]; then
	timeout -k 10 "$timeout" "${qemu[@]}" -display none -serial stdio \
		-monitor "unix:$mon,server=on,wait=off" \
		</dev/null 2>&1 | stdbuf -oL tr -d '\r' >"$console"
else
	timeout -k 10 "$timeout" "${qemu[@]}" -display none -serial stdio \
		-monitor "unix:$mon,server=on,wait=off" \
		</dev/null 2>&1 | stdbuf -oL tr -d '\r' | tee "$console"
fi
qrc=${PIPESTATUS[0]}
set -e
elapsed=$((SECONDS - t0))
if [ -n "$watcher" ]; then
	kill "$watcher" 2>/dev/null || true
	wait "$watcher" 2>/dev/null || true
fi
if [ -s "$regs.tmp" ] && grep -q 'RIP=' "$regs.tmp"; then
	mv "$regs.tmp" "$regs"
	info "lab: the hung lab's vCPUs, taken before the limit: $regs"
fi
rm -f "$regs.tmp" "$mon"

# ---- results -------------------------------------------------------------------
set +e
"$top/scripts/lab-results.sh" "$console" "$list" "$res" "$res.results" \
	"$qrc" "$timeout" "$accel" "$elapsed" "$quarantine" "$kdir/selftests"
failed=$?
set -e
out=$res.results
echo
echo "lab results ($name, ${elapsed}s):"
sed 's/^/  /' "$out"
exit $failed
