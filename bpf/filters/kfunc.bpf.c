// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A test filter the checker must refuse: a kfunc call. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "span/spanfv_event.h"

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

SPAN_FILTER_SEC
int span_filter(struct span_fv_event *ev)
{
	struct task_struct *t;

	if (!ev)
		return 0;
	t = bpf_task_from_pid(1);
	if (t)
		bpf_task_release(t);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
