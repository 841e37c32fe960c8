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
for tool in bpftool jq awk; do
	command -v $tool >/dev/null || { record FAIL setup "$tool is not installed"; exit 1; }
done
if ! bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null | grep -q "'btf_trace_kvm_exit'"; then
	record SKIP setup "this kernel has no kvm:kvm_exit tracepoint"
	exit 0
fi

# The kvm_exit links process $1 holds (other engineers' tools may attach
# their own on this host: only ours are counted), and their ids.
link_ids() {
	local f
	for f in /proc/$1/fdinfo/*; do
		awk '/^link_id:/ { id = $2 } /^tp_name:\tkvm_exit$/ { print id }' "$f" 2>/dev/null
	done
}
links_of() { link_ids "$1" | grep -c .; }
# Whether every link id in $@ is gone from the kernel.
gone() {
	local live id
	live=$(bpftool link list -j | jq -r '.[].id')
	for id; do printf '%s\n' "$live" | grep -qx "$id" && return 1; done
	return 0
}
# wait_until SECONDS CMD...: retry CMD every 0.2 s.
wait_until() {
	local n=$(($1 * 5)); shift
	while ! "$@"; do
		n=$((n - 1)); [ $n -gt 0 ] || return 1
		sleep 0.2
	done
}
# links_are PID N...: each PID holds N kvm_exit links.
links_are() { while [ $# -gt 1 ]; do [ "$(links_of "$1")" = "$2" ] || return 1; shift 2; done; }

# A free loopback port: nothing answers on it.
for port in $(shuf -i 20000-60000 -n 50); do
	(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null || break
done
: >"$tmp/serve.log"
"$bin/spanmon" serve --pin-dir "$pin" -l 127.0.0.1:$port >"$tmp/serve.log" 2>&1 &
serve=$!
pids+=($serve)
check serve_attaches "serve did not attach: $(cat "$tmp/serve.log")" wait_until 10 links_are $serve 1
serve_links=$(link_ids $serve)

"$bin/spanmon" top -i 1 --pin-dir "$pin" >"$tmp/top.log" 2>"$tmp/top.err" &
top=$!
pids+=($top)
"$bin/spanmon" json -i 1 -n 4 --pin-dir "$pin" >"$tmp/json.log" 2>&1 &
json=$!
pids+=($json)
wait_until 10 grep -q '^spanmon ' "$tmp/top.log"
wait_until 10 test -s "$tmp/json.log"
check top_reads_only "top attached too: $(links_of $top) kvm_exit links" links_are $top 0 $serve 1
check json_reads_only "json attached too: $(links_of $json) kvm_exit links" links_are $json 0 $serve 1
wait $json; rc=$?
check json_exits "json -n 4: exit $rc: $(cat "$tmp/json.log")" test $rc = 0

err=$("$bin/spanmon" --reset --pin-dir "$pin" 2>&1); rc=$?
check reset_refused "'--reset' under a collector: exit $rc, stderr: $err" \
	test $rc = 1 -a "$(printf '%s\n' "$err" | grep -c .)" = 1
check reset_kept_maps "the pinned maps went" test -e "$pin/hists"

kill -INT $serve
wait $serve 2>/dev/null
check reader_takes_over "top did not take over: $(cat "$tmp/top.err")" \
	wait_until 10 grep -q 'collecting here' "$tmp/top.err"
check serve_detached "serve's links outlived it: $serve_links" gone $serve_links
check one_collector_again "top holds $(links_of $top) kvm_exit links after the takeover" links_are $top 1
top_links=$(link_ids $top)

kill -INT $top
wait $top 2>/dev/null
check final_view_on_ctrl_c "no final view after Ctrl-C" grep -q '^spanmon .* final ' "$tmp/top.log"
check detached_at_exit "top's links outlived it: $top_links" gone $top_links

# Scoped runs: a command's status is spanmon's, after a final view; -d ends.
# (The command reports the links its parent spanmon holds.)
"$bin/spanmon" --pin-dir "$pin" -- sh -c 'links() { for f in /proc/$PPID/fdinfo/*; do
	grep -q "^tp_name:.kvm_exit$" "$f" 2>/dev/null && echo x; done | grep -c x; };
	[ "$(links)" = 1 ] && exit 5; exit 1' >"$tmp/cmd.log" 2>&1; rc=$?
check command_status "'spanmon -- CMD' exited $rc, not CMD's 5 (CMD saw spanmon attached)" test $rc = 5
check command_final_view "no final view: $(cat "$tmp/cmd.log")" grep -q '^spanmon .* final ' "$tmp/cmd.log"
start=$(date +%s)
"$bin/spanmon" top -d 2 --pin-dir "$pin" >"$tmp/d.log" 2>&1; rc=$?
took=$(($(date +%s) - start))
check duration_ends "'top -d 2': exit $rc after ${took}s" test $rc = 0 -a $took -le 10
check duration_final_view "no final view after -d" grep -q '^spanmon .* final ' "$tmp/d.log"

"$bin/spanmon" --reset --pin-dir "$pin"; rc=$?
check reset_when_alone "exit $rc" test $rc = 0 -a ! -e "$pin"
exit $failed
