#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# One collector per pin directory (issue 9), on the host: kvm:* tracepoints
# exist here (no VM runs, so nothing fires), which is enough to see who
# attaches.  With `spanmon serve` collecting, a `spanmon top` and a
# `spanmon json` only read: the kvm_exit program is attached once (it was
# twice, and every exit counted twice); `spanmon --reset` refuses with one
# line and exit 1 and leaves the pinned maps; when the collector exits,
# the reader takes over (attached once again) and says so; once nobody
# runs, --reset succeeds and the directory is gone.  A run scoped to a
# command exits with its status after a final view; one scoped by -d ends.  Everything started
# here is stopped on exit.
#
# Usage: test_spanmon_collector.sh BIN_DIR RESULTS_FILE

bin=${1:?usage: test_spanmon_collector.sh BIN_DIR RESULTS}
results=${2:?}
failed=0
pin=/sys/fs/bpf/spanmon-collector-test-$$
tmp=$(mktemp -d)
pids=()

record() { printf '%s\thost:collector:%s\t%s\n' "$1" "$2" "$3" >>"$results"; [ "$1" = FAIL ] && failed=1; return 0; }
check() { local name=$1 why=$2; shift 2; if "$@"; then record PASS "$name" ""; else record FAIL "$name" "$why"; fi; }

cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	"$bin/spanmon" --reset --pin-dir "$pin" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [ "$(id -u)" != 0 ]; then
	record SKIP setup "needs root to load BPF"
	exit 0
fi
for tool in bpftool jq; do
	command -v $tool >/dev/null || { record FAIL setup "$tool is not installed"; exit 1; }
done
if ! bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null | grep -q "'btf_trace_kvm_exit'"; then
	record SKIP setup "this kernel has no kvm:kvm_exit tracepoint"
	exit 0
fi

# kvm_exit programs attached now (spanmon's, or anyone's: none expected).
links() { bpftool link list -j | jq '[.[] | select(.tp_name == "kvm_exit")] | length'; }
# wait_until SECONDS CMD...: retry CMD every 0.2 s.
wait_until() {
	local n=$(($1 * 5)); shift
	while ! "$@"; do
		n=$((n - 1)); [ $n -gt 0 ] || return 1
		sleep 0.2
	done
}
links_are() { [ "$(links)" = "$1" ]; }

base=$(links)
# A free loopback port: nothing answers on it.
for port in $(shuf -i 20000-60000 -n 50); do
	(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null || break
done
"$bin/spanmon" serve --pin-dir "$pin" -l 127.0.0.1:$port >"$tmp/serve.log" 2>&1 &
serve=$!
pids+=($serve)
check serve_attaches "serve did not attach: $(cat "$tmp/serve.log")" wait_until 10 links_are $((base + 1))

"$bin/spanmon" top -i 1 --pin-dir "$pin" >"$tmp/top.log" 2>"$tmp/top.err" &
top=$!
pids+=($top)
sleep 2
check top_reads_only "top attached too: $(links) kvm_exit programs" links_are $((base + 1))
out=$("$bin/spanmon" json --pin-dir "$pin" 2>&1 >/dev/null)
rc=$?
check json_reads_only "json: exit $rc, $(links) kvm_exit programs after it: $out" \
	test $rc = 0 -a "$(links)" = $((base + 1))

err=$("$bin/spanmon" --reset --pin-dir "$pin" 2>&1); rc=$?
check reset_refused "'--reset' under a collector: exit $rc, stderr: $err" \
	test $rc = 1 -a "$(printf '%s\n' "$err" | grep -c .)" = 1
check reset_kept_maps "the pinned maps went" test -e "$pin/hists"

kill -INT $serve
wait $serve 2>/dev/null
check reader_takes_over "top did not take over: $(cat "$tmp/top.err")" \
	wait_until 10 grep -q 'collecting here' "$tmp/top.err"
check one_collector_again "$(links) kvm_exit programs after the takeover" links_are $((base + 1))

kill -INT $top
wait $top 2>/dev/null
check final_view_on_ctrl_c "no final view after Ctrl-C" grep -q '^spanmon .* final ' "$tmp/top.log"
check detached_at_exit "$(links) kvm_exit programs after every spanmon exited" links_are "$base"

# Scoped runs: a command's status is spanmon's, after a final view; -d ends.
"$bin/spanmon" --pin-dir "$pin" -- sh -c 'exit 5' >"$tmp/cmd.log" 2>&1; rc=$?
check command_status "'spanmon -- sh -c \"exit 5\"' exited $rc" test $rc = 5
check command_final_view "no final view: $(cat "$tmp/cmd.log")" grep -q '^spanmon .* final ' "$tmp/cmd.log"
start=$(date +%s)
"$bin/spanmon" top -d 2 --pin-dir "$pin" >"$tmp/d.log" 2>&1; rc=$?
took=$(($(date +%s) - start))
check duration_ends "'top -d 2': exit $rc after ${took}s" test $rc = 0 -a $took -le 10
check duration_final_view "no final view after -d" grep -q '^spanmon .* final ' "$tmp/d.log"
check detached_after_scoped_runs "$(links) kvm_exit programs" links_are "$base"

"$bin/spanmon" --reset --pin-dir "$pin"; rc=$?
check reset_when_alone "exit $rc" test $rc = 0 -a ! -e "$pin"
exit $failed
