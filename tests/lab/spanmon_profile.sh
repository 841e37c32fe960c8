#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# spanmon profile on real KVM: while kvmloop runs (one vCPU doing port I/O
# exits), perf sampling must attribute samples to the kvmloop VM, split into
# guest / host kernel / VMM, every host-kernel sample under an exit reason
# row, and the folded stacks must name KVM's frames from /proc/kallsyms.
# (How many kernel samples sit inside the ioio handler is printed: with TCG
# and lockdep most are in the entry/exit path.)
secs=${1:-5}
fail() { echo "FAIL: $*"; exit 1; }

kvmloop -n 100000000 >/tmp/kvmloop.log 2>&1 &
loop=$!
sleep 1
kill -0 $loop 2>/dev/null || fail "kvmloop died: $(cat /tmp/kvmloop.log)"
spanmon profile -d "$secs" --folded /tmp/vm.folded >/tmp/profile.txt 2>&1
rc=$?
kill $loop; wait $loop 2>/dev/null
cat /tmp/profile.txt
[ $rc = 0 ] || fail "spanmon profile exited $rc"

# "VM SAMPLES GUEST KERNEL VMM" rows, then "VM REASON SAMPLES SHARE" rows.
row=$(awk '$1 ~ /^kvmloop-/ && NF == 5 { print; exit }' /tmp/profile.txt)
[ -n "$row" ] || fail "no samples attributed to a kvmloop VM"
set -- $row
samples=$2 kernel=${4%.*}
# kvmloop never stops running: at 999 Hz, thousands in $secs s; TCG's timers
# are slower, so ask for far fewer.
[ "$samples" -ge 50 ] || fail "only $samples samples of kvmloop in $secs s"
[ "$kernel" -ge 1 ] || fail "kvmloop's exits spent no host kernel time? ($row)"
# Every kernel sample has a reason row (a handler's, or "-"); few land
# inside io_interception itself (the entry/exit path dominates): shown, not
# required.
ioio=$(awk '$1 ~ /^kvmloop-/ && $2 == "ioio" { print $3 }' /tmp/profile.txt)
ksamples=$(awk '$1 ~ /^kvmloop-/ && NF == 4 { n += $3 } END { print n + 0 }' /tmp/profile.txt)
# The VM row gives the kernel share rounded to 0.1%: that is the count to
# within half a per-mille of the samples (and one for the rounding here).
kexpect=$(awk -v n="$samples" -v p="$4" 'BEGIN { printf "%d", n * p / 100 + 0.5 }')
slack=$((samples / 2000 + 1))
[ $((ksamples - kexpect)) -le $slack ] && [ $((kexpect - ksamples)) -le $slack ] ||
	fail "reason rows hold $ksamples kernel samples, the VM row $kexpect (+-$slack)"

[ -s /tmp/vm.folded ] || fail "no folded stacks written"
# Every line: "frame;frame;... COUNT".
bad=$(grep -cvE '^[^ ]+ [0-9]+$' /tmp/vm.folded)
[ "$bad" = 0 ] || fail "$bad malformed folded lines"
kvm=$(grep -E '^kvmloop;' /tmp/vm.folded | grep -E '(^|;)(kvm_|svm_|vcpu_)' |
	awk '{ n += $NF } END { print n + 0 }')
echo "folded: $(wc -l </tmp/vm.folded) stacks, $kvm samples of kvmloop in KVM frames"
grep -E '^kvmloop;' /tmp/vm.folded | sort -k2 -t' ' -rn | head -3
[ "$kvm" -gt 0 ] || fail "no folded stack of kvmloop has a kvm_/svm_ frame"
echo "PASS: $samples samples of kvmloop (${kernel}% host kernel), ${ioio:-0} in ioio, $kvm in KVM frames"
