// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * kvmexits: count VM exits per VMM process, nested exits apart.
 *
 * The smallest libbpf tool of span, in the libbpf-bootstrap shape; the lab
 * uses it to prove that a CO-RE object loads into the lab kernel through its
 * BTF and sees KVM.  See --help.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "span/bpfutil.h"
#include "span/util.h"
#include "kvmexits.h"
#include "kvmexits.skel.h"

static struct env {
	__u32 pid;
	__u64 duration;
	bool json;
	bool verbose;
	char **cmd;
} env;

static volatile sig_atomic_t exiting;

static const char usage_text[] =
"Usage: kvmexits [-j] [-v] [-p PID] [-d SECONDS]\n"
"       kvmexits [-j] [-v] -- COMMAND [ARG...]\n"
"Count VM exits per VMM process (nested exits apart) with BPF.\n"
"With a COMMAND, run it, count only its exits and fail if it fails.\n"
"\n"
"  -p, --pid PID          count only this process (tgid)\n"
"  -d, --duration SECONDS stop after SECONDS (default: at Ctrl-C)\n"
"  -j, --json             one JSON object per process, then a summary\n"
"  -v, --verbose          show libbpf debug output\n"
"  -h, --help             this help\n"
"\n"
"EXAMPLES:\n"
"    kvmexits                        # count until Ctrl-C, then print a table\n"
"    kvmexits -d 5 -p 1234           # count PID 1234's exits for 5 seconds\n"
"    kvmexits -j -- kvmloop -n 1000  # exits of one command, as JSON\n";

static void usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "kvmexits: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see --help)\n");
	exit(SPAN_EXIT_USAGE);
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	uint64_t v;
	int opt;

	opterr = 0;
	/* "+": stop at the first non-option, which starts COMMAND. */
	while ((opt = getopt_long(argc, argv, "+:p:d:jvh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (span_parse_u64(optarg, 1, INT32_MAX, &v))
				usage_error("invalid PID '%s'", optarg);
			env.pid = v;
			break;
		case 'd':
			if (span_parse_u64(optarg, 1, 86400 * 365, &v))
				usage_error("invalid duration '%s': want 1..31536000 seconds", optarg);
			env.duration = v;
			break;
		case 'j':
			env.json = true;
			break;
		case 'v':
			env.verbose = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case ':':
			usage_error("option '%s' needs an argument", argv[optind - 1]);
			break;
		default: {
			char o[3] = { '-', (char)optopt, 0 };

			usage_error("unknown option '%s'", optopt ? o : argv[optind - 1]);
		}
		}
	}
	if (optind < argc)
		env.cmd = &argv[optind];
	if (env.cmd && env.pid)
		usage_error("%s-p and a COMMAND exclude each other", "");
}

static int libbpf_print_fn(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !env.verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static void sig_handler(int sig)
{
	(void)sig;
	exiting = 1;
}

static int print_counts(struct kvmexits_bpf *skel)
{
	int fd = bpf_map__fd(skel->maps.counts);
	__u32 key, next, *prev = NULL, zero = 0;
	struct kvmexits_val v;
	__u64 dropped = 0, total = 0, nprocs = 0;

	if (!env.json)
		printf("%-8s %-16s %12s %12s %12s %5s\n", "PID", "COMM", "EXITS",
		       "NESTED-EXITS", "NESTED-RUNS", "VCPUS");
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue;
		nprocs++;
		total += v.exits;
		if (env.json) {
			printf("{\"pid\":%u,\"comm\":", key);
			span_json_str(stdout, v.comm, sizeof(v.comm));
			printf(",\"exits\":%llu,\"nested_exits\":%llu,"
			       "\"nested_entries\":%llu,\"vcpus\":%u}\n",
			       (unsigned long long)v.exits,
			       (unsigned long long)v.nested_exits,
			       (unsigned long long)v.nested_entries,
			       v.exits ? v.max_vcpu_id + 1 : 0);
		} else {
			printf("%-8u %-16.16s %12llu %12llu %12llu %5u\n", key, v.comm,
			       (unsigned long long)v.exits,
			       (unsigned long long)v.nested_exits,
			       (unsigned long long)v.nested_entries,
			       v.exits ? v.max_vcpu_id + 1 : 0);
		}
	}
	bpf_map_lookup_elem(bpf_map__fd(skel->maps.dropped), &zero, &dropped);
	if (env.json)
		printf("{\"processes\":%llu,\"exits\":%llu,\"dropped\":%llu}\n",
		       (unsigned long long)nprocs, (unsigned long long)total,
		       (unsigned long long)dropped);
	else if (dropped)
		printf("warning: %llu events dropped (more than %d processes)\n",
		       (unsigned long long)dropped, KVMEXITS_MAX_PROCS);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct kvmexits_bpf *skel = NULL;
	struct btf *vmlinux = NULL;
	pid_t child = 0;
	int go_fd = -1, status = 0, err, ret = 1;

	parse_args(argc, argv);
	libbpf_set_print(libbpf_print_fn);

	if (geteuid() != 0) {
		fprintf(stderr, "kvmexits: need root (CAP_BPF and CAP_PERFMON) to load BPF programs\n");
		return 1;
	}
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		fprintf(stderr, "kvmexits: the kernel has no BTF (/sys/kernel/btf/vmlinux); "
			"it needs CONFIG_DEBUG_INFO_BTF=y\n");
		return 1;
	}
	if (!span_kernel_has_tp(vmlinux, "kvm_exit")) {
		fprintf(stderr, "kvmexits: tracepoint kvm:kvm_exit is absent: "
			"is KVM built in or its module loaded?\n");
		goto cleanup;
	}

	skel = kvmexits_bpf__open();
	if (!skel) {
		fprintf(stderr, "kvmexits: cannot open the BPF object: %s\n", strerror(errno));
		goto cleanup;
	}
	/* A kernel without nested tracepoints still gets exit counts. */
	bpf_program__set_autoload(skel->progs.kvm_nested_vmexit,
				  span_kernel_has_tp(vmlinux, "kvm_nested_vmexit"));
	bpf_program__set_autoload(skel->progs.kvm_nested_vmenter,
				  span_kernel_has_tp(vmlinux, "kvm_nested_vmenter"));

	if (env.cmd) {
		child = span_spawn_stopped(env.cmd, &go_fd, "kvmexits");
		if (child < 0) {
			fprintf(stderr, "kvmexits: fork: %s\n", strerror(errno));
			goto cleanup;
		}
		skel->rodata->targ_tgid = child;
	} else {
		skel->rodata->targ_tgid = env.pid;
	}

	err = kvmexits_bpf__load(skel);
	if (err) {
		fprintf(stderr, "kvmexits: cannot load BPF programs: %s (-v shows why)\n",
			strerror(-err));
		goto cleanup;
	}
	err = kvmexits_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "kvmexits: cannot attach BPF programs: %s\n", strerror(-err));
		goto cleanup;
	}

	signal(SIGINT, sig_handler);
	signal(SIGTERM, sig_handler);

	if (child) {
		if (write(go_fd, "g", 1) != 1) {
			fprintf(stderr, "kvmexits: cannot start %s\n", env.cmd[0]);
			goto cleanup;
		}
		close(go_fd);
		go_fd = -1;
		while (waitpid(child, &status, 0) < 0) {
			if (errno != EINTR) {
				fprintf(stderr, "kvmexits: waitpid: %s\n", strerror(errno));
				goto cleanup;
			}
			if (exiting)
				kill(child, SIGTERM);
		}
		child = 0;
	} else if (env.duration) {
		unsigned int left = env.duration;

		while (left && !exiting)
			left = sleep(left);
	} else {
		if (!env.json)
			fprintf(stderr, "Counting VM exits... Hit Ctrl-C to end.\n");
		while (!exiting)
			pause();
	}

	print_counts(skel);
	if (env.cmd && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		fprintf(stderr, "kvmexits: %s failed (%s %d)\n", env.cmd[0],
			WIFEXITED(status) ? "exit status" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		goto cleanup;
	}
	ret = 0;

cleanup:
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	if (go_fd >= 0)
		close(go_fd);
	kvmexits_bpf__destroy(skel);
	btf__free(vmlinux);
	return ret;
}
