# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154 # set here for, and from, the sourcing script
# Shared by the lab tooling's script tests (tests/host/test_lab_*.sh,
# test_results_summary.sh).  Sourced, not run, after setting `suite`:
#   suite=lab-results; . "$(dirname "$0")/lab_lib.sh"
# Gives top (the tree), results (the script's second argument), tmp (removed
# on exit), failed, record and check_output.

top=$(cd "$(dirname "$0")/../.." && pwd)
results=${2:?usage: $(basename "$0") BIN_DIR RESULTS}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

# record STATUS CASE DETAIL: one result line for host:SUITE:CASE.
record() { printf '%s\thost:%s:%s\t%s\n' "$1" "$suite" "$2" "$3" >>"$results"; [ "$1" = PASS ] || failed=1; }

# check_output CASE WANT_RC RC OUTPUT 'ERE'...: the status is WANT_RC and every
# pattern matches a line of OUTPUT.
check_output() {
	local case=$1 want=$2 rc=$3 out=$4 p; shift 4
	if [ "$rc" != "$want" ]; then
		record FAIL "$case" "exit $rc, wanted $want: $(tr '\n' '|' <<<"$out")"
		return
	fi
	for p in "$@"; do
		if ! grep -qE -- "$p" <<<"$out"; then
			record FAIL "$case" "no line matching '$p' in: $(tr '\n' '|' <<<"$out")"
			return
		fi
	done
	record PASS "$case" ""
}
