#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# A featurevisor whose L1 panics while attached (its init exits after one
# look at the guest, spanfv.panic) is detached automatically when the L1
# resets, and the span guest keeps running.
export SPAN_RUN_DIR=/tmp/span-run
log=$SPAN_RUN_DIR/g1.log
crashlog=$SPAN_RUN_DIR/g1.crash.log
fv_logs=$crashlog
. "$(dirname "$0")/spanctl_lib.sh"

spanctl start g1 --kernel $g/bzImage --initrd $g/initramfs.cpio.gz --mem 128M \
	--cpus 1 --append "$append" || fail "spanctl start"
spanctl fv start g1 crash --kernel $g/bzImage --initrd $g/fv.cpio.gz --mem 64M \
	--append "$append quiet spanfv.panic" || fail "spanctl fv start"
wait_for "$log" 'workload: progress [1-9]' 90 || fail "the guest's workload did not run"
wait_for "$crashlog" 'spanfv: window of' 60 || fail "the featurevisor did not start"
spanctl attach g1 crash || fail "spanctl attach"
wait_for "$crashlog" 'Kernel panic' 60 || fail "the featurevisor's L1 did not panic"
expect_fv_state crash "stopped false" 20
grep 'spanfv: guest progress\|Kernel panic - not syncing' "$crashlog" | sed 's/^/crash| /'
expect_fail attach_stopped spanctl attach g1 crash
expect_progress "after its featurevisor panicked"
spanctl status g1
spanctl stop g1 || fail "spanctl stop"
echo "PASS: a panicked featurevisor was detached; the guest kept running"
