// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A test filter the checker must refuse: bpf_loop and its callback. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "span/spanfv_event.h"

static long step(__u32 i, void *ctx)
{
	return 0;
}

SPAN_FILTER_SEC
int span_filter(struct span_fv_event *ev)
{
	bpf_loop(4, step, ev, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
