// SPDX-License-Identifier: GPL-2.0
/*
 * spanctl: create span guests and control them (see controller/README.md).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "server.h"
#include "span/util.h"
#include "spanctl.h"

static const struct spanctl_cmd cmds[] = {
	{ "run",     cmd_run,     "boot a span guest; its controller runs in the foreground" },
	{ "start",   cmd_start,   "the same, as a daemon: returns once the guest runs" },
	{ "console", cmd_console, "the guest's serial console (backlog, then live)" },
	{ "status",  cmd_status,  "one guest's state, vCPUs, memory and featurevisors" },
	{ "list",    cmd_list,    "every guest on this host" },
	{ "stop",    cmd_stop,    "stop a guest and its controller" },
	{ "fv",      cmd_fv,      "fv start|stop: boot a featurevisor (an L1 VM) for a guest, or stop it" },
	{ "attach",  cmd_attach,  "give a featurevisor a window onto the guest's memory" },
	{ "detach",  cmd_detach,  "take the window away again" },
	{ "filter",  cmd_filter,  "filter load|unload|list: a featurevisor's memory-event filter" },
	{ "pause",   cmd_pause,   "stop the guest's vCPUs at a clean point (featurevisors see it)" },
	{ "resume",  cmd_resume,  "let a paused guest run again" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
"Usage: spanctl COMMAND [ARGS]\n"
"Run unmodified Linux guests as span guests on KVM and control them.\n"
"One controller process owns each guest; spanctl talks to it through\n"
"$SPAN_RUN_DIR/GUEST.sock (default /run/span).\n"
"\n"
"Commands:\n");
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f,
"\n"
"'spanctl COMMAND --help' describes one command.  Exit status: 0 done,\n"
"1 failed or no such guest, 2 bad command line.\n"
"\n"
"EXAMPLES:\n"
"    spanctl start g1 --kernel bzImage --initrd guest.cpio.gz --mem 256M\n"
"    spanctl console g1             # Ctrl-] leaves\n"
"    spanctl status g1 --json\n"
"    spanctl list\n"
"    spanctl fv start g1 scan --kernel bzImage --initrd fv.cpio.gz\n"
"    spanctl attach g1 scan --readonly; spanctl detach g1 scan\n"
"    spanctl filter load g1 scan range.bpf.o; spanctl filter list\n"
"    spanctl pause g1; spanctl resume g1\n"
"    spanctl stop g1\n");
}

int spanctl__args(const char *cmd, const char *usage_line, const char *examples,
		  const struct opt *opts, int argc, char **argv,
		  char **pos, int nargs)
{
	char *p[OPT_MAX_POS];
	int npos, help, i;

	if (opts__parse(cmd, opts, argc, argv, p, OPT_MAX_POS, &npos, &help))
		return SPANCTL_EXIT_USAGE;
	if (help) {
		printf("Usage: spanctl %s %s\n\nOptions:\n", cmd, usage_line);
		opts__usage(stdout, opts);
		printf("  %-26s %s\n\nEXAMPLES:\n%s", "-h, --help", "this help", examples);
		return 0;
	}
	if (npos != nargs) {
		if (npos < nargs)
			fprintf(stderr, "spanctl %s: missing argument (usage: spanctl %s %s)\n",
				cmd, cmd, usage_line);
		else
			fprintf(stderr, "spanctl %s: unexpected argument '%s'\n", cmd, p[nargs]);
		return SPANCTL_EXIT_USAGE;
	}
	for (i = 0; i < nargs; i++) {
		if (!span_name__valid(p[i])) {
			fprintf(stderr, "spanctl %s: bad name '%s' (1-%d of A-Z a-z 0-9 _ . -)\n",
				cmd, p[i], SPAN_NAME_MAX - 1);
			return SPANCTL_EXIT_USAGE;
		}
		pos[i] = p[i];
	}
	return -1;
}

int spanctl__connect(const char *cmd, const char *guest)
{
	char path[108];
	int fd;

	if (span_path(path, sizeof(path), span_run_dir(), guest, ".sock")) {
		fprintf(stderr, "spanctl %s: socket path for '%s' too long\n", cmd, guest);
		return -1;
	}
	fd = ctl__connect(path);
	if (fd == -ENOENT) {
		fprintf(stderr, "spanctl %s: no guest named '%s'\n", cmd, guest);
		return -1;
	}
	if (fd < 0) {
		fprintf(stderr, "spanctl %s: %s: %s\n", cmd, path, strerror(-fd));
		return -1;
	}
	return fd;
}

int spanctl__request(const char *cmd, const char *guest, uint32_t type,
		     const void *payload, uint32_t len)
{
	static char buf[SPAN_MSG_BUF_SIZE];
	int fd, t;

	fd = spanctl__connect(cmd, guest);
	if (fd < 0)
		return SPANCTL_EXIT_FAIL;
	t = ctl__call(fd, type, payload, len, buf, sizeof(buf));
	close(fd);
	if (t == SPAN_MSG_OK)
		return 0;
	spanctl__bad_reply(cmd, guest, t, buf);
	return SPANCTL_EXIT_FAIL;
}

void spanctl__bad_reply(const char *cmd, const char *guest, int type, const void *buf)
{
	struct span_msg_error e;

	if (type == SPAN_MSG_ERROR) {
		memcpy(&e, (const char *)buf + sizeof(struct span_msg_hdr), sizeof(e));
		e.msg[sizeof(e.msg) - 1] = 0;
		fprintf(stderr, "spanctl %s: %s: %s\n", cmd, guest, e.msg);
	} else if (type < 0) {
		fprintf(stderr, "spanctl %s: %s: %s\n", cmd, guest, strerror(-type));
	} else {
		fprintf(stderr, "spanctl %s: %s: unexpected %s reply\n", cmd, guest,
			span_msg__type_name(type));
	}
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		fprintf(stderr, "spanctl: no command (spanctl --help lists them)\n");
		return SPANCTL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 2, argv + 2);
	fprintf(stderr, "spanctl: unknown command '%s' (spanctl --help lists them)\n", argv[1]);
	return SPANCTL_EXIT_USAGE;
}
