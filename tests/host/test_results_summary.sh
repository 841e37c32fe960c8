#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/results-summary.sh, the end of make check, on canned results: the
# line "N passed, N failed (N skipped, N quarantined)", quarantined known
# flakes listed and counted apart from passes and failures, the exit status
# failing on any FAIL or any line that is not a result.
#
# Usage: test_results_summary.sh BIN_DIR RESULTS_FILE

suite='results-summary'
# shellcheck source=tests/host/lab_lib.sh
. "$(dirname "$0")/lab_lib.sh"

# check CASE WANT_RC 'WANT-LAST-LINE' 'GREP-PATTERN'... (on the whole output)
check() {
	local case=$1 want=$2 last=$3 out rc; shift 3
	out=$("$top/scripts/results-summary.sh" "$tmp/host" "$tmp/lab" 2>&1); rc=$?
	if [ "$(tail -1 <<<"$out")" != "$last" ]; then
		record FAIL "$case" "last line is not '$last': $(tr '\n' '|' <<<"$out")"
		return
	fi
	check_output "$case" "$want" "$rc" "$out" "$@"
}

printf 'PASS\thost:a\t\nPASS\thost:b\t\nSKIP\thost:c\tneeds root\n' >"$tmp/host"
printf 'PASS\tlab:d\t1 ms\nPASS\tlab:kernel-health\tok\n' >"$tmp/lab"
check all_pass 0 "4 passed, 0 failed (1 skipped, 0 quarantined)"

printf 'QUARANTINED\tlab:state_test\texit status 254, a known flake: QEMU TCG (log: x.log)\n' >>"$tmp/lab"
check quarantined_apart 0 "4 passed, 0 failed (1 skipped, 1 quarantined)" \
	'^quarantined \(known flakes' '^  lab:state_test: exit status 254, a known flake: QEMU TCG \(log: x.log\)$'

printf 'FAIL\tlab:e\texit status 1\n' >>"$tmp/lab"
check failure_fails 1 "4 passed, 1 failed (1 skipped, 1 quarantined)" '^failures:$' '^  lab:e: exit status 1$'

printf 'PASS\tlab:d\t1 ms\nQUARANTINE\tlab:f\ttypo\n' >"$tmp/lab"
check unknown_status_fails 1 "3 passed, 1 failed (1 skipped, 0 quarantined)" \
	'^  not a result line: QUARANTINE'
exit $failed
