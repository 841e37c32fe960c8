#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/lab-monitor.py against a stand-in for QEMU's monitor socket: it
# must press the heartbeat key at its interval from the start (a lost lab
# interrupt costs one interval, not the run), take the hang dump at its
# deadline (registers, local APIC, code) with the monitor's terminal escapes
# dropped, send nothing with the heartbeat off, and quit quietly when QEMU
# goes away.
#
# Usage: test_lab_monitor.sh BIN_DIR RESULTS_FILE

suite=lab-monitor
# shellcheck source=tests/host/lab_lib.sh
. "$(dirname "$0")/lab_lib.sh"

# fake_monitor SOCKET LOG SECONDS: accept one client, log every line it
# sends with its arrival time, answer each with escapes and "(qemu) ", for
# SECONDS, then close (QEMU gone).
fake_monitor() {
	python3 - "$@" <<'PY' &
import socket, sys, time
path, log, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
srv = socket.socket(socket.AF_UNIX)
srv.bind(path)
srv.listen(1)
c, _ = srv.accept()
c.settimeout(0.05)
t0 = time.monotonic()
buf = b""
with open(log, "w") as f:
    while time.monotonic() - t0 < secs:
        try:
            d = c.recv(4096)
        except socket.timeout:
            continue
        if not d:
            break
        buf += d
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            f.write("%.2f %s\n" % (time.monotonic() - t0, line.decode()))
            f.flush()
            reply = b"\x1b[K\x1b[D" + line + b"\r\n"
            if line.startswith(b"info registers"):
                reply += b"RIP=ffffffff81000000 RFL=00000282\r\n"
            elif line.startswith(b"info lapic"):
                reply += b"IRR\t 236\r\nAPR 0x00 TPR 0x10 PPR 0x10\r\n"
            c.sendall(reply + b"(qemu) ")
c.close()
PY
}

# session NAME QEMU_SECONDS DUMP_AT INTERVAL: the helper against a stand-in
# monitor that lives QEMU_SECONDS; its exit status in rc, what it sent in
# $tmp/NAME.log, what it printed in $tmp/NAME.out.
session() {
	local fm
	fake_monitor "$tmp/$1.sock" "$tmp/$1.log" "$2"
	fm=$!
	sleep 0.3
	timeout 20 python3 "$top/scripts/lab-monitor.py" "$tmp/$1.sock" "$3" "$4" >"$tmp/$1.out" 2>&1
	rc=$?
	wait $fm
}

# The heartbeat at 0.2 s, the dump at 2 s, QEMU gone at 7 s.
session m1 7 2 0.2
beats=$(grep -c ' sendkey shift' "$tmp/m1.log")
first=$(awk '/sendkey/ { print $1; exit }' "$tmp/m1.log")
before=$(awk '/sendkey/ && $1 < 2.0 { n++ } END { print n + 0 }' "$tmp/m1.log")
if [ $rc != 0 ]; then
	record FAIL heartbeat "lab-monitor.py exited $rc: $(tr '\n' '|' <"$tmp/m1.out")"
elif [ "$before" -lt 7 ] || awk -v f="$first" 'BEGIN { exit !(f > 0.5) }'; then
	record FAIL heartbeat "$before keys before the dump at 2 s (first at ${first:-never} s), wanted >= 7 from the start: $(tr '\n' '|' <"$tmp/m1.log")"
else
	record PASS heartbeat "$beats keys, the first at $first s"
fi
check_output dump 0 "$rc" "$(cat "$tmp/m1.out")" '^RIP=ffffffff81000000' '^IRR	 236' \
	'^APR 0x00 TPR 0x10 PPR 0x10'
if grep -q $'\x1b' "$tmp/m1.out"; then
	record FAIL dump-escapes "terminal escapes left in the dump"
else
	record PASS dump-escapes ""
fi
missing=
for c in 'info registers -a' 'info lapic' 'x/24i $pc'; do
	grep -qF " $c" "$tmp/m1.log" || missing="$missing '$c'"
done
if [ -n "$missing" ]; then
	record FAIL dump-commands "the dump did not send$missing: $(tr '\n' '|' <"$tmp/m1.log")"
else
	record PASS dump-commands ""
fi

# Heartbeat off: nothing but the dump.
session m2 4 1 0
if [ $rc = 0 ] && ! grep -q sendkey "$tmp/m2.log" && grep -q 'info lapic' "$tmp/m2.log"; then
	record PASS heartbeat-off ""
else
	record FAIL heartbeat-off "exit $rc: $(tr '\n' '|' <"$tmp/m2.log")"
fi

# QEMU exits long before the deadline: the helper follows it at once.
start=$SECONDS
session m3 1 600 0.2
if [ $rc = 0 ] && [ $((SECONDS - start)) -le 5 ] && [ ! -s "$tmp/m3.out" ]; then
	record PASS qemu-gone "$((SECONDS - start)) s"
else
	record FAIL qemu-gone "exit $rc after $((SECONDS - start)) s: $(tr '\n' '|' <"$tmp/m3.out")"
fi

exit $failed
