#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The main job's second part (make run): span itself.  spanctl boots an
# unmodified Linux as a span guest running a workload; two featurevisors
# (L1 VMs with the same unmodified kernel) attach and print what they read
# of the guest; one is detached and the other killed while the guest keeps
# running; spanmon shows the span operations' latencies; spanctl status ends.
export SPAN_RUN_DIR=/tmp/span-demo
log=$SPAN_RUN_DIR/g1.log
fv_logs="$SPAN_RUN_DIR/g1.scan.log $SPAN_RUN_DIR/g1.mirror.log"
. "$(dirname "$0")/spanctl_lib.sh"
step() { printf '\n==== %s\n' "$*"; }
# show FILE PATTERN: the lines of a guest's console that match, marked.
show() { grep "$2" "$1" | tr -d '\r' | sed "s/^/  [$(basename "$1" .log)] /"; }

spanmon --reset
spanmon top -i 3600 -n 2 >/dev/null 2>&1 &
mon=$!

step "5. spanctl boots an unmodified Linux (the lab's own bzImage) as a span guest"
spanctl start g1 --kernel $g/bzImage --initrd $g/initramfs.cpio.gz --mem 256M --cpus 2 \
	--append "$append" || fail "spanctl start"

step "6. Two featurevisors, L1 VMs with the same unmodified kernel, in the guest's controller"
for fv in scan mirror; do
	spanctl fv start g1 $fv --kernel $g/bzImage --initrd $g/fv.cpio.gz \
		--append "$append quiet" || fail "spanctl fv start $fv"
done
wait_for "$log" 'workload: progress [1-9]' 120 || fail "the guest's workload did not run"
show "$log" '^span-guest:\|workload: marker'
for fv in scan mirror; do
	wait_for "$SPAN_RUN_DIR/g1.$fv.log" 'spanfv: window of' 90 || fail "$fv did not start"
done
spanctl status g1

step "7. Both attach (scan read-only) and print what they read of the guest's memory"
spanctl attach g1 scan --readonly || fail "attach scan"
spanctl attach g1 mirror || fail "attach mirror"
for fv in scan mirror; do
	wait_for "$SPAN_RUN_DIR/g1.$fv.log" 'spanfv: guest progress' 60 || fail "$fv read nothing"
	show "$SPAN_RUN_DIR/g1.$fv.log" 'spanfv: found\|spanfv: through\|spanfv: guest progress'
done

step "8. scan is detached and mirror killed (its L1 stopped): the guest keeps running"
spanctl detach g1 scan || fail "detach scan"
spanctl fv stop g1 mirror || fail "fv stop mirror"
wait_for "$SPAN_RUN_DIR/g1.scan.log" 'spanfv: detached' 20 || fail "scan saw no detach"
show "$SPAN_RUN_DIR/g1.scan.log" 'spanfv: detached'
expect_fv_state mirror "stopped false" 20
expect_progress "with both featurevisors gone"

kill -INT $mon
wait $mon
step "9. spanmon: the span operations (attach, detach, shadow sync), timed in BPF, then the exits"
spanmon json | jq -r '.series[] | select(.kind == "span_op") |
	"  \(.vm) \(.op): \(.count) timed, p50 \(.p50_ns / 1000 | floor) us, p99 \(.p99_ns / 1000 | floor) us"'
spanmon top -n 1 --limit 4

step "10. spanctl status"
spanctl status g1
spanctl stop g1 || fail "spanctl stop"
echo "the controller's own log:"
sed 's/^/  /' "$SPAN_RUN_DIR/g1.ctl.log"
echo "guest boots: $(grep -c '^span-guest: user space up' "$log")"
