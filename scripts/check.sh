#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run test stages and end with one summary line, "N passed, N failed
# (N skipped, N quarantined)" (scripts/results-summary.sh).  Every stage
# writes STATUS<TAB>NAME<TAB>DETAIL lines to $O/results/STAGE.results; a
# stage that cannot even build records that as a failure, so nothing is lost
# from the count.
#
# Usage: scripts/check.sh STAGE...   (STAGE: host, lab)

set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"
cd "$top"
O=${O:-out}
results=$O/results
mkdir -p "$results"

make_q() { make --no-print-directory "$@"; }

stage_host() {
	local r=$results/host.results rc
	: >"$r"
	if ! make_q all "$O/tests/host/unit" "$O/tests/host/spanmon_bpf"; then
		printf 'FAIL\thost:build\tmake all %s failed\n' "$O/tests/host/unit" >>"$r"
		return
	fi
	info "host: unit tests (ASan+UBSan)"
	ASAN_OPTIONS=exitcode=86 UBSAN_OPTIONS=print_stacktrace=1 \
		"$O/tests/host/unit" --results "$r"
	rc=$?
	# A sanitizer abort ends the run mid-test: that test has no line yet.
	if [ $rc != 0 ] && ! grep -q '^FAIL' "$r"; then
		printf 'FAIL\thost:unit\trunner died with status %s (sanitizer report above)\n' $rc >>"$r"
	fi
	# spanmon's and the featurevisor dispatcher's BPF programs under
	# BPF_PROG_TEST_RUN: root only.
	if [ "$(id -u)" = 0 ]; then
		info "host: BPF programs: spanmon, featurevisor dispatcher and filters (BPF_PROG_TEST_RUN)"
		n=$(wc -l <"$r")
		ASAN_OPTIONS=exitcode=86 UBSAN_OPTIONS=print_stacktrace=1 \
			"$O/tests/host/spanmon_bpf" --results "$r"
		rc=$?
		if [ $rc != 0 ] && [ "$(tail -n +$((n + 1)) "$r" | grep -c '^FAIL')" = 0 ]; then
			printf 'FAIL\thost:spanmon_bpf\trunner died with status %s\n' $rc >>"$r"
		fi
	else
		printf 'SKIP\thost:spanmon_bpf\tneeds root to load BPF\n' >>"$r"
	fi
	# Every tests/host/test_*.sh: TEST BIN_DIR RESULTS appends its lines.
	for t in tests/host/test_*.sh; do
		info "host: $(basename "$t")"
		n=$(wc -l <"$r")
		"$t" "$O/bin" "$r"
		rc=$?
		if [ $rc != 0 ] && [ "$(tail -n +$((n + 1)) "$r" | grep -c '^FAIL')" = 0 ]; then
			printf 'FAIL\thost:%s\texited %s without recording a failure\n' \
				"$(basename "$t" .sh)" $rc >>"$r"
		fi
	done
}

stage_lab() {
	local r=$results/lab.results
	: >"$r"
	if ! make_q lab-deps; then
		printf 'FAIL\tlab:build\tkernel or lab programs failed to build\n' >>"$r"
		return
	fi
	scripts/lab-run.sh --results "$O/lab" --name smoke tests/lab/smoke.list
	cp "$O/lab/smoke.results" "$r" 2>/dev/null ||
		printf 'FAIL\tlab:run\tno results from the lab\n' >>"$r"
	# The span stress, in a one-vCPU lab of its own (tests/lab/stress.list
	# says why).
	scripts/lab-run.sh --smp 1 --results "$O/lab" --name stress tests/lab/stress.list
	sed 's/\tlab:\(kernel-health\|run-complete\)\t/\tlab:stress:\1\t/' \
		"$O/lab/stress.results" >>"$r" 2>/dev/null ||
		printf 'FAIL\tlab:stress\tno results from the stress lab\n' >>"$r"
	# spanctl: a Linux span guest and featurevisor L1s, in a one-vCPU lab of
	# its own (tests/lab/spanctl.list says why).
	scripts/lab-run.sh --smp 1 --results "$O/lab" --name spanctl tests/lab/spanctl.list
	sed 's/\tlab:\(kernel-health\|run-complete\)\t/\tlab:spanctl:\1\t/' \
		"$O/lab/spanctl.results" >>"$r" 2>/dev/null ||
		printf 'FAIL\tlab:spanctl\tno results from the spanctl lab\n' >>"$r"
	info "kernel: the build's contract (cache hit, a patch that does not apply)"
	tests/kernel/test_series.sh "$r" ||
		grep -q '^FAIL	kernel:' "$r" ||
		printf 'FAIL\tkernel:series\ttest_series.sh failed without a result\n' >>"$r"
}

[ $# -gt 0 ] || die "usage: check.sh STAGE... (host, lab)"
for s in "$@"; do
	rm -f "$results/$s.results"
	case $s in
	host) stage_host ;;
	lab) stage_lab ;;
	*) die "unknown stage $s" ;;
	esac
done

files=()
for s in "$@"; do files+=("$results/$s.results"); done
scripts/results-summary.sh "${files[@]}"
