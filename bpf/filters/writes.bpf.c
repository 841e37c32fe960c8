// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Deliver only write accesses (and async first-write notifications). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "span/spanfv_event.h"

SPAN_FILTER_SEC
int span_filter(struct span_fv_event *ev)
{
	if (ev && !(ev->access & SPAN_FV_ACCESS_WRITE))
		ev->drop = 1;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
