// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A test filter the checker must refuse: a second program beside the filter. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "span/spanfv_event.h"

SPAN_FILTER_SEC
int span_filter(struct span_fv_event *ev)
{
	return 0;
}

SEC("raw_tp/span_mem_event")
int spy(void *ctx);
int spy(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
