#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# `spanctl filter load` in the lab, against a featurevisor's live
# dispatcher: a filter that could read kernel memory
# (bpf/filters/probe_read.bpf.o) is refused with its reason, one line on
# stderr, exit 1; a bad command line exits 2; an allowed filter loads and
# is listed, and unloads.
export SPAN_RUN_DIR=/tmp/span-run
log=$SPAN_RUN_DIR/g1.log
fvlog=$SPAN_RUN_DIR/g1.f.log
fv_logs=$fvlog
. "$(dirname "$0")/spanctl_lib.sh"

# libbpf says why the kernel refuses a filter (in g1.ctl.log, printed on failure).
SPANFV_DEBUG=1 spanctl start g1 --kernel $g/bzImage --initrd $g/initramfs.cpio.gz --mem 128M \
	--cpus 1 --append "$append" || fail "spanctl start"
spanctl fv start g1 f --kernel $g/bzImage --initrd $g/fv.cpio.gz --append "$append quiet" ||
	fail "spanctl fv start"
wait_for "$fvlog" 'spanfv: window of' 90 || fail "the featurevisor did not start"
spanctl attach g1 f --readonly || fail "spanctl attach"
spanctl filter list g1

err=$(spanctl filter load g1 f /span/filters/probe_read.bpf.o 2>&1 >/dev/null); rc=$?
echo "refused: exit $rc: $err"
[ $rc = 1 ] || fail "probe_read: exit $rc, wanted 1"
[ "$(echo "$err" | wc -l)" = 1 ] || fail "probe_read: more than one line: $err"
echo "$err" | grep -q 'refused: calls bpf_probe_read_kernel' || fail "probe_read: reason: $err"
spanctl filter list g1 | grep -q 'probe_read' && fail "the refused filter is listed"

err=$(spanctl filter load g1 2>&1 >/dev/null); rc=$?
[ $rc = 2 ] && [ "$(echo "$err" | wc -l)" = 1 ] || fail "bad command line: exit $rc: $err"
echo "bad command line: exit $rc: $err"

spanctl filter load g1 f /span/filters/all.bpf.o || fail "the all filter was refused"
spanctl filter list g1 | tee /dev/stderr | grep -q ' f .*all' || fail "all is not listed"
spanctl filter unload g1 f || fail "spanctl filter unload"
expect_progress "with filters loaded and unloaded"
spanctl stop g1 || fail "spanctl stop"
echo "PASS: probe_read refused with its reason (exit 1), all loaded and unloaded"
