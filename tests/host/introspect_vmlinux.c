// SPDX-License-Identifier: GPL-2.0
/*
 * Built per kernel by the Makefile with -include <its vmlinux.h>
 * -DVMLINUX_NAME=span_vmlinux_host (or _lab) -DVMLINUX_BTF=\"path\", or
 * with -DVMLINUX_NONE when that kernel is not built.  The compiler lays
 * the structures out from the C types: a second opinion on the offsets
 * introspect.c reads from BTF.
 */
#include "introspect_vmlinux.h"

#ifdef VMLINUX_NONE
const struct span_vmlinux_offsets VMLINUX_NAME = { .valid = 0 };
#else
#define OFF(type, member) __builtin_offsetof(struct type, member)
const struct span_vmlinux_offsets VMLINUX_NAME = {
	.valid = 1,
	.btf = VMLINUX_BTF,
	.task_size = sizeof(struct task_struct),
	.tasks = OFF(task_struct, tasks),
	.pid = OFF(task_struct, pid),
	.tgid = OFF(task_struct, tgid),
	.comm = OFF(task_struct, comm),
	.state = OFF(task_struct, __state),
	.exit_state = OFF(task_struct, exit_state),
	.usage = OFF(task_struct, usage.refs.counter),
	.real_parent = OFF(task_struct, real_parent),
	.cred = OFF(task_struct, cred),
	.sched_class = OFF(task_struct, sched_class),
	.thread_pid = OFF(task_struct, thread_pid),
	.pid_links = OFF(task_struct, pid_links),
	.hlist_node_size = sizeof(struct hlist_node),
	.cred_size = sizeof(struct cred),
	.cred_uid = OFF(cred, uid.val),
	.pid_size = sizeof(struct pid),
	.pid_tasks = OFF(pid, tasks),
	.hlist_head_size = sizeof(struct hlist_head),
	.pid_nr = OFF(pid, numbers[0].nr),
	.pidtype_pid = PIDTYPE_PID,
	.pidtype_tgid = PIDTYPE_TGID,
};
#endif
