#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Memory events end to end on L0 (tests/lab/spanev.c): a span guest writes
# its pages; two views subscribe to different halves with their own BPF
# filters (bpf/filters/range.bpf.o, loaded as freplace programs into their
# own dispatchers on span:span_mem_event) and reply; each must get exactly
# its events, in sequence, and the guest must go on; the dirty bitmaps hold
# every write notification whatever the filters and a full ring dropped;
# bpf/filters/probe_read.bpf.o is refused with its reason.
fail() { echo "FAIL: $*"; exit 1; }
spanev check -f /span/filters -n "${1:-64}" || fail "spanev check"
