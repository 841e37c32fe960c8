/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Offsets and sizes a C compiler computes from a kernel's vmlinux.h (which
 * bpftool generates from the same BTF): introspect_vmlinux.c, compiled once
 * per kernel, fills one of these, independently of controller/fv/introspect.c
 * reading the BTF with libbpf.  No includes: vmlinux.h comes before it.
 */
#ifndef __SPAN_INTROSPECT_VMLINUX_H
#define __SPAN_INTROSPECT_VMLINUX_H

struct span_vmlinux_offsets {
	int valid;		/* 0: that kernel's vmlinux.h was not there */
	const char *btf;	/* the BTF it was generated from */
	unsigned long task_size, tasks, pid, tgid, comm, state, exit_state, usage;
	unsigned long real_parent, cred, sched_class, thread_pid, pid_links;
	unsigned long hlist_node_size, cred_size, cred_uid;
	unsigned long pid_size, pid_tasks, hlist_head_size, pid_nr;
	int pidtype_pid, pidtype_tgid;
};

extern const struct span_vmlinux_offsets span_vmlinux_host, span_vmlinux_lab;

#endif /* __SPAN_INTROSPECT_VMLINUX_H */
