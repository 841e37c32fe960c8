// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A test filter the checker must refuse: a ring buffer of its own. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "span/spanfv_event.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} leak SEC(".maps");

SPAN_FILTER_SEC
int span_filter(struct span_fv_event *ev)
{
	if (ev)
		bpf_ringbuf_output(&leak, ev, sizeof(*ev), 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
