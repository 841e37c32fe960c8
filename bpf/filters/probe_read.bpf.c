// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A test filter the checker must refuse: it reads kernel memory. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "span/spanfv_event.h"

SPAN_FILTER_SEC
int span_filter(struct span_fv_event *ev)
{
	__u64 v = 0;

	if (!ev)
		return 0;
	bpf_probe_read_kernel(&v, sizeof(v), (void *)ev->gfn);
	ev->user[0] = v;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
