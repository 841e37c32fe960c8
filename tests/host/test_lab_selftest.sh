#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/lab/selftest, the lab's wrapper for stock KVM selftests, on fake
# selftests: -r retries once only a failure whose guest took a #UD, and says
# so; any other failure, a second #UD, or no -r fails; a skip fails unless -s.
#
# Usage: test_lab_selftest.sh BIN_DIR RESULTS_FILE

top=$(cd "$(dirname "$0")/../.." && pwd)
results=${2:?usage: test_lab_selftest.sh BIN_DIR RESULTS}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
record() { printf '%s\thost:lab-selftest:%s\t%s\n' "$1" "$2" "$3" >>"$results"; [ "$1" = PASS ] || failed=1; }

mkdir -p "$tmp/st/x86_64"
# fake NAME 'FIRST-RUN-SHELL' 'LATER-RUNS-SHELL'
fake() {
	cat >"$tmp/st/x86_64/$1" <<F
#!/bin/sh
if [ ! -e "$tmp/$1.ran" ]; then touch "$tmp/$1.ran"; $2; fi
$3
F
	chmod +x "$tmp/st/x86_64/$1"
	rm -f "$tmp/$1.ran"
}
ud="echo \"  Unhandled exception '0x6' at guest RIP '0x40224e'\"; exit 254"
# check CASE WANT_RC WANT_RETRY(0|1) ARGS...
check() {
	local case=$1 want=$2 retry=$3 out rc n; shift 3
	out=$(SPAN_SELFTESTS="$tmp/st" "$top/tests/lab/selftest" "$@" 2>&1); rc=$?
	n=$(grep -c '^selftest: RETRY' <<<"$out")
	if [ $rc = "$want" ] && [ "$n" = "$retry" ]; then
		record PASS "$case" ""
	else
		record FAIL "$case" "exit $rc (wanted $want), $n retries (wanted $retry): $(tr '\n' '|' <<<"$out")"
	fi
}

fake ud_once "$ud" "echo ok; exit 0"
check ud_once_retried 0 1 -r x86_64/ud_once
fake ud_once "$ud" "echo ok; exit 0"
check ud_without_r_fails 254 0 x86_64/ud_once
fake ud_twice "$ud" "$ud"
check ud_twice_fails 254 1 -r x86_64/ud_twice
fake other_failure "echo '  Unhandled exception 0xd'; exit 254" "exit 0"
check other_failure_not_retried 254 0 -r x86_64/other_failure
fake skip "exit 4" "exit 4"
check skip_fails 1 0 -r x86_64/skip
fake skip "exit 4" "exit 4"
check skip_allowed 4 0 -s x86_64/skip
fake pass "exit 0" "exit 0"
check pass 0 0 -r x86_64/pass
check missing_test_fails 1 0 -r x86_64/not_there
exit $failed
