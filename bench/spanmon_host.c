// SPDX-License-Identifier: GPL-2.0
/*
 * spanmon's BPF cost on this host, natively (JIT), without KVM: spanmon's
 * real programs, kvmexits' counter (the reference: "any program on
 * kvm_exit") and an empty raw_tp program (the floor), driven side by side
 * by BPF_PROG_TEST_RUN through rounds of synthetic events (bench_script:
 * exits and entries of four vCPUs, page faults, a nested exit reflected
 * to L1 and L1's VMRUN, a fault's shadow sync), on the real clock, with
 * the kernel's run-time statistics on (BPF_ENABLE_STATS, as sysctl
 * kernel.bpf_stats_enabled=1).  Prints a table:
 *
 *   cold  run_time_ns / run_cnt per program, one event per test run: what
 *         the kernel's statistics say, including their own clock read.
 *         Each test run is a system call, and on a host with page-table
 *         isolation but no PCID every system call flushes the TLB: each
 *         run starts with cold TLB and caches (an upper bound).
 *   warm  the same program bodies run on the same events inside one
 *         program run (bench/NAME_bench.bpf.c), each timed with
 *         bpf_ktime_get_ns() less the timer's own cost: back-to-back
 *         events, hot caches (a lower bound).
 *
 * Usage: spanmon_host [-n ROUNDS] [-w WARM_RUNS]   (as root)
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "span/util.h"
#include "spanmon_bench.h"
#include "spanmon.skel.h"
#include "spanmon_bench.skel.h"
#include "kvmexits_bench.skel.h"

/* The events of one warm test run: 100 rounds. */
#define WARM_EVENTS (100 * BENCH_SCRIPT_LEN)

static const char *const prog_names[BP_NR] = {
	[BP_EXIT] = "kvm_exit",
	[BP_PF] = "kvm_page_fault",
	[BP_ENTRY] = "kvm_entry",
	[BP_NESTED_EXIT] = "kvm_nested_vmexit",
	[BP_NESTED_ENTER] = "kvm_nested_vmenter",
	[BP_SHADOW_SYNC] = "span_shadow_sync",
};

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static int run(struct bpf_program *prog, const __u64 args[6])
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = 6 * sizeof(__u64));
	int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);

	if (err)
		fprintf(stderr, "spanmon_host: test run of %s failed: %s\n",
			bpf_program__name(prog), strerror(-err));
	return err;
}

/* run_time_ns / run_cnt of @prog since it was loaded. */
static int prog_stats(struct bpf_program *prog, __u64 *cnt, __u64 *ns)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (!prog || bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
		return -1;
	*cnt = info.run_cnt;
	*ns = info.run_time_ns;
	return 0;
}

static bool cpu_flag(const char *flag)
{
	char line[4096], *p;
	FILE *f = fopen("/proc/cpuinfo", "r");
	bool found = false;
	size_t n = strlen(flag);

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		for (p = line; (p = strstr(p, flag)); p += n)
			if (p[-1] == ' ' && (p[n] == ' ' || p[n] == '\n'))
				found = true;
		break;
	}
	fclose(f);
	return found;
}

/* spanmon's knobs, in spanmon's object or the bench object's copy. */
struct knobs {
	bool *have_span_ops, *direct_vcpu, *direct_svm, *direct_vmx, *fake_clock, *fake_running;
};

#define KNOBS(skel) ((struct knobs){ &(skel)->rodata->have_span_ops, \
	&(skel)->rodata->direct_vcpu, &(skel)->rodata->direct_svm, \
	&(skel)->rodata->direct_vmx, &(skel)->rodata->use_fake_clock, \
	&(skel)->rodata->use_fake_running })

/*
 * As spanmon sets them on a span kernel (spanmon/collect.c): every program,
 * vcpu reads as plain loads where the types are in vmlinux, the real clock.
 * No vCPU runs here: the programs that ask which one does (after asking
 * the kernel, as on a KVM host) are told by fake_running_vcpu.
 */
static void spanmon_config(struct knobs k, const struct btf *vmlinux)
{
	bool cast = btf__find_by_name_kind(vmlinux, "bpf_rdonly_cast", BTF_KIND_FUNC) >= 0;

	*k.have_span_ops = true;
	*k.fake_clock = false;
	*k.fake_running = true;
	*k.direct_vcpu = cast && btf__find_by_name_kind(vmlinux, "kvm_vcpu", BTF_KIND_STRUCT) >= 0;
	*k.direct_svm = cast && btf__find_by_name_kind(vmlinux, "vcpu_svm", BTF_KIND_STRUCT) >= 0;
	*k.direct_vmx = cast && btf__find_by_name_kind(vmlinux, "vcpu_vmx", BTF_KIND_STRUCT) >= 0;
}

struct row {
	const char *tool;
	struct bpf_program *prog;	/* cold */
	unsigned int bp;		/* its enum bench_prog */
	double warm;			/* ns per event, the timer's cost subtracted */
	__u64 cnt, ns;
};

static double warm_of(const __u64 *ns, const __u64 *cnt, unsigned int bp)
{
	double timer = cnt[BP_NR] ? (double)ns[BP_NR] / cnt[BP_NR] : 0;

	return cnt[bp] ? (double)ns[bp] / cnt[bp] - timer : 0;
}

int main(int argc, char **argv)
{
	struct spanmon_bpf *sm = NULL;
	struct spanmon_bench_bpf *sb = NULL;
	struct kvmexits_bench_bpf *kx = NULL;
	struct bpf_program *sm_prog[BP_NR], *kx_prog[BP_NR] = { 0 }, *p;
	struct btf *vmlinux = NULL;
	struct row rows[16];
	unsigned int nrows = 0, i, e;
	uint64_t rounds = 20000, warm_runs = 20, v, r;
	int stats_fd = -1, opt, ret = 1;
	struct utsname u;
	__u64 args[6];
	double cold_sum[2] = { 0 }, warm_sum[2] = { 0 };
	__u64 exits = 0;

	while ((opt = getopt(argc, argv, "n:w:h")) != -1) {
		switch (opt) {
		case 'n':
		case 'w':
			if (span_parse_u64(optarg, 1, 10000000, &v)) {
				fprintf(stderr, "spanmon_host: invalid -%c '%s'\n", opt, optarg);
				return SPAN_EXIT_USAGE;
			}
			*(opt == 'n' ? &rounds : &warm_runs) = v;
			break;
		default:
			fprintf(stderr, "usage: spanmon_host [-n ROUNDS] [-w WARM_RUNS]\n");
			return opt == 'h' ? 0 : SPAN_EXIT_USAGE;
		}
	}
	if (geteuid()) {
		fprintf(stderr, "spanmon_host: need root to load BPF\n");
		return 1;
	}
	libbpf_set_print(quiet_print);
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		fprintf(stderr, "spanmon_host: no kernel BTF\n");
		return 1;
	}

	sm = spanmon_bpf__open();
	sb = spanmon_bench_bpf__open();
	kx = kvmexits_bench_bpf__open();
	if (!sm || !sb || !kx) {
		fprintf(stderr, "spanmon_host: cannot open the BPF objects\n");
		goto out;
	}
	spanmon_config(KNOBS(sm), vmlinux);
	spanmon_config(KNOBS(sb), vmlinux);
	/* Of the bench objects, only their drivers (the rest is measured above). */
	bpf_object__for_each_program(p, sb->obj)
		bpf_program__set_autoload(p, p == sb->progs.empty || p == sb->progs.warm);
	bpf_object__for_each_program(p, kx->obj)
		bpf_program__set_autoload(p, !strncmp(bpf_program__name(p), "kx_", 3));
	if (spanmon_bpf__load(sm) || spanmon_bench_bpf__load(sb) || kvmexits_bench_bpf__load(kx)) {
		fprintf(stderr, "spanmon_host: cannot load the BPF programs\n");
		goto out;
	}
	for (i = 0; i < BP_NR; i++) {
		sm_prog[i] = bpf_object__find_program_by_name(sm->obj, prog_names[i]);
		if (!sm_prog[i]) {
			fprintf(stderr, "spanmon_host: spanmon has no program %s\n", prog_names[i]);
			goto out;
		}
	}
	kx_prog[BP_EXIT] = kx->progs.kx_exit;
	kx_prog[BP_NESTED_EXIT] = kx->progs.kx_nested_exit;
	kx_prog[BP_NESTED_ENTER] = kx->progs.kx_nested_enter;

	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0) {
		fprintf(stderr, "spanmon_host: cannot enable BPF stats: %s\n", strerror(errno));
		goto out;
	}

	/* Cold: one test run per event and program, interleaved. */
	for (r = 0; r < rounds; r++) {
		for (e = 0; e < BENCH_SCRIPT_LEN; e++) {
			unsigned int bp = bench_script[e].prog;

			memset(args, 0, sizeof(args));
			args[0] = BENCH_VCPU(bench_script[e].vcpu);
			args[1] = BENCH_ISA_SVM;
			sm->bss->fake_running_vcpu = args[0];
			if (bp == BP_SHADOW_SYNC) {
				__u64 span[6] = { 1, 2, 0x100, 1, 3, BENCH_REASON_FAULT };

				memcpy(args, span, sizeof(span));
			}
			if (run(sm_prog[bp], args) || (kx_prog[bp] && run(kx_prog[bp], args)) ||
			    run(sb->progs.empty, args))
				goto out;
			exits += bp == BP_EXIT;
		}
	}
	/* Warm: WARM_EVENTS events per run, timed inside. */
	for (r = 0; r < warm_runs; r++) {
		memset(args, 0, sizeof(args));
		args[0] = WARM_EVENTS;
		if (run(sb->progs.warm, args) || run(kx->progs.kx_warm, args))
			goto out;
	}

	rows[nrows++] = (struct row){ .tool = "baseline", .prog = sb->progs.empty, .bp = BP_NR };
	for (i = 0; i < BP_NR; i++)
		if (kx_prog[i])
			rows[nrows++] = (struct row){ .tool = "kvmexits", .prog = kx_prog[i],
				.bp = i, .warm = warm_of(kx->bss->warm_ns, kx->bss->warm_cnt, i) };
	for (i = 0; i < BP_NR; i++)
		rows[nrows++] = (struct row){ .tool = "spanmon", .prog = sm_prog[i], .bp = i,
			.warm = warm_of(sb->bss->warm_ns, sb->bss->warm_cnt, i) };

	uname(&u);
	printf("spanmon's BPF cost on this host (%s %s %s, %ld CPUs, JIT %s):\n",
	       u.sysname, u.release, u.machine, sysconf(_SC_NPROCESSORS_ONLN),
	       access("/proc/sys/net/core/bpf_jit_enable", R_OK) ? "?" : "on");
	printf("%llu rounds of %zu events (7 exits and entries of 4 vCPUs, 2 page faults, a\n"
	       "nested exit reflected to L1 and L1's VMRUN, a fault's shadow sync), real clock,\n"
	       "synthetic vcpu pointers (reads through them yield 0, as the JIT guards them)\n\n",
	       (unsigned long long)rounds, BENCH_SCRIPT_LEN);
	printf("  %-9s %-20s %9s %11s %11s\n", "TOOL", "PROGRAM", "RUNS", "COLD ns/run",
	       "WARM ns/ev");
	for (i = 0; i < nrows; i++) {
		struct row *w = &rows[i];
		double cold;
		int tool = !strcmp(w->tool, "spanmon");

		if (prog_stats(w->prog, &w->cnt, &w->ns) || !w->cnt)
			continue;
		cold = (double)w->ns / w->cnt;
		printf("  %-9s %-20s %9llu %11.1f %11.1f\n", w->tool,
		       w->bp < BP_NR ? prog_names[w->bp] : "empty",
		       (unsigned long long)w->cnt, cold, w->warm);
		if (w->bp < BP_NR) {
			cold_sum[tool] += (double)w->ns;
			warm_sum[tool] += w->warm * w->cnt;
		}
	}
	printf("\n  %-30s %11s %11s\n", "per VM exit (all programs)", "COLD ns", "WARM ns");
	printf("  %-30s %11.1f %11.1f\n", "kvmexits", cold_sum[0] / exits, warm_sum[0] / exits);
	printf("  %-30s %11.1f %11.1f\n", "spanmon", cold_sum[1] / exits, warm_sum[1] / exits);
	printf("\ncold: run_time_ns / run_cnt (bpf_stats), one BPF_PROG_TEST_RUN per event, so\n"
	       "each run starts cold%s; includes the statistics' own clock read\n"
	       "(the empty program's figure). warm: the same program bodies on the same events\n"
	       "inside one run, timed with bpf_ktime_get_ns() less the timer (%.1f ns).\n"
	       "Target: 150 ns per event.\n",
	       cpu_flag("pti") && !cpu_flag("pcid") ?
	       " (page-table isolation without PCID: each system call\nflushes the TLB)" : "",
	       sb->bss->warm_cnt[BP_NR] ? (double)sb->bss->warm_ns[BP_NR] / sb->bss->warm_cnt[BP_NR]
					: 0.0);
	ret = 0;
out:
	if (stats_fd >= 0)
		close(stats_fd);
	kvmexits_bench_bpf__destroy(kx);
	spanmon_bench_bpf__destroy(sb);
	spanmon_bpf__destroy(sm);
	btf__free(vmlinux);
	return ret;
}
