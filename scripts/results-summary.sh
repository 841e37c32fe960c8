#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The end of a test run: the failures, the quarantined known flakes, then one
# line, "N passed, N failed (N skipped, N quarantined)".  Reads
# STATUS<TAB>NAME<TAB>DETAIL lines (STATUS: PASS FAIL SKIP QUARANTINED); a
# line with any other status is counted as a failure.
#
# Usage: scripts/results-summary.sh RESULTS...
# Exits 1 if anything failed.

set -uo pipefail
[ $# -gt 0 ] || { echo "usage: results-summary.sh RESULTS..." >&2; exit 2; }
lines=$(cat -- "$@") || exit 1
count() { grep -c "^$1	" <<<"$lines"; }
pass=$(count PASS) fail=$(count FAIL) skip=$(count SKIP) quar=$(count QUARANTINED)
odd=$(grep -vE '^(PASS|FAIL|SKIP|QUARANTINED)	' <<<"$lines" | grep -v '^$')
[ -z "$odd" ] || fail=$((fail + $(wc -l <<<"$odd")))
if [ "$fail" -gt 0 ]; then
	echo
	echo "failures:"
	{ grep '^FAIL	' <<<"$lines" | cut -f2-; [ -z "$odd" ] || sed 's/^/not a result line\t/' <<<"$odd"; } |
		sed 's/\t/: /; s/^/  /'
fi
if [ "$quar" -gt 0 ]; then
	echo
	echo "quarantined (known flakes outside this project, not counted as passes; tests/lab/quarantine.list):"
	grep '^QUARANTINED	' <<<"$lines" | cut -f2- | sed 's/\t/: /; s/^/  /'
fi
echo
echo "$pass passed, $fail failed ($skip skipped, $quar quarantined)"
[ "$fail" = 0 ]
