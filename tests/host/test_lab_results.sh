#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/lab-results.sh on canned consoles: the lab must fail a run on a
# kernel splat, a hung or killed test, a required skip, or a guest that dies
# early, and must not fail it on user-space text or benign boot messages.  A
# quarantined test (tests/lab/quarantine.list) is QUARANTINED only when it
# failed with its own entry's signature in its own log; a guest exception's
# instruction is read from the selftest binary at the guest RIP.
#
# Usage: test_lab_results.sh BIN_DIR RESULTS_FILE

suite=lab-results
# shellcheck source=tests/host/lab_lib.sh
. "$(dirname "$0")/lab_lib.sh"

cat >"$tmp/list" <<'L'
# comment
alpha 10 true
beta  20 selftest x86_64/beta
L

# run NAME QEMU_STATUS: parse $tmp/NAME.console into $tmp/NAME.results, with
# the quarantine list $QLIST and then the selftests dir $SELFTESTS if set
run() {
	"$top/scripts/lab-results.sh" "$tmp/$1.console" "${LIST:-$tmp/list}" "$tmp/$1" \
		"$tmp/$1.results" "$2" 100 tcg 5 ${QLIST:+"$QLIST"} ${SELFTESTS:+"$SELFTESTS"} >/dev/null 2>&1
}
# expect NAME CASE WANT_STATUS 'GREP-PATTERN'...: every pattern matches a line
expect() {
	local name=$1 case=$2 want=$3 got; shift 3
	run "$name" "${QRC:-0}"; got=$?
	check_output "$case" "$want" "$got" "$(cat "$tmp/$name.results")" "$@"
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
# As lab-run.sh calls it: with the quarantine list and the selftests dir.
QLIST=$top/tests/lab/quarantine.list SELFTESTS=$tmp expect ok all_pass_as_lab_run_calls_it 0 \
	$'^PASS\tlab:alpha\t12 ms' $'^PASS\tlab:beta' $'^PASS\tlab:kernel-health' $'^PASS\tlab:run-complete'
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

# ---- quarantine ---------------------------------------------------------------
cat >"$tmp/quarantine" <<'Q'
# evidence: canned
beta "guest took the known flake" a TCG flake, not ours
Q
flaky=$(printf '%s\n@@SPAN-DONE\n' "$ok_body" |
	sed 's/^beta output$/selftest: guest took the known flake at 0x40/; s/@@SPAN-END beta rc=0/@@SPAN-END beta rc=254/')
printf '%s\n' "$flaky" >"$tmp/quar.console"
QLIST=$tmp/quarantine expect quar flake_quarantined 0 \
	$'^QUARANTINED\tlab:beta\texit status 254, a known flake: a TCG flake, not ours \\(log: .*/quar/beta.log\\)' \
	$'^PASS\tlab:alpha' $'^PASS\tlab:kernel-health'
# Without the list the same run fails.
expect quar flake_fails_without_quarantine 1 $'^FAIL\tlab:beta\texit status 254'
# Another failure of a quarantined test fails.
printf '%s\n' "$flaky" | sed 's/known flake/other assertion/' >"$tmp/quar_other.console"
QLIST=$tmp/quarantine expect quar_other other_failure_of_quarantined_fails 1 $'^FAIL\tlab:beta\texit status 254'
# The signature in another test's log does not quarantine beta.
printf '%s\n' "$flaky" | sed 's/^selftest: guest took the known flake.*/other/;
	s/^WARNING: user space.*/guest took the known flake/' >"$tmp/quar_elsewhere.console"
QLIST=$tmp/quarantine expect quar_elsewhere signature_only_in_own_log 1 $'^FAIL\tlab:beta'
# Nor is an unlisted test quarantined by beta's entry.
printf '%s\n' "$flaky" | sed 's/@@SPAN-END alpha rc=0/@@SPAN-END alpha rc=1/;
	s/^WARNING: user space.*/guest took the known flake/' >"$tmp/quar_alpha.console"
QLIST=$tmp/quarantine expect quar_alpha unlisted_test_fails 1 $'^FAIL\tlab:alpha' $'^QUARANTINED\tlab:beta'
# A kernel report during a quarantined flake still fails the run.
printf '%s\n' "$flaky" | sed '/^selftest: guest took/a\
[   12.345678] WARNING: CPU: 0 PID: 80 at arch/x86/kvm/svm/nested.c:1 foo+0x1/0x2' >"$tmp/quar_warn.console"
QLIST=$tmp/quarantine expect quar_warn kernel_report_in_quarantined_fails 1 \
	$'^QUARANTINED\tlab:beta' $'^FAIL\tlab:kernel-health\t.*during beta'
# A quarantined test that passes is a pass.
QLIST=$tmp/quarantine expect ok quarantined_pass_is_pass 0 $'^PASS\tlab:beta'
# A malformed entry fails the run, naming the line.
printf 'beta no-quotes a reason\n' >"$tmp/quarantine_bad"
QLIST=$tmp/quarantine_bad expect quar bad_quarantine_line_fails 1 \
	$'^FAIL\tlab:quarantine-list\t.*quarantine_bad:1: ' $'^FAIL\tlab:beta'

# The real list against the real wrapper: state_test's guest #UD on a
# vmovdqu, as tests/lab/selftest reports it and lab-results.sh reads the
# instruction from the selftest binary, is quarantined; a #UD on another
# instruction, a #GP, or no binary to read fails.
mkdir -p "$tmp/st/x86_64" "$tmp/elf/x86_64" "$tmp/noelf"
cat >"$tmp/guest.c" <<'C'
__asm__(".text\n.globl at_vex\nat_vex: vmovdqu (%rsp),%xmm0\n.globl at_ud2\nat_ud2: ud2\n");
int main(void) { return 0; }
C
if ! gcc -static -no-pie "$tmp/guest.c" -o "$tmp/elf/x86_64/state_test" 2>"$tmp/cc.err"; then
	record FAIL guest_insn_build "$(tr '\n' '|' <"$tmp/cc.err")"
fi
vex=$(nm "$tmp/elf/x86_64/state_test" | awk '$3 == "at_vex" { sub(/^0+/, "", $1); print $1 }')
ud2=$(nm "$tmp/elf/x86_64/state_test" | awk '$3 == "at_ud2" { sub(/^0+/, "", $1); print $1 }')
strip "$tmp/elf/x86_64/state_test"
printf 'state_test 180 selftest x86_64/state_test\n' >"$tmp/real.list"
# real CASE VECTOR RIP: a console where state_test took exception VECTOR at RIP
real() {
	printf '#!/bin/sh\necho "==== Test Assertion Failure ===="\necho "  %s"\nexit 254\n' \
		"Unhandled exception '0x$2' at guest RIP '0x$3'" >"$tmp/st/x86_64/state_test"
	chmod +x "$tmp/st/x86_64/state_test"
	{
		echo '@@SPAN-BEGIN state_test'
		SPAN_SELFTESTS=$tmp/st "$top/tests/lab/selftest" x86_64/state_test 2>&1
		echo "@@SPAN-END state_test rc=$? ms=99"
		echo '@@SPAN-DONE'
	} >"$tmp/$1.console"
}
real ud_vex 6 "$vex"
LIST=$tmp/real.list QLIST=$top/tests/lab/quarantine.list SELFTESTS=$tmp/elf expect ud_vex \
	state_test_ud_on_vmovdqu_quarantined 0 \
	$'^QUARANTINED\tlab:state_test\texit status 254, a known flake: QEMU TCG'
if grep -qx "lab: guest exception 0x6 in x86_64/state_test on vmovdqu (0x$vex: c5 fa 6f 04 24)" \
	"$tmp/ud_vex/state_test.log"; then
	record PASS guest_instruction_named ""
else
	record FAIL guest_instruction_named "$(tr '\n' '|' <"$tmp/ud_vex/state_test.log")"
fi
LIST=$tmp/real.list QLIST=$top/tests/lab/quarantine.list SELFTESTS=$tmp/noelf expect ud_vex \
	state_test_ud_without_binary_fails 1 $'^FAIL\tlab:state_test\texit status 254'
real ud_other 6 "$ud2"
LIST=$tmp/real.list QLIST=$top/tests/lab/quarantine.list SELFTESTS=$tmp/elf expect ud_other \
	state_test_ud_elsewhere_fails 1 $'^FAIL\tlab:state_test\texit status 254'
real gp_vex d "$vex"
LIST=$tmp/real.list QLIST=$top/tests/lab/quarantine.list SELFTESTS=$tmp/elf expect gp_vex \
	state_test_gp_fails 1 $'^FAIL\tlab:state_test\texit status 254'

exit $failed
