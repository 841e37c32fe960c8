// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A test filter the checker must refuse: a program array and a tail call. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "span/spanfv_event.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} progs SEC(".maps");

SPAN_FILTER_SEC
int span_filter(struct span_fv_event *ev)
{
	bpf_tail_call(ev, &progs, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
