// SPDX-License-Identifier: GPL-2.0
/*
 * spanmon feed (hidden, for tests): load the same programs as production,
 * sharing the pinned maps of a running spanmon, and drive them with
 * BPF_PROG_TEST_RUN and synthetic arguments: exits and entries of three
 * fake vCPUs, a page fault, a nested reflection and every span operation
 * (timed ones, and a zap and an access change, counted only), a round at a
 * time, on a fake clock so that every latency is known.  Nothing is
 * attached.
 *
 * With -i SECONDS: -n rounds every SECONDS until killed (one process, so
 * one VM label, and rates that keep moving for Prometheus).
 *
 * The programs' cost is measured by bench/spanmon_host.c (make bench-host).
 */
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "span/util.h"
#include "builtin.h"
#include "spanmon.skel.h"

/* Never dereferenced successfully: the CO-RE reads fail and yield 0. */
#define VCPU_A 0x1000ull
#define VCPU_B 0x2000ull
#define VCPU_C 0x3000ull
#define ISA_SVM 2
#define SPAN_ACCESS_RW 3	/* read | write */

/* Run prog once on a raw tracepoint's arguments (up to six). */
static int run_args(struct bpf_program *prog, __u64 args[6])
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = 6 * sizeof(__u64));
	int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);

	if (err)
		fprintf(stderr, "spanmon: test run of %s failed: %s\n",
			bpf_program__name(prog), strerror(-err));
	return err;
}

static int run(struct bpf_program *prog, __u64 a0, __u64 a1, __u64 a2)
{
	__u64 args[6] = { a0, a1, a2 };

	return run_args(prog, args);
}

/* A span tracepoint: (guest, l1, gfn, npages, access, reason). */
static int run_span(struct bpf_program *prog, __u64 npages, __u32 reason)
{
	__u64 args[6] = { 1, 2, 0x100, npages, SPAN_ACCESS_RW, reason };

	return run_args(prog, args);
}

static int one_round(struct spanmon_bpf *skel, __u64 r)
{
	__typeof__(skel->progs) *p = &skel->progs;
	__u64 *clock = &skel->bss->fake_clock_ns;
	__u64 t = 1000000000ull + r * 1000000ull, d = 1000 + (r % 7) * 700;
	/* Attach and detach: start -> end; the others: op -> kvm_entry. */
	struct {
		struct bpf_program *op, *end;
		__u32 reason;
	} ops[] = {
		{ p->span_attach_start, p->span_attach, SPAN_REASON_IOCTL },
		{ p->span_detach_start, p->span_detach, SPAN_REASON_IOCTL },
		{ p->span_shadow_sync, NULL, SPAN_REASON_FAULT },
		{ p->span_view_fault, NULL, SPAN_REASON_DENIED },
	};
	unsigned int i;
	int err = 0;

	*clock = t;
	err |= run(p->kvm_exit, VCPU_A, ISA_SVM, 0);
	err |= run(p->kvm_exit, VCPU_B, ISA_SVM, 0);
	*clock = t + d / 4;
	err |= run(p->kvm_page_fault, VCPU_A, 0x7000, 0);
	*clock = t + d;
	err |= run(p->kvm_entry, VCPU_A, 0, 0);
	*clock = t + 3 * d;
	err |= run(p->kvm_entry, VCPU_B, 0, 0);

	/* L1's VMRUN has no vcpu argument: the programs ask which one runs. */
	*clock = t;
	err |= run(p->kvm_nested_vmexit, VCPU_A, ISA_SVM, 0);
	*clock = t + 20 * d;
	skel->bss->fake_running_vcpu = VCPU_A;
	err |= run(p->kvm_nested_vmenter, 0, 0, 0);

	skel->bss->fake_running_vcpu = VCPU_C;
	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		*clock = t;
		/* A fault-path op happens while its vCPU handles an exit. */
		if (!ops[i].end)
			err |= run(p->kvm_exit, VCPU_C, ISA_SVM, 0);
		err |= run_span(ops[i].op, 1, ops[i].reason);
		*clock = t + (i + 2) * 10 * d;
		if (ops[i].end)
			err |= run_span(ops[i].end, 1, ops[i].reason);
		else
			err |= run(p->kvm_entry, VCPU_C, 0, 0);
	}
	/* Counted, not timed: detach's zap and a view's access change. */
	err |= run_span(p->span_shadow_sync, 512, SPAN_REASON_ZAP);
	err |= run_span(p->span_set_access, 16, SPAN_REASON_IOCTL);
	return err;
}

int cmd_feed(void)
{
	struct spanmon_collect_opts o = {
		.pin_dir = env.pin_dir,
		.all_programs = true,
		.fake_clock = true,
		.verbose = env.verbose,
		.quiet = true,
	};
	struct spanmon_collect c;
	uint64_t rounds = env.count ? env.count : 1, r;
	int ret = 1;

	if (spanmon_collect_open(&c, &o))
		return 1;
	do {
		for (r = 0; r < rounds && !spanmon_exiting; r++)
			if (one_round(c.skel, r))
				goto out;
		if (env.periodic)
			spanmon_sleep(env.interval);
	} while (env.periodic && !spanmon_exiting);
	ret = 0;
out:
	spanmon_collect_close(&c);
	return ret;
}
