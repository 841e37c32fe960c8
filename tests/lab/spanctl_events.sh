#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Memory events reach featurevisors in their L1s: two featurevisors
# (spanfv-events on libspanfv) serve one span guest whose workload writes
# random memory; each subscribes to the guest's writes on its own part of
# the guest kernel's .data (KVM_SPAN_SET_ACCESS + SUBSCRIBE, through its doorbell) and has its
# own filter loaded by `spanctl filter load` (bpf/filters/gfns_*.bpf.o).
# Each must receive exactly its own events (every gfn in its range, the
# kernel's sequence and its dispatcher's without a gap, none of the
# other's view), answer every one (allow once, then allow and unsubscribe
# the page: KVM_SPAN_REPLY through the doorbell), and the guest must go on.
# A range outside the guest is refused by the controller.
#
# Usage: spanctl_events.sh [MEM]   (the guest's; default 128M)
mem=${1:-128M}
export SPAN_RUN_DIR=/tmp/span-run
log=$SPAN_RUN_DIR/g1.log
fa=$SPAN_RUN_DIR/g1.ea.log
fb=$SPAN_RUN_DIR/g1.eb.log
fv_logs="$fa $fb"
. "$(dirname "$0")/spanctl_lib.sh"

spanctl start g1 --kernel $g/bzImage --initrd $g/initramfs.cpio.gz --mem "$mem" \
	--cpus 1 --append "$append nokaslr span.rand=48" || fail "spanctl start"
# The guest kernel's .data (nokaslr: the lab kernel at 16 MiB, as
# System.map says): gfns 0x1e00-0x1e7f (jiffies, vm_zone_stat) and
# 0x1e80-0x1f7f (rcu_state, tk_core, contig_page_data), written on every
# tick and page allocation, so both ranges surely see writes; each page
# fires at most twice (allow, then allow and unsubscribe).
spanctl fv start g1 ea --kernel $g/bzImage --initrd $g/fv.cpio.gz \
	--append "$append quiet spanfv.prog=events spanfv.range=0x1e00000,0x80000" ||
	fail "spanctl fv start ea"
spanctl fv start g1 eb --kernel $g/bzImage --initrd $g/fv.cpio.gz \
	--append "$append quiet spanfv.prog=events spanfv.range=0x1e80000,0x100000" ||
	fail "spanctl fv start eb"
wait_for "$log" 'workload: rand' 120 || fail "the guest's random writes did not start"
wait_for "$fa" 'spanfv-events: waiting' 90 || fail "ea did not start"
wait_for "$fb" 'spanfv-events: waiting' 90 || fail "eb did not start"

for fv in ea:a eb:b; do
	spanctl attach g1 ${fv%:*} --readonly || fail "spanctl attach ${fv%:*}"
	spanctl filter load g1 ${fv%:*} /span/filters/gfns_${fv#*:}.bpf.o ||
		fail "spanctl filter load ${fv%:*}"
done
spanctl filter list g1
spanctl filter list g1 | grep -q 'ea .*gfns_a' || fail "ea's filter is not listed"
spanctl filter list g1 | grep -q 'eb .*gfns_b' || fail "eb's filter is not listed"

for f in "$fa" "$fb"; do
	wait_for "$f" 'subscribed to gfns' 30 || fail "no subscription in $f"
	grep -q 'subscribed to gfns.*: ok' "$f" || fail "$(grep subscribed "$f")"
	grep -q 'a range beyond the guest: Numerical result out of range' "$f" ||
		fail "a range beyond the guest was not refused: $(grep beyond "$f")"
	wait_for "$f" 'spanfv-events: ev seq' 120 || fail "no event reached $f"
done
# Let them run: the workload keeps writing both ranges.
sleep 10
expect_progress "while its writes were events"
grep -c 'workload: rand' "$log" | sed 's/^/random-write reports: /'
spanctl filter list g1
spanctl detach g1 ea || fail "spanctl detach ea"
spanctl detach g1 eb || fail "spanctl detach eb"
for f in "$fa" "$fb"; do
	wait_for "$f" 'spanfv-events: detached' 30 || fail "no final summary in $f"
done
expect_progress "after its featurevisors left"

# check LOG LO HI: the events in LOG, every gfn in [LO, HI], seq 1, 2, 3...
check() {
	grep 'spanfv-events: ev seq' "$1" | awk -v lo=$(($2)) -v hi=$(($3)) '
		{ seq = $4; gfn = $8 + 0; n++; lines++ }
		gfn < lo || gfn > hi { bad++; if (bad < 4) print "outside: " $0 }
		seq != n { gap++; if (gap < 4) print "sequence: wanted " n ": " $0; n = seq }
		/-> allow/ { allow++ } /-> unsubscribe/ { unsub++ } /: [A-Z]/ { failed++ }
		END { printf "%d events, allow %d, unsubscribe %d, outside %d, gaps %d, failed %d\n",
			lines, allow, unsub, bad, gap, failed
			exit !(lines > 0 && allow > 0 && !bad && !gap && !failed) }'
}
for f in "$fa:0x1e00:0x1e7f" "$fb:0x1e80:0x1f7f"; do
	set -- $(echo "$f" | tr : ' ')
	echo "$(basename "$1"): $(check "$1" "$2" "$3" | tail -n 1)"
	check "$1" "$2" "$3" >/dev/null || fail "$(basename "$1"): $(check "$1" "$2" "$3")"
	s=$(grep 'spanfv-events: detached' "$1")
	echo "$s"
	echo "$s" | grep -q 'replies ok [1-9][0-9]* failed 0 ' || fail "replies: $s"
	echo "$s" | grep -q 'gaps seq 0 dseq 0, outside 0, other view 0' || fail "$s"
done
# Exactly their own: not one gfn of the other's range in either log.
grep 'spanfv-events: ev seq' "$fa" | grep -q 'gfn 0x1e[89a-f][0-9a-f] \|gfn 0x1f' && fail "ea saw eb's range"
grep 'spanfv-events: ev seq' "$fb" | grep -q 'gfn 0x1e[0-7][0-9a-f] ' && fail "eb saw ea's range"

spanctl stop g1 || fail "spanctl stop"
na=$(grep -c 'spanfv-events: ev seq' "$fa"); nb=$(grep -c 'spanfv-events: ev seq' "$fb")
echo "PASS: two featurevisors got $na and $nb events, each its own range, no gap, all answered"
