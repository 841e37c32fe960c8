// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A test filter the checker must refuse: a kernel symbol (typed ksym). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "span/spanfv_event.h"

extern struct task_struct init_task __ksym;

SPAN_FILTER_SEC
int span_filter(struct span_fv_event *ev)
{
	if (!ev)
		return 0;
	ev->user[0] = (__u64)&init_task;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
