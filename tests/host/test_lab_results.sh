#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/lab-results.sh on canned consoles: the lab must fail a run on a
# kernel splat, a hung or killed test, a required skip, or a guest that dies
# early, and must not fail it on user-space text or benign boot messages.
#
# Usage: test_lab_results.sh BIN_DIR RESULTS_FILE

top=$(cd "$(dirname "$0")/../.." && pwd)
results=${2:?usage: test_lab_results.sh BIN_DIR RESULTS}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

record() { printf '%s\thost:lab-results:%s\t%s\n' "$1" "$2" "$3" >>"$results"; [ "$1" = PASS ] || failed=1; }

cat >"$tmp/list" <<'L'
# comment
alpha 10 true
beta  20 selftest x86_64/beta
L

# run NAME QEMU_STATUS: parse $tmp/NAME.console into $tmp/NAME.results
run() {
	"$top/scripts/lab-results.sh" "$tmp/$1.console" "$tmp/list" "$tmp/$1" \
		"$tmp/$1.results" "$2" 100 tcg 5 >/dev/null 2>&1
}
# expect NAME CASE WANT_STATUS 'GREP-PATTERN'...: every pattern matches a line
expect() {
	local name=$1 case=$2 want=$3 got; shift 3
	run "$name" "${QRC:-0}"; got=$?
	if [ "$got" != "$want" ]; then
		record FAIL "$case" "exit $got, wanted $want: $(tr '\n' '|' <"$tmp/$name.results")"
		return
	fi
	for p in "$@"; do
		if ! grep -qE "$p" "$tmp/$name.results"; then
			record FAIL "$case" "no line matching '$p' in: $(tr '\n' '|' <"$tmp/$name.results")"
			return
		fi
	done
	record PASS "$case" ""
}

ok_body='[    0.100000] rcu: 	RCU lockdep checking is enabled.
@@SPAN-READY kernel=6.12 cpus=2 kvm=yes nested=1 btf=yes
@@SPAN-BEGIN alpha
WARNING: user space may print this; it is not the kernel
@@SPAN-END alpha rc=0 ms=12
@@SPAN-BEGIN beta
beta output
@@SPAN-END beta rc=0 ms=34'

printf '%s\n@@SPAN-DONE\n' "$ok_body" >"$tmp/ok.console"
expect ok all_pass 0 $'^PASS\tlab:alpha\t12 ms' $'^PASS\tlab:beta' \
	$'^PASS\tlab:kernel-health' $'^PASS\tlab:run-complete'
if grep -qx 'beta output' "$tmp/ok/beta.log" 2>/dev/null; then
	record PASS per_test_log ""
else
	record FAIL per_test_log "beta's output did not reach $tmp/ok/beta.log"
fi

printf '%s\n' "$ok_body" | sed 's/^beta output$/[   12.345678] WARNING: CPU: 1 PID: 80 at arch\/x86\/kvm\/mmu\/mmu.c:123 kvm_mmu_foo+0x1\/0x2/' \
	>"$tmp/warn.console"
echo @@SPAN-DONE >>"$tmp/warn.console"
expect warn warn_fails_run 1 $'^FAIL\tlab:kernel-health\t.*WARNING: CPU: 1.*during beta' $'^PASS\tlab:beta'

printf '%s\n%s\n@@SPAN-DONE\n' "$ok_body" \
	'[   13.000000] WARNING: possible circular locking dependency detected' >"$tmp/lockdep.console"
expect lockdep lockdep_fails_run 1 $'^FAIL\tlab:kernel-health\t.*circular locking'

printf '%s\n%s\n@@SPAN-DONE\n' "$ok_body" '[   14.000000] BUG: kernel NULL pointer dereference, address: 0000000000000008' \
	>"$tmp/bug.console"
expect bug bug_fails_run 1 $'^FAIL\tlab:kernel-health\t.*NULL pointer'

# The guest hung in beta: no END, no DONE, QEMU killed by the whole-run limit.
printf '%s\n' "$ok_body" | sed '/@@SPAN-END beta/d' >"$tmp/hang.console"
QRC=124 expect hang hang_fails_run 1 $'^FAIL\tlab:beta\tdid not finish' \
	$'^FAIL\tlab:run-complete\twhole run timed out'

# The guest died (panic=-1 reboots, QEMU exits 0) before beta started.
printf '%s\n' "$ok_body" | sed '/@@SPAN-BEGIN beta/,$d' >"$tmp/died.console"
echo '[    9.000000] Kernel panic - not syncing: Fatal exception' >>"$tmp/died.console"
expect died panic_fails_run 1 $'^FAIL\tlab:beta\tnever started' \
	$'^FAIL\tlab:run-complete\tQEMU exited' $'^FAIL\tlab:kernel-health\t.*Kernel panic'

printf '%s\n@@SPAN-DONE\n' "$ok_body" | sed 's/@@SPAN-END beta rc=0/@@SPAN-END beta rc=4/' >"$tmp/skip.console"
expect skip skip_counted_apart 0 $'^SKIP\tlab:beta'

printf '%s\n@@SPAN-DONE\n' "$ok_body" |
	sed 's/^beta output$/lab: beta: timed out after 20s, killing it/; s/@@SPAN-END beta rc=0/@@SPAN-END beta rc=137/' \
	>"$tmp/timeout.console"
expect timeout test_timeout_fails 1 $'^FAIL\tlab:beta\ttimed out after 20s'

exit $failed
