#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kvmexits, attached while a nested SVM selftest runs, must see L2 exits
# (kvm:kvm_nested_vmexit) and L1 VMRUNs (kvm:kvm_nested_vmenter).
fail() { echo "FAIL: $*"; exit 1; }
num() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
t=/span/selftests/x86_64/svm_vmcall_test

out=$(kvmexits -j -- "$t") || fail "kvmexits or $t failed: $out"
echo "$out"
rec=$(echo "$out" | grep '"comm":"svm_vmcall_tes')
[ -n "$rec" ] || fail "no record for svm_vmcall_test"
exits=$(echo "$rec" | num exits)
nexits=$(echo "$rec" | num nested_exits)
nruns=$(echo "$rec" | num nested_entries)
[ "$exits" -gt 0 ] || fail "no exits counted"
[ "$nruns" -gt 0 ] || fail "no nested VMRUN counted"
[ "$nexits" -gt 0 ] || fail "no nested exit counted"
[ "$nexits" -le "$exits" ] || fail "more nested exits ($nexits) than exits ($exits)"
echo "PASS: $exits exits, $nexits nested exits, $nruns nested VMRUNs"
