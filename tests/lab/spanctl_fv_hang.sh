#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# A featurevisor that hangs while attached (spanfv.hang=N: it arms the
# controller's watchdog for 2 s, beats for N seconds, then goes quiet, as a
# hung program or L1 would) is detached by the controller, marked "hung",
# while its L1 runs on and the span guest keeps running.  Attached again,
# its silence is counted from the new attach: hung again, detached again.
export SPAN_RUN_DIR=/tmp/span-run
log=$SPAN_RUN_DIR/g1.log
hanglog=$SPAN_RUN_DIR/g1.hang.log
fv_logs=$hanglog
. "$(dirname "$0")/spanctl_lib.sh"

spanctl start g1 --kernel $g/bzImage --initrd $g/initramfs.cpio.gz --mem 128M \
	--cpus 1 --append "$append" || fail "spanctl start"
spanctl fv start g1 hang --kernel $g/bzImage --initrd $g/fv.cpio.gz --mem 128M \
	--append "$append quiet spanfv.hang=6" || fail "spanctl fv start"
wait_for "$log" 'workload: progress [1-9]' 90 || fail "the guest's workload did not run"
wait_for "$hanglog" 'spanfv: watchdog armed' 60 || fail "the featurevisor did not arm its watchdog"
spanctl attach g1 hang --readonly || fail "spanctl attach"
[ "$(fv_state hang)" = "running true" ] || fail "hang: $(fv_state hang) after attach"
wait_for "$hanglog" 'spanfv: heartbeat stops' 60 || fail "the featurevisor never went quiet"
# The watchdog is 2 s; the controller looks every 100 ms.
expect_fv_state hang "hung false" 15
grep -q "featurevisor 'hang' hung: no heartbeat" "$SPAN_RUN_DIR/g1.ctl.log" ||
	fail "the controller did not say why it detached 'hang'"
grep "featurevisor 'hang' hung" "$SPAN_RUN_DIR/g1.ctl.log"
spanctl status g1 | grep -q 'hang *hung, detached' || fail "status: $(spanctl status g1)"
expect_progress "after its featurevisor hung"
# Its L1 still runs: attached again, it is found hung again.
spanctl attach g1 hang --readonly || fail "spanctl attach after the hang"
expect_fv_state hang "hung false" 15
[ "$(grep -c "featurevisor 'hang' hung" "$SPAN_RUN_DIR/g1.ctl.log")" = 2 ] ||
	fail "the second hang was not reported"
expect_progress "after its featurevisor hung twice"
spanctl stop g1 || fail "spanctl stop"
echo "PASS: a hung featurevisor was detached twice by its watchdog; the guest kept running"
