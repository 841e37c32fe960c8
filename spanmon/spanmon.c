// SPDX-License-Identifier: GPL-2.0
/*
 * spanmon: live latency histograms of KVM exits, guest page faults, nested
 * reflection and span operations, from BPF; in the terminal, as JSON and as
 * Prometheus metrics.  Subcommands are dispatched from one table; each lives
 * in its own file.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "span/util.h"
#include "builtin.h"

struct spanmon_env env = {
	.pin_dir = SPANMON_PIN_DIR,
	.listen = "127.0.0.1:9464",
	.interval = 1,
	.limit = 12,
	.duration = 10,
	.freq = 999,
};

volatile sig_atomic_t spanmon_exiting;

/* Which options a command takes (bits of the option's flag). */
enum {
	F_TOP = 1 << 0,
	F_JSON = 1 << 1,
	F_SERVE = 1 << 2,
	F_FEED = 1 << 3,
	F_PROFILE = 1 << 4,
	F_ALL = F_TOP | F_JSON | F_SERVE | F_FEED | F_PROFILE,
};

struct cmd {
	const char *name;
	int (*fn)(void);
	unsigned int flag;
	bool hidden;
};

static const struct cmd cmds[] = {
	{ "top", cmd_top, F_TOP, false },
	{ "json", cmd_json, F_JSON, false },
	{ "serve", cmd_serve, F_SERVE, false },
	{ "profile", cmd_profile, F_PROFILE, false },
	/* Synthetic events through the real programs and pinned maps: tests. */
	{ "feed", cmd_feed, F_FEED, true },
};

static const char usage_text[] =
"Usage: spanmon [COMMAND] [OPTIONS] [-- CMD [ARG...]]\n"
"Latency histograms of KVM (and span) operations, built in BPF:\n"
"VM-exit handling by exit reason, guest page-fault service (nested apart),\n"
"exits reflected to L1, span attach/detach/shadow-sync/view-fault.\n"
"State lives in pinned BPF maps: a restart keeps what was counted.  One\n"
"spanmon per host collects; any other one reads what it counts.\n"
"\n"
"Commands:\n"
"  top    live view: per series a histogram and p50/p90/p99, within 1/16\n"
"         of the true values (the default command)\n"
"  json   one JSON snapshot, or one a line every -i seconds with -n/-i\n"
"  serve  Prometheus metrics at http://LISTEN/metrics\n"
"  profile sample where the VMs' threads spend host CPU (perf, -d seconds):\n"
"         guest / host kernel / VMM per VM, kernel time by exit reason\n"
"\n"
"Options:\n"
"  -p, --pid PID           top, json: only the VM of process PID\n"
"      --vm NAME           top, json: only the VM labelled NAME (e.g. qemu-0)\n"
"  -d, --duration SECONDS  top, json: show what happens in SECONDS, then\n"
"                          stop; serve: serve that long; profile: sample\n"
"                          that long (default 10)\n"
"  -- CMD [ARG...]         top, json: run CMD, show what its VM did when it\n"
"                          exits, and exit with its status\n"
"  -i, --interval SECONDS  refresh period for top and json -n (default 1)\n"
"  -n, --count N           stop after N refreshes (top, json)\n"
"      --limit N           top: show the N busiest series (default 12, 0: all)\n"
"      --vcpus             top: one series per vCPU, not per VM\n"
"  -l, --listen HOST:PORT  serve: address (default 127.0.0.1:9464)\n"
"  -F, --freq HZ           profile: samples per second per CPU (default 999)\n"
"      --folded FILE       profile: folded stacks for flamegraph.pl or\n"
"                          speedscope to FILE (-: stdout)\n"
"      --pin-dir DIR       pinned maps (default " SPANMON_PIN_DIR ")\n"
"  -r, --reset             unpin (forget) the accumulated histograms first;\n"
"                          alone, just that; refused while another spanmon\n"
"                          runs\n"
"  -v, --verbose           libbpf debug output\n"
"  -h, --help              this help\n"
"\n"
"EXAMPLES:\n"
"    spanmon                          # live view, refreshed every second\n"
"    spanmon top -i 5 --vcpus         # per-vCPU series, every 5 seconds\n"
"    spanmon top -- kvmloop -n 5000   # what kvmloop's VM did, at its end\n"
"    spanmon top --vm qemu-0 -d 30    # 30 seconds of one VM, then a summary\n"
"    spanmon json                     # one snapshot for scripts\n"
"    spanmon json -i 10 -n 6          # a JSON line every 10 s for a minute\n"
"    spanmon serve -l 0.0.0.0:9464    # /metrics for Prometheus, all hosts\n"
"    spanmon --reset                  # forget the accumulated histograms\n"
"    spanmon profile -d 30 --folded vm.folded && flamegraph.pl vm.folded >vm.svg\n";

static void usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "spanmon: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see --help)\n");
	exit(SPAN_EXIT_USAGE);
}

enum { OPT_LIMIT = 256, OPT_VCPUS, OPT_PIN_DIR, OPT_FOLDED, OPT_VM };

static const struct {
	int val;
	unsigned int flags;
} opt_flags[] = {
	{ 'i', F_TOP | F_JSON | F_FEED }, { 'n', F_TOP | F_JSON | F_FEED },
	{ OPT_LIMIT, F_TOP }, { OPT_VCPUS, F_TOP }, { 'l', F_SERVE },
	{ OPT_PIN_DIR, F_ALL & ~F_PROFILE }, { 'r', F_ALL & ~F_PROFILE },
	{ 'v', F_ALL },
	{ 'd', F_TOP | F_JSON | F_SERVE | F_PROFILE }, { 'F', F_PROFILE },
	{ OPT_FOLDED, F_PROFILE }, { 'p', F_TOP | F_JSON }, { OPT_VM, F_TOP | F_JSON },
};

static const struct cmd *parse_args(int argc, char **argv, bool *explicit_cmd)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "vcpus", no_argument, NULL, OPT_VCPUS },
		{ "listen", required_argument, NULL, 'l' },
		{ "pin-dir", required_argument, NULL, OPT_PIN_DIR },
		{ "reset", no_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "duration", required_argument, NULL, 'd' },
		{ "freq", required_argument, NULL, 'F' },
		{ "folded", required_argument, NULL, OPT_FOLDED },
		{ "pid", required_argument, NULL, 'p' },
		{ "vm", required_argument, NULL, OPT_VM },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const struct cmd *cmd = &cmds[0];
	unsigned int i;
	uint64_t v;
	int opt;

	/* Options may come before or after COMMAND: check them once it is known. */
	struct { int opt; const char *text; } seen[64];
	unsigned int nseen = 0, j;

	*explicit_cmd = false;
	/* "-- CMD ARG...": CMD's own options are not ours. */
	for (i = 1; i < (unsigned int)argc; i++) {
		if (strcmp(argv[i], "--"))
			continue;
		if (i + 1 == (unsigned int)argc)
			usage_error("%s'--' needs a command after it", "");
		env.cmd = &argv[i + 1];
		argc = i;
		break;
	}
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":i:n:l:d:F:p:rvh", longopts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(usage_text, stdout);
			exit(0);
		}
		if (opt == ':')
			usage_error("option '%s' needs an argument", argv[optind - 1]);
		if (opt == '?') {
			char o[3] = { '-', (char)optopt, 0 };

			usage_error("unknown option '%s'", optopt ? o : argv[optind - 1]);
		}
		if (nseen < ARRAY_SIZE(seen)) {
			seen[nseen].opt = opt;
			/* "-d 3": the option is the word before its argument. */
			seen[nseen++].text = optarg && optarg == argv[optind - 1] &&
					     optind >= 2 ? argv[optind - 2] : argv[optind - 1];
		}
		switch (opt) {
		case 'i':
			if (span_parse_u64(optarg, 1, 3600, &v))
				usage_error("invalid interval '%s': want 1..3600 seconds", optarg);
			env.interval = v;
			env.periodic = true;
			break;
		case 'n':
			if (span_parse_u64(optarg, 1, UINT32_MAX, &v))
				usage_error("invalid count '%s': want 1..4294967295", optarg);
			env.count = v;
			break;
		case OPT_LIMIT:
			if (span_parse_u64(optarg, 0, 100000, &v))
				usage_error("invalid limit '%s': want 0..100000", optarg);
			env.limit = v;
			break;
		case OPT_VCPUS:
			env.per_vcpu = true;
			break;
		case 'l':
			env.listen = optarg;
			break;
		case OPT_PIN_DIR:
			if (optarg[0] != '/')
				usage_error("invalid pin directory '%s': want an absolute path", optarg);
			env.pin_dir = optarg;
			break;
		case 'r':
			env.reset = true;
			break;
		case 'v':
			env.verbose = true;
			break;
		case 'd':
			if (span_parse_u64(optarg, 1, 3600, &v))
				usage_error("invalid duration '%s': want 1..3600 seconds", optarg);
			env.duration = v;
			env.duration_set = true;
			break;
		case 'p':
			if (span_parse_u64(optarg, 1, INT32_MAX, &v))
				usage_error("invalid pid '%s': want a process id", optarg);
			env.pid = v;
			break;
		case OPT_VM:
			if (!optarg[0])
				usage_error("invalid VM name '%s': want a label such as qemu-0", optarg);
			env.vm = optarg;
			break;
		case 'F':
			if (span_parse_u64(optarg, 1, 10000, &v))
				usage_error("invalid frequency '%s': want 1..10000 Hz", optarg);
			env.freq = v;
			break;
		case OPT_FOLDED:
			if (!optarg[0])
				usage_error("invalid folded-stacks file '%s'", optarg);
			env.folded = optarg;
			break;
		}
	}
	if (optind < argc) {
		for (i = 0; i < ARRAY_SIZE(cmds); i++)
			if (!strcmp(argv[optind], cmds[i].name))
				break;
		if (i == ARRAY_SIZE(cmds))
			usage_error("unknown command '%s'", argv[optind]);
		cmd = &cmds[i];
		*explicit_cmd = true;
		optind++;
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	for (j = 0; j < nseen; j++)
		for (i = 0; i < ARRAY_SIZE(opt_flags); i++)
			if (opt_flags[i].val == seen[j].opt && !(opt_flags[i].flags & cmd->flag))
				usage_error("option '%s' does not apply to this command",
					    seen[j].text);
	if (env.cmd && !(cmd->flag & (F_TOP | F_JSON)))
		usage_error("%s'-- CMD' is for top and json", "");
	if (env.cmd && (env.pid || env.vm || env.duration_set))
		usage_error("%s'-- CMD' excludes -p, --vm and -d: it scopes the run itself", "");
	if (env.pid && env.vm)
		usage_error("%s-p and --vm exclude each other", "");
	return cmd;
}

static void sig_handler(int sig)
{
	(void)sig;
	spanmon_exiting = 1;
}

int spanmon_start(struct spanmon_collect *c)
{
	struct spanmon_collect_opts o = {
		.pin_dir = env.pin_dir,
		.attach = true,
		.verbose = env.verbose,
	};

	return spanmon_collect_open(c, &o) ? 1 : 0;
}

void spanmon_sleep(uint64_t seconds)
{
	struct timespec ts = { .tv_sec = (time_t)seconds };

	/* A signal interrupts it, and the caller sees spanmon_exiting. */
	while (!spanmon_exiting && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int main(int argc, char **argv)
{
	bool explicit_cmd;
	const struct cmd *cmd = parse_args(argc, argv, &explicit_cmd);
	struct sigaction sa = { .sa_handler = sig_handler };

	if (env.reset) {
		if (geteuid() != 0) {
			fprintf(stderr, "spanmon: need root to unpin %s\n", env.pin_dir);
			return 1;
		}
		if (spanmon_collect_reset(env.pin_dir))
			return 1;
		if (!explicit_cmd)
			return 0;
	}
	/* No SA_RESTART: sleeps and accept loops return to check the flag. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return cmd->fn();
}
