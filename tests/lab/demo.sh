#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The main job's workload (make run): KVM inside the lab, single-level and
# nested, with every exit counted by kvmexits and timed by spanmon, both BPF
# programs on the kvm:* tracepoints.
set -e
step() { printf '\n==== %s\n' "$*"; }

step "The lab: $(uname -r), $(nproc) CPUs, $(grep -o -m1 -w 'svm\|vmx' /proc/cpuinfo)" \
	"with nested=$(cat /sys/module/kvm_amd/parameters/nested 2>/dev/null || echo ?)"

# spanmon stays attached through every step; its view is shown at the end.
. spanmon_lib.sh
spanmon --reset
spanmon_bg /tmp/spanmon-top.log -i 3600 -n 2 || echo "spanmon did not start: $(cat /tmp/spanmon-top.log)"
mon=$spanmon_pid

step "1. A one-vCPU guest doing 100000 port-I/O exits, counted by kvmexits (BPF, CO-RE)"
kvmexits -- kvmloop -n 100000

step "2. Nested: an L1 guest hypervisor runs an L2 guest (svm_vmcall_test)"
kvmexits -- /span/selftests/x86_64/svm_vmcall_test

step "3. Nested state save/restore while L2 runs (state_test)"
kvmexits -- /span/selftests/x86_64/state_test

kill -INT $mon
wait $mon || true
step "4. spanmon's view of all of it (latencies under TCG emulation: compare ratios)"
spanmon top -n 1 --limit 6

step "Done: every exit above went through KVM in the lab kernel; nested exits are" \
	"L2 exits that L0 handled or reflected to L1."
