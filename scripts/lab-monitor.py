#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# Hold the lab QEMU's monitor socket for scripts/lab-run.sh, and do two jobs
# through it:
#
# 1. The interrupt heartbeat.  QEMU's TCG loses the notification of a lab
#    interrupt now and then while the lab's KVM runs a guest.  Most likely
#    (the one unlocked write on that path; QEMU was not instrumented to catch
#    it in the act): helper_vmrun() sets CPU_INTERRUPT_VIRQ in
#    cpu->interrupt_request with a plain read-modify-write, outside the big
#    QEMU lock, whenever the VMCB asks for an interrupt window (V_IRQ); the
#    APIC timer's CPU_INTERRUPT_POLL, set by QEMU's main loop at the same
#    moment, is lost.  What was seen: the lab's timer vector sits in its
#    local APIC's IRR (deliverable: PPR below it; GIF, HIF and V_INTR_MASKING
#    all set) and the CPU never looks at it again: the guest runs without a
#    single exit, and if the guest waits for anything the lab must do (a
#    lock held by a preempted vCPU, its own APIC timer), the lab is hung for
#    good ("soft lockup - CPU#0 stuck for 278s").  Any later interrupt the
#    APIC accepts makes QEMU look at it again and recovers the lost one.  So
#    every INTERVAL seconds a shift key is pressed on the
#    lab's PS/2 keyboard (nothing reads it): a lost notification costs at
#    most one interval.  The evidence: README.md, "QEMU's lost lab
#    interrupt".
# 2. The hang dump.  At DUMP_AT seconds (just before lab-run.sh's whole-run
#    limit) the vCPUs' registers, local APIC and code are written to stdout.
#
# Usage: lab-monitor.py SOCKET DUMP_AT [INTERVAL]   (INTERVAL default 0.5 s;
#        0 turns the heartbeat off)
import re
import socket
import sys
import time

path = sys.argv[1]
dump_at = float(sys.argv[2])
interval = float(sys.argv[3]) if len(sys.argv) > 3 else 0.5
t0 = time.monotonic()

# QEMU creates the socket when it starts: wait for it.
s = None
while s is None and time.monotonic() - t0 < 60:
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
    except OSError:
        s = None
        time.sleep(0.2)
if s is None:
    sys.exit(0)
s.settimeout(0.05)


def drain():
    out = b""
    while True:
        try:
            d = s.recv(65536)
        except (socket.timeout, BlockingIOError):
            return out
        except OSError:
            sys.exit(0)
        if not d:
            sys.exit(0)  # QEMU is gone
        out += d


def send(cmd):
    try:
        s.sendall((cmd + "\n").encode())
    except OSError:
        sys.exit(0)


next_beat = time.monotonic()
while time.monotonic() - t0 < dump_at:
    if interval > 0 and time.monotonic() >= next_beat:
        send("sendkey shift 10")
        next_beat += interval
    drain()  # the monitor's echo, thrown away
    time.sleep(min(0.1, interval) if interval > 0 else 0.5)

out = b""
for c in ("info cpus", "info registers -a", "info lapic", "x/24i $pc"):
    send(c)
    time.sleep(1)
    out += drain()
# The monitor echoes what it is sent, with terminal escapes: drop those.
sys.stdout.write(re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", out.decode(errors="replace")))
