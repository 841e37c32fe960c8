#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# spanctl boots an unmodified Linux as a span guest (the lab's own bzImage,
# the guest initramfs: busybox + workload) and controls it: the workload's
# marker and a growing progress count on the console (log file and
# `spanctl console`), console input reaching the guest's shell, status and
# list, a reboot from inside the guest (booted again by the controller),
# then stop.  Prints how long the guest took to reach user space.
#
# Usage: spanctl_guest.sh [MEM [CPUS]]   (default 128M, 2: the lab kernel's NR_CPUS)
mem=${1:-128M}
cpus=${2:-2}
export SPAN_RUN_DIR=/tmp/span-run
log=$SPAN_RUN_DIR/g1.log
. "$(dirname "$0")/spanctl_lib.sh"

[ -r "$g/bzImage" ] && [ -r "$g/initramfs.cpio.gz" ] || fail "no guest kernel or initramfs in $g"
t0=$(now)
out=$(spanctl start g1 --kernel "$g/bzImage" --initrd "$g/initramfs.cpio.gz" --mem "$mem" --cpus "$cpus" \
	--append "$append" 2>&1) ||
	fail "spanctl start: $out"
echo "$out"
t1=$(now)
st=$(spanctl status g1 --json) || fail "spanctl status failed"
echo "$st"
[ "$(echo "$st" | jq -r .span)" = true ] || fail "not a span guest: $st"
[ "$(echo "$st" | jq -r .state)" = running ] || fail "not running: $st"
[ "$(echo "$st" | jq -r .vcpus)" = "$cpus" ] || fail "wanted $cpus vCPUs: $st"

wait_for "$log" 'Linux version' 30 || fail "no kernel banner on the console within 30 s"
t2=$(now)
wait_for "$log" '^span-guest: user space up' 60 || fail "the guest did not reach user space within 60 s"
t3=$(now)
# SMP through the MP table: the guest brought every vCPU up.
grep -q "^span-guest: user space up at .* $cpus cpu(s)" "$log" ||
	fail "the guest does not see $cpus CPUs: $(grep '^span-guest:' "$log")"
wait_for "$log" 'workload: marker "SPAN-WORKLOAD-MARKER' 30 || fail "no workload marker"
wait_for "$log" 'workload: progress [1-9]' 60 || fail "the workload made no progress"
t4=$(now)
p1=$(progress)
sleep 2
p2=$(progress)
[ "${p2:-0}" -gt "${p1:-0}" ] || fail "progress stuck at $p1"

# The same console through the socket, and input to the guest's shell.
spanctl console g1 --no-follow | grep -q 'SPAN-WORKLOAD-MARKER' || fail "spanctl console lacks the marker"
(echo 'echo "console-in-$((6 * 7))"'; sleep 2) | timeout 3 spanctl console g1 >/tmp/console.out 2>&1
grep -q '^console-in-42' "$log" || fail "console input did not reach the guest's shell"
grep -q 'console-in-42' /tmp/console.out || fail "spanctl console did not stream live output"

spanctl list | grep -q '^g1 .*running' || fail "spanctl list lacks g1: $(spanctl list)"

# The guest reboots itself (reboot=k: the i8042 resets it): the controller
# boots it again in a new VM, and its console log goes on.
t5=$(now)
(echo 'reboot -f'; sleep 1) | timeout 2 spanctl console g1 >/dev/null 2>&1
i=0
while [ "$(grep -c '^span-guest: user space up' "$log")" -lt 2 ]; do
	i=$((i + 1)); [ $i -gt 300 ] && fail "the guest did not come back after its reboot"
	sleep 0.2
done
t6=$(now)
[ "$(spanctl status g1 --json | jq .reboots)" = 1 ] || fail "status: no reboot counted"
grep -q '^workload: marker' "$log" || fail "no workload after the reboot"
expect_progress "after its reboot"
st=$(spanctl status g1 --json)
exits=$(echo "$st" | jq .exits)
bytes=$(echo "$st" | jq .console_bytes)
[ "$exits" -gt 0 ] && [ "$bytes" -gt 0 ] || fail "no exits or console bytes: $st"
bad=$(grep -E -A3 'WARNING:|BUG:|Oops|Kernel panic|Call Trace' "$log" | sed 's/^/guest| /')
[ -z "$bad" ] || { echo "$bad"; fail "the guest kernel complained"; }

t7=$(now)
spanctl stop g1 || fail "spanctl stop failed"
t8=$(now)
spanctl status g1 >/dev/null 2>&1 && fail "g1 still answers after stop"
[ -e "$SPAN_RUN_DIR/g1.sock" ] && fail "the socket outlived its controller"
p3=$(progress)
echo "PASS: span guest up (start $(( (t1 - t0) * 10 )) ms, kernel banner" \
	"$(( (t2 - t0) * 10 )) ms, user space $(( (t3 - t0) * 10 )) ms, progress seen" \
	"$(( (t4 - t0) * 10 )) ms), checks $(( (t5 - t4) * 10 )) ms, reboot to user space" \
	"$(( (t6 - t5) * 10 )) ms, stop $(( (t8 - t7) * 10 )) ms;" \
	"progress $p1 -> $p3, $exits exits, $bytes console bytes"
