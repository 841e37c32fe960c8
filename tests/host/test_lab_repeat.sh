#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/lab-repeat.sh: its table on canned results (a test that failed once
# in ten runs shows 9/10 with that run's detail and log, and fails the whole;
# a kernel report fails it and shows in that run's line; quarantined flakes
# are counted apart and do not fail it; a run that left no results fails every
# test in it), and its loop with a stand-in runner (each run under its own
# name, the options passed on, a runner that dies counted as a failure).
#
# Usage: test_lab_repeat.sh BIN_DIR RESULTS_FILE

suite=lab-repeat
# shellcheck source=tests/host/lab_lib.sh
. "$(dirname "$0")/lab_lib.sh"

# runs DIR K: K passing runs DIR/s-run01..K (tests a and b), each with a log dir
runs() {
	local i r
	mkdir -p "$1"
	for ((i = 1; i <= $2; i++)); do
		r=$1/s-run$(printf %02d $i)
		mkdir -p "$r"
		echo "output of b" >"$r/b.log"
		printf 'PASS\tlab:a\t1 ms\nPASS\tlab:b\t2 ms\nPASS\tlab:kernel-health\tno WARN/BUG/oops/lockdep/stall reports\nPASS\tlab:run-complete\t40s, tcg\n' \
			>"$r.results"
	done
}
# check CASE WANT_RC DIR 'GREP-PATTERN'...: the table of DIR/*.results
check() {
	local case=$1 want=$2 dir=$3 out rc; shift 3
	out=$("$top/scripts/lab-repeat.sh" --table "$dir"/*.results 2>&1); rc=$?
	check_output "$case" "$want" "$rc" "$out" "$@"
}

runs "$tmp/ok" 3
check all_pass 0 "$tmp/ok" '^a +3/3 +0 +0 +0$' '^b +3/3 +0 +0 +0$' '^kernel-health +3/3 ' \
	'^  s-run03  ok    4 passed, 0 failed, 0 quarantined, 0 skipped; kernel-health PASS; 40s, tcg$' \
	'^lab-repeat: 3 runs, 4 tests: 0 failed in some run, 0 quarantined in some run; 12 passed, 0 failed'

# b failed once in ten runs, in run 7, without a log path in its detail.
runs "$tmp/once" 10
sed -i $'s|^PASS\tlab:b\t.*|FAIL\tlab:b\tdid not finish (kernel hang or crash, or the whole run hit 900s)|' \
	"$tmp/once/s-run07.results"
check failed_once_in_ten 1 "$tmp/once" '^a +10/10 +0 ' '^b +9/10 +1 +0 +0$' \
	'^  s-run07  FAIL  3 passed, 1 failed, ' \
	"^  b: 1/10 failed; s-run07: did not finish \(kernel hang or crash, or the whole run hit 900s\) \(log: $tmp/once/s-run07/b.log\)\$" \
	'^lab-repeat: 10 runs, 4 tests: 1 failed in some run, 0 quarantined'

# A kernel report in run 2, every test passing: the run and the whole fail.
runs "$tmp/warn" 3
sed -i $'s|^PASS\tlab:kernel-health\t.*|FAIL\tlab:kernel-health\t[ 1.2] WARNING: CPU: 0 at x.c:1 (during b; console: c.log)|' \
	"$tmp/warn/s-run02.results"
check kernel_report_fails 1 "$tmp/warn" '^kernel-health +2/3 +1 ' \
	'^  s-run02  FAIL  3 passed, 1 failed, 0 quarantined, 0 skipped; kernel-health FAIL: \[ 1\.2\] WARNING: CPU: 0 at x\.c:1 \(during b; console: c\.log\); 40s, tcg$'

# Quarantined twice, never failed: shown and counted apart, not a failure.
runs "$tmp/quar" 4
for r in 02 04; do
	sed -i $'s|^PASS\tlab:a\t.*|QUARANTINED\tlab:a\texit status 254, a known flake: TCG (log: q.log)|' \
		"$tmp/quar/s-run$r.results"
done
check quarantined_apart 0 "$tmp/quar" '^a +2/4 +0 +2 +0$' \
	'^  a: 2/4 quarantined; s-run02: exit status 254, a known flake: TCG \(log: q\.log\)$' \
	'; 14 passed, 0 failed \(0 skipped, 2 quarantined\)$'

# A run whose runner left only lab:run: every test failed in it.
runs "$tmp/died" 2
printf 'FAIL\tlab:run\tthe runner exited 1 without results (log: s-run03.out)\n' >"$tmp/died/s-run03.results"
check dead_run_fails_its_tests 1 "$tmp/died" '^a +2/3 +1 ' '^run +0/1 +1 ' \
	'^  a: 1/3 failed; s-run03: no result in this run' '^  s-run03  FAIL  0 passed, 5 failed, .*did not complete$'

# ---- the loop, with a stand-in runner ----------------------------------------------
cat >"$tmp/runner" <<'R'
#!/usr/bin/env bash
# --quiet --results DIR --name NAME [...] LIST: run 2 fails b, run 3 dies.
echo "$*" >>"$RUNNER_LOG"
while [ $# -gt 1 ]; do
	case $1 in --results) dir=$2 ;; --name) name=$2 ;; esac
	shift
done
n=$(wc -l <"$RUNNER_LOG")
[ "$n" = 3 ] && { echo "runner: boom"; exit 1; }
b=PASS; [ "$n" = 2 ] && b=FAIL
mkdir -p "$dir/$name"
printf 'PASS\tlab:a\t1 ms\n%s\tlab:b\t2 ms\nPASS\tlab:kernel-health\tok\nPASS\tlab:run-complete\t1s, tcg\n' \
	"$b" >"$dir/$name.results"
R
chmod +x "$tmp/runner"
printf 'a 10 true\nb 10 true\n' >"$tmp/s.list"
mkdir -p "$tmp/loop"
touch "$tmp/loop/s-run07.results"   # left by an earlier, longer repeat
out=$(RUNNER_LOG=$tmp/runner.log LAB_RUN=$tmp/runner O=$tmp/o \
	"$top/scripts/lab-repeat.sh" -n 3 --only a,b --results "$tmp/loop" "$tmp/s.list" 2>&1)
rc=$?
want="--quiet --results $tmp/loop --name s-run01 --only a,b $tmp/s.list"
if [ $rc = 1 ] && [ "$(head -1 "$tmp/runner.log")" = "$want" ] && [ "$(wc -l <"$tmp/runner.log")" = 3 ] &&
	[ -f "$tmp/loop/s-run02.results" ] && [ ! -e "$tmp/loop/s-run07.results" ] &&
	grep -q 'runner: boom' "$tmp/loop/s-run03.out" &&
	grep -qE '^b +1/3 +2 ' <<<"$out" &&
	grep -qF "s-run03: the runner exited 1 without results (log: $tmp/loop/s-run03.out)" <<<"$out"; then
	record PASS loop_runs_each_under_its_name ""
else
	record FAIL loop_runs_each_under_its_name "exit $rc; runner calls: $(tr '\n' '|' <"$tmp/runner.log"); $(cd "$tmp/loop" && echo *); output: $(tr '\n' '|' <<<"$out")"
fi
exit $failed
