// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A featurevisor filter that delivers every event (the dispatcher's default). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "span/spanfv_event.h"

SPAN_FILTER_SEC
int span_filter(struct span_fv_event *ev)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
