#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The introspection featurevisor catches a hidden process.  A span guest
# (KASLR on, nothing on its command line about it) boots with `evil`, a
# long-running process; a featurevisor running spanfv-introspect, attached
# read-only, lists the guest's processes from its memory with the guest
# kernel's BTF and System.map: the list must match the guest's own `ps`
# (pid and comm), and its scan must call nothing hidden.  Then the rootkit
# (dkom, inside the guest, through /dev/mem) unlinks evil from the task
# list and from /proc; the guest's `ps` no longer shows it, it runs on, and
# the featurevisor, attached again, reports it HIDDEN (text and JSON).
# Killed, evil exits without harm to the guest, and nothing is hidden any
# more.  Prints what a full list and a full scan cost.
#
# Usage: introspect.sh [MEM] [cost]   (MEM: the guest's, default 128M;
#        cost: only the first report, for the list and scan times)
mem=${1:-128M}
mode=${2:-full}
rescan=; [ "$mode" = cost ] && rescan=spanfv.rescan
export SPAN_RUN_DIR=/tmp/span-run
log=$SPAN_RUN_DIR/g1.log
fvlog=$SPAN_RUN_DIR/g1.intro.log
fv_logs=$fvlog
. "$(dirname "$0")/spanctl_lib.sh"

# What the test is doing, with the lab's clock (a timeout then says where).
step() { echo "step at $(cut -d' ' -f1 /proc/uptime) s: $*"; }
# guest_sh TAG CMD: run CMD in the guest's shell; its output, between
# markers, into /tmp/TAG.out (without the guest's other console chatter).
guest_sh() {
	step "guest: $2"
	( (echo "echo @$1-BEGIN; $2; echo @$1-END"; sleep 2) |
		timeout -k 2 3 spanctl console g1 >/dev/null 2>&1) 2>/dev/null
	wait_for "$log" "^@$1-END" 60 || fail "the guest's shell did not run: $2"
	tr -d '\r' <"$log" | sed -n "/^@$1-BEGIN/,/^@$1-END/p" |
		grep -v '^@\|^workload: \|^evil: ' >/tmp/$1.out
}
# guest_ps TAG: "PID COMM" per process, from the guest's own ps.
guest_ps() {
	guest_sh "$1" "ps -o pid,comm"
	awk '$1 ~ /^[0-9]+$/ && $2 != "ps" { print $1, $2 }' /tmp/$1.out | sort -n >/tmp/$1.ps
	[ -s /tmp/$1.ps ] || fail "no ps output from the guest"
}
# report N: the featurevisor's JSON report of round N.
report() {
	wait_for "$fvlog" "^{\"round\":$1," 150 ||
		fail "no report $1 from the featurevisor"
	tr -d '\r' <"$fvlog" | grep "^{\"round\":$1," | tail -n 1 >/tmp/report$1.json
	jq -e . /tmp/report$1.json >/dev/null || fail "report $1 is not JSON: $(cat /tmp/report$1.json)"
}
# attach_round N: attach read-only, wait for report N, detach.
attach_round() {
	step "attach, report $1"
	timeout -k 5 60 spanctl attach g1 intro --readonly || fail "spanctl attach ($1)"
	report "$1"
	step "detach"
	timeout -k 5 60 spanctl detach g1 intro || fail "spanctl detach ($1)"
	wait_for "$fvlog" 'introspect: detached' 60 || fail "the featurevisor missed the detach"
}

# Logs of an earlier test of this lab run hold the same markers.
rm -f "$log" "$fvlog" /tmp/report[0-9].json
# Before the lab's limit (spanctl.list) kills it: what each VM was doing.
wdt=380; [ "$mode" = cost ] && wdt=270
(sleep $wdt; echo "WATCHDOG: still running after $wdt s"
	tail -n 30 "$fvlog" | sed 's/^/fv| /'; tail -n 15 "$log" | sed 's/^/guest| /'
	cat "$SPAN_RUN_DIR/g1.ctl.log" 2>/dev/null; ps) &
wd=$!
trap 'kill $wd 2>/dev/null' EXIT
spanctl start g1 --kernel $g/bzImage --initrd $g/initramfs.cpio.gz --mem "$mem" \
	--cpus 1 --append "$append span.evil" || fail "spanctl start"
spanctl fv start g1 intro --kernel $g/bzImage --initrd $g/fv.cpio.gz \
	--append "$append quiet spanfv.prog=introspect $rescan" || fail "spanctl fv start"
wait_for "$log" 'evil: pid [0-9]* running' 90 || fail "evil did not start in the guest"
evil=$(tr -d '\r' <"$log" | sed -n 's/^evil: pid \([0-9]*\) running.*/\1/p' | tail -n 1)
wait_for "$log" 'workload: progress [1-9]' 90 || fail "the guest's workload did not run"
grep -q 'nokaslr' /proc/cmdline "$log" 2>/dev/null && fail "nokaslr on a command line"
wait_for "$fvlog" 'introspect: window of' 90 || fail "the featurevisor did not start"
grep 'introspect: window of' "$fvlog"

# 1. The featurevisor's list is the guest's ps (taken before and after it:
# a kernel thread may come between, so a process in either counts, and
# one in both must be listed).
guest_ps before
attach_round 1
guest_ps before2
grep 'introspect: round 1\|introspect: listed\|introspect: scanned' "$fvlog" | head -n 4
cost=$(grep 'introspect: scanned [0-9]' "$fvlog" | tail -n 1 | sed 's/.*introspect: //')
again=$(grep 'introspect: scanned again' "$fvlog" | tail -n 1 | sed 's/.*introspect: //')
list_cost=$(grep 'introspect: listed' "$fvlog" | tail -n 1 | sed 's/.*introspect: //')
jq -r '.tasks[] | select(.pid != 0) | "\(.pid) \(.comm)"' /tmp/report1.json | sort -n >/tmp/fv1.ps
# comm: ps shows a workqueue worker as kworker/0:1-events; the kernel's
# comm is kworker/0:1.  Same pid, and one name a prefix of the other.
sort -u /tmp/before.ps /tmp/before2.ps >/tmp/either.ps
awk 'NR == FNR { a[$0] = 1; next } $0 in a' /tmp/before.ps /tmp/before2.ps >/tmp/both.ps
mism=$(awk 'FILENAME == ARGV[1] { fv[$1] = $2; next }
	FILENAME == ARGV[2] { either[$1] = 1; next }
	{ if (!($1 in fv)) print "only in ps: " $0
	  else if (index(fv[$1], $2) != 1 && index($2, fv[$1]) != 1) print "comm: " $0 " vs " fv[$1] }
	END { for (p in fv) if (!(p in either)) print "only in the featurevisor: " p " " fv[p] }' \
	/tmp/fv1.ps /tmp/either.ps /tmp/both.ps)
[ -z "$mism" ] || fail "the featurevisor's list is not the guest's ps: $mism"
n=$(wc -l </tmp/both.ps)
grep -q "^$evil evil$" /tmp/fv1.ps || fail "evil ($evil) not in the featurevisor's list"
[ "$(jq '.hidden | length' /tmp/report1.json)" = 0 ] ||
	fail "hidden tasks before any hiding: $(jq -c .hidden /tmp/report1.json)"
echo "the featurevisor lists the guest's $n processes as its ps does; nothing hidden" \
	"($(jq '.exited' /tmp/report1.json) exited and $(jq '.stale' /tmp/report1.json) stale" \
	"task_structs in memory set aside)"
if [ "$mode" = cost ]; then
	spanctl stop g1 || fail "spanctl stop"
	echo "PASS: guest $mem: $list_cost; $cost; $again"
	exit 0
fi

# 2. The rootkit hides evil from the guest itself.
guest_sh dkom "/bin/dkom $evil; echo dkom-exit=\$?"
cat /tmp/dkom.out
grep -q '^dkom-exit=0' /tmp/dkom.out || fail "the rootkit failed"
guest_ps after
grep -q "^$evil " /tmp/after.ps && fail "the guest's ps still shows evil"
guest_sh alive "kill -0 $evil && echo evil-signalled"
grep -q '^evil-signalled' /tmp/alive.out || fail "evil is gone, not hidden"
# evil prints every 5 s of guest time.  Measured in guest time, not the
# lab's: the workload's progress grows by 10 a second of it, and on a
# shared machine the guest may get a twelfth of the lab's CPU.  evil's next
# line must come before the workload's progress grows by 150 (15 s).  Its
# lines are numbered; found anywhere on a console line, since the echo of
# what this test types into the guest's shell can share a line with one.
evil_alive() {
	grep -o "evil: pid $evil alive [0-9]*" "$log" | awk '$NF > m { m = $NF } END { print m + 0 }'
}
a=$(evil_alive)
p0=$(progress); i=0
while [ "$(evil_alive)" -le "$a" ]; do
	p=$(progress)
	[ $((p - p0)) -le 150 ] ||
		fail "evil stopped saying it is alive once hidden (last 'alive $a'; the workload went on, $p0 -> $p)"
	i=$((i + 1))
	[ $i -le 1500 ] || fail "neither evil nor the workload went on in 300 s ($p0 -> $p)"
	sleep 0.2
done
echo "the guest's ps no longer shows evil ($evil); it still runs"

# 3. The featurevisor sees through it.
attach_round 2
grep "introspect: HIDDEN" "$fvlog" | tail -n 1
grep 'introspect: HIDDEN' "$fvlog" | grep -q "pid $evil .*comm evil " ||
	fail "the featurevisor's text report does not say evil is hidden"
[ "$(jq -c '[.hidden[] | {pid, comm}]' /tmp/report2.json)" = "[{\"pid\":$evil,\"comm\":\"evil\"}]" ] ||
	fail "JSON report: hidden $(jq -c .hidden /tmp/report2.json), wanted evil ($evil) alone"
jq -e "[.tasks[].pid] | any(. == $evil) | not" /tmp/report2.json >/dev/null ||
	fail "evil is still in the task list"

# 4. Killed, evil exits cleanly: its nodes pointed at themselves.
guest_sh kill "kill -9 $evil; sleep 1; kill -0 $evil || echo evil-gone"
grep -q '^evil-gone' /tmp/kill.out || fail "evil did not exit"
expect_progress "after the hidden process exited"
attach_round 3
[ "$(jq '.hidden | length' /tmp/report3.json)" = 0 ] ||
	fail "hidden after evil exited: $(jq -c .hidden /tmp/report3.json)"
grep 'introspect: listed\|introspect: scanned' "$fvlog"
spanctl stop g1 || fail "spanctl stop"
echo "PASS: guest $mem: the featurevisor listed $n processes as ps did, found evil" \
	"($evil) hidden after the rootkit ran, nothing after it exited; $list_cost; $cost"
