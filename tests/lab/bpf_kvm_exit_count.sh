#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# A CO-RE BPF program (bpf/kvmexits) loads through the lab kernel's BTF,
# attaches to kvm:kvm_exit and counts the exits of kvmloop, which does exactly
# N port-I/O exits: the count must be at least N, and not wildly more.
n=${1:-2000}
fail() { echo "FAIL: $*"; exit 1; }
num() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

out=$(kvmexits -j -- kvmloop -n "$n" -j) || fail "kvmexits or kvmloop failed: $out"
echo "$out"
loop=$(echo "$out" | grep '"io_exits"')
pid=$(echo "$loop" | num pid)
io=$(echo "$loop" | num io_exits)
[ "$io" = "$n" ] || fail "kvmloop saw ${io:-no} I/O exits, wanted $n"

rec=$(echo "$out" | grep "^{\"pid\":$pid,\"comm\"")
[ -n "$rec" ] || fail "kvmexits has no record for kvmloop (pid $pid)"
echo "$rec" | grep -q '"comm":"kvmloop"' || fail "record for pid $pid is not kvmloop: $rec"
exits=$(echo "$rec" | num exits)
vcpus=$(echo "$rec" | num vcpus)
[ "$exits" -ge "$n" ] || fail "BPF counted $exits kvm_exit events, fewer than the $n I/O exits"
# Interrupts and the like add a few exits; ten times N means we count wrongly.
[ "$exits" -le $((n * 10)) ] || fail "BPF counted $exits exits for $n I/O exits"
[ "$vcpus" = 1 ] || fail "BPF saw $vcpus vCPUs (read via CO-RE), wanted 1"
dropped=$(echo "$out" | grep '"processes"' | num dropped)
[ "$dropped" = 0 ] || fail "kvmexits dropped ${dropped:-?} events"
echo "PASS: $exits exits counted for $n I/O exits, 1 vCPU, 0 dropped"
