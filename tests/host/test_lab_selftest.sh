#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/lab/selftest, the lab's wrapper for stock KVM selftests, on fake
# selftests: every test runs exactly once (with or without the old -r: a guest
# #UD is no longer retried, tests/lab/quarantine.list handles known flakes); a
# failure is told on stderr in one line with the test's last message, which
# is what the quarantine matches; a skip fails unless -s.
#
# Usage: test_lab_selftest.sh BIN_DIR RESULTS_FILE

suite=lab-selftest
# shellcheck source=tests/host/lab_lib.sh
. "$(dirname "$0")/lab_lib.sh"

mkdir -p "$tmp/st/x86_64"
# fake NAME 'FIRST-RUN-SHELL' 'LATER-RUNS-SHELL': counts its runs in NAME.runs
fake() {
	cat >"$tmp/st/x86_64/$1" <<F
#!/bin/sh
echo run >>"$tmp/$1.runs"
if [ ! -e "$tmp/$1.ran" ]; then touch "$tmp/$1.ran"; $2; fi
$3
F
	chmod +x "$tmp/st/x86_64/$1"
	rm -f "$tmp/$1.ran" "$tmp/$1.runs"
}
ud="echo '==== Test Assertion Failure ===='; echo '  lib/x86_64/processor.c:567: Unhandled exception'; echo \"  Unhandled exception '0x6' at guest RIP '0x40224e'\"; echo; exit 254"
# check CASE WANT_RC WANT_RUNS 'WANT-STDERR-LINE' ARGS...: stdout is thrown away,
# as spanmon_live.sh does; the stderr line must be exactly this ('' for none)
check() {
	local case=$1 want=$2 runs=$3 line=$4 err rc n=0 t got; shift 4
	t=${!#}
	err=$(SPAN_SELFTESTS="$tmp/st" "$top/tests/lab/selftest" "$@" 2>&1 >/dev/null); rc=$?
	t=$tmp/$(basename "$t").runs
	[ -f "$t" ] && n=$(wc -l <"$t")
	got=$(grep '^selftest: .* failed' <<<"$err")
	if [ $rc = "$want" ] && [ "$n" = "$runs" ] && [ "$got" = "$line" ]; then
		record PASS "$case" ""
	else
		record FAIL "$case" "exit $rc (wanted $want), $n runs (wanted $runs), stderr: $(tr '\n' '|' <<<"$err")"
	fi
}

udline="selftest: x86_64/ud_once failed (exit 254): Unhandled exception '0x6' at guest RIP '0x40224e'"
fake ud_once "$ud" "echo ok; exit 0"
check ud_not_retried_with_r 254 1 "$udline" -r x86_64/ud_once
fake ud_once "$ud" "echo ok; exit 0"
check ud_not_retried 254 1 "$udline" x86_64/ud_once
fake other_failure "echo '  Unhandled exception 0xd'; exit 254" "exit 0"
check other_failure_told 254 1 "selftest: x86_64/other_failure failed (exit 254): Unhandled exception 0xd" \
	-r x86_64/other_failure
fake skip "exit 4" "exit 4"
check skip_fails 1 1 "" -r x86_64/skip
fake skip "exit 4" "exit 4"
check skip_allowed 4 1 "" -s x86_64/skip
fake pass "exit 0" "exit 0"
check pass 0 1 "" -r x86_64/pass
check missing_test_fails 1 0 "" -r x86_64/not_there
exit $failed
