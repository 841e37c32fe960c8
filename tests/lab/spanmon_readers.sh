#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Issue 9: one set of counts however many spanmons run.  `spanmon serve`,
# `spanmon top` and `spanmon json -i 1` run at once (the first to start
# collects, the others read) while kvmloop makes N port-I/O exits: every
# reader reports exactly N ioio exits for kvmloop's VM (kvmloop re-enters
# its last I/O exit and stops on a HLT, the one exit never timed; its
# other exits, timer interrupts and the like, have other reasons and the
# readers must agree on them too).  `spanmon --reset` under them refuses
# (exit 1, one line) and keeps the counts.  Then `spanmon top -- kvmloop
# -n N` prints a final view with exactly N ioio exits and exits with
# kvmloop's status, and `spanmon json -- sh -c 'exit 3'` exits 3.
n=${1:-5000}
fail() { echo "FAIL: $*"; kill $serve $top $json 2>/dev/null; exit 1; }
port=9464

spanmon --reset || fail "spanmon --reset"
spanmon serve -l 127.0.0.1:$port >/tmp/r-serve.log 2>&1 &
serve=$!
sleep 3
spanmon top -i 1 >/tmp/r-top.log 2>&1 &
top=$!
spanmon json -i 1 >/tmp/r-json.log 2>/tmp/r-json.err &
json=$!
# Loading takes a few seconds under TCG: wait until each has shown a view.
for i in $(seq 60); do
	[ -s /tmp/r-json.log ] && grep -q '^spanmon ' /tmp/r-top.log &&
		wget -q -O /dev/null http://127.0.0.1:$port/metrics 2>/dev/null && break
	sleep 1
done
for p in $serve $top $json; do
	kill -0 $p 2>/dev/null || fail "a reader died: $(cat /tmp/r-serve.log /tmp/r-top.log /tmp/r-json.err)"
done
links=$(bpftool link list -j | jq '[.[] | select(.tp_name == "kvm_exit")] | length')
[ "$links" = 1 ] || fail "$links kvm_exit programs attached by three spanmons, not 1"

spanmon --reset 2>/tmp/r-reset.err
rc=$?
[ $rc = 1 ] && [ "$(grep -c . /tmp/r-reset.err)" = 1 ] ||
	fail "--reset under a collector: exit $rc, stderr: $(cat /tmp/r-reset.err)"
echo "--reset under a collector: $(cat /tmp/r-reset.err)"

kvmloop -n "$n" || fail "kvmloop"
sleep 3

# serve: the sums over kvmloop-0's series of one reason, and of all.
wget -q -O /tmp/r-metrics.txt http://127.0.0.1:$port/metrics || fail "no /metrics"
prom() {
	awk -v want="$1" '/^span_kvm_exit_handling_seconds_count\{vm="kvmloop-0"/ {
		if (want == "" || index($0, "reason=\"" want "\"")) s += $2 } END { print s + 0 }' \
		/tmp/r-metrics.txt
}
# json: its last line.
tail -1 /tmp/r-json.log >/tmp/r-last.json
js() {
	jq -r --arg r "$1" '[.series[] | select(.kind == "exit" and .vm == "kvmloop-0" and
		($r == "" or .reason == $r)) | .count] | add // 0' /tmp/r-last.json
}
kill -INT $top $json $serve
wait $top $json $serve
# top: the final view (per VM), "count N" under each kvmloop-0 exit series.
top_count() {
	awk -v want="$1" '/^spanmon .* final /{f = 1; s = 0} f && /^exit vm=kvmloop-0 / {
		c = (want == "" || index($0, "reason=" want)) } f && c && /^  count / { s += $2; c = 0 }
		END { print s + 0 }' /tmp/r-top.log
}
echo "ioio exits: serve $(prom ioio), json $(js ioio), top $(top_count ioio); all exits: serve $(prom ''), json $(js ''), top $(top_count '')"
for got in "$(prom ioio)" "$(js ioio)" "$(top_count ioio)"; do
	[ "$got" = "$n" ] || fail "a reader reported $got ioio exits of kvmloop, not $n"
done
all=$(prom '')
[ "$(js '')" = "$all" ] && [ "$(top_count '')" = "$all" ] ||
	fail "the readers disagree on kvmloop's exits: $all, $(js ''), $(top_count '')"
[ "$all" -lt $((n + n / 2)) ] || fail "$all exits of kvmloop for $n I/O exits"
echo "kvmloop-0's other exits: $(jq -r '[.series[] | select(.kind == "exit" and
	.vm == "kvmloop-0" and .reason != "ioio") | "\(.reason) \(.count)"] | join(", ")' /tmp/r-last.json)"

# A run scoped to a command: its final view, its exit status.
spanmon top -- kvmloop -n "$n" >/tmp/r-cmd.log 2>&1 || fail "spanmon top -- kvmloop: $(cat /tmp/r-cmd.log)"
echo "--- spanmon top -- kvmloop -n $n:"
grep -A1 'reason=ioio' /tmp/r-cmd.log
got=$(awk '/reason=ioio/ {getline; print $2}' /tmp/r-cmd.log)
[ "$got" = "$n" ] || fail "spanmon top -- kvmloop -n $n showed $got ioio exits"
grep -q '^spanmon .* final  1 VMs' /tmp/r-cmd.log || fail "not one VM in the final view"
spanmon json -- sh -c 'exit 3' >/dev/null 2>&1
rc=$?
[ $rc = 3 ] || fail "spanmon json -- sh -c 'exit 3' exited $rc"
echo "PASS: serve, top and json each saw $n ioio exits ($all in all) of one kvmloop; --reset refused; top -- kvmloop: $got"
