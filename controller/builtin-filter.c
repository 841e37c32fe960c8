// SPDX-License-Identifier: GPL-2.0
/*
 * spanctl filter load GUEST FV FILE.bpf.o: check a featurevisor's memory
 * event filter and load it into the featurevisor's dispatcher (the
 * controller reads FILE; README "Memory events through BPF" has the rules
 * a filter must keep).  A refused filter: exit 1 with the reason.
 *
 * spanctl filter unload GUEST FV: back to delivering every event.
 *
 * spanctl filter list [GUEST]: per featurevisor, its filter ("(all)"
 * without one) and its dispatcher's counters.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "server.h"
#include "spanctl.h"

static const struct opt no_opts[] = {
	OPT_END(),
};

#define LOAD_USAGE "GUEST FV FILE.bpf.o"
#define LOAD_EXAMPLES							\
	"    spanctl filter load g1 mirror out/bpf/filters/range.bpf.o\n"	\
	"    spanctl filter list g1\n"					\
	"    spanctl filter unload g1 mirror\n"

static int filter__load(int argc, char **argv)
{
	struct span_msg_filter_load req;
	char *p[OPT_MAX_POS], buf[PATH_MAX];
	int npos, help, i;

	if (opts__parse("filter load", no_opts, argc, argv, p, OPT_MAX_POS, &npos, &help))
		return SPANCTL_EXIT_USAGE;
	if (help) {
		printf("Usage: spanctl filter load %s\n\nOptions:\n", LOAD_USAGE);
		printf("  %-26s %s\n\nEXAMPLES:\n%s", "-h, --help", "this help", LOAD_EXAMPLES);
		return 0;
	}
	if (npos != 3) {
		if (npos < 3)
			fprintf(stderr, "spanctl filter load: missing argument (usage: spanctl "
				"filter load %s)\n", LOAD_USAGE);
		else
			fprintf(stderr, "spanctl filter load: unexpected argument '%s'\n", p[3]);
		return SPANCTL_EXIT_USAGE;
	}
	for (i = 0; i < 2; i++) {
		if (!span_name__valid(p[i])) {
			fprintf(stderr, "spanctl filter load: bad name '%s' (1-%d of A-Z a-z 0-9 _ . -)\n",
				p[i], SPAN_NAME_MAX - 1);
			return SPANCTL_EXIT_USAGE;
		}
	}
	/* The controller has another working directory: send it an absolute path. */
	if (!realpath(p[2], buf)) {
		fprintf(stderr, "spanctl filter load: %s: %s\n", p[2], strerror(errno));
		return SPANCTL_EXIT_FAIL;
	}
	if (strlen(buf) >= sizeof(req.path)) {
		fprintf(stderr, "spanctl filter load: path of %s too long\n", p[2]);
		return SPANCTL_EXIT_USAGE;
	}
	memset(&req, 0, sizeof(req));
	snprintf(req.name, sizeof(req.name), "%s", p[1]);
	strcpy(req.path, buf);
	return spanctl__request("filter load", p[0], SPAN_MSG_FILTER_LOAD, &req, sizeof(req));
}

static int filter__unload(int argc, char **argv)
{
	char *names[2];
	int ret = spanctl__args("filter unload", "GUEST FV", "    spanctl filter unload g1 mirror\n",
				no_opts, argc, argv, names, 2);

	return ret >= 0 ? ret : spanctl__fv_request("filter unload", SPAN_MSG_FILTER_UNLOAD,
						    names, 0);
}

/* One guest's featurevisors; 0, or 1 after a line on stderr. */
static int filter__list_guest(const char *guest, int fd, int header)
{
	static char buf[SPAN_MSG_BUF_SIZE];
	struct span_msg_filters r;
	uint32_t i;
	int type;

	type = ctl__call(fd, SPAN_MSG_FILTER_LIST, NULL, 0, buf, sizeof(buf));
	if (type != SPAN_MSG_FILTER_LIST_REPLY) {
		spanctl__bad_reply("filter list", guest, type, buf);
		return SPANCTL_EXIT_FAIL;
	}
	memcpy(&r, buf + sizeof(struct span_msg_hdr), sizeof(r));
	if (header)
		printf("%-12s %-12s %-12s %10s %10s %10s %10s\n", "GUEST", "FV", "FILTER",
		       "SEEN", "DELIVERED", "DROPPED", "FILTERED");
	for (i = 0; i < r.nr && i < SPAN_MAX_FVS; i++) {
		struct span_filter_status *s = &r.fvs[i];

		s->name[SPAN_NAME_MAX - 1] = s->filter[SPAN_NAME_MAX - 1] = 0;
		s->why[sizeof(s->why) - 1] = 0;
		if (!s->dispatcher) {
			printf("%-12s %-12s -            (%s)\n", guest, s->name, s->why);
			continue;
		}
		printf("%-12s %-12s %-12s %10llu %10llu %10llu %10llu\n", guest, s->name,
		       s->filter[0] ? s->filter : "(all)", (unsigned long long)s->seen,
		       (unsigned long long)s->delivered, (unsigned long long)s->dropped,
		       (unsigned long long)s->filtered);
	}
	return 0;
}

static int filter__list(int argc, char **argv)
{
	char *p[OPT_MAX_POS], path[108];
	const char *dir = span_run_dir();
	struct dirent *de;
	int npos, help, fd, ret, header = 1;
	DIR *d;

	if (opts__parse("filter list", no_opts, argc, argv, p, OPT_MAX_POS, &npos, &help))
		return SPANCTL_EXIT_USAGE;
	if (help) {
		printf("Usage: spanctl filter list [GUEST]\n\nOptions:\n");
		printf("  %-26s %s\n\nEXAMPLES:\n%s", "-h, --help", "this help",
		       "    spanctl filter list\n    spanctl filter list g1\n");
		return 0;
	}
	if (npos > 1) {
		fprintf(stderr, "spanctl filter list: unexpected argument '%s'\n", p[1]);
		return SPANCTL_EXIT_USAGE;
	}
	if (npos == 1) {
		if (!span_name__valid(p[0])) {
			fprintf(stderr, "spanctl filter list: bad name '%s' (1-%d of A-Z a-z 0-9 _ . -)\n",
				p[0], SPAN_NAME_MAX - 1);
			return SPANCTL_EXIT_USAGE;
		}
		fd = spanctl__connect("filter list", p[0]);
		if (fd < 0)
			return SPANCTL_EXIT_FAIL;
		ret = filter__list_guest(p[0], fd, 1);
		close(fd);
		return ret;
	}
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char guest[SPAN_NAME_MAX];

		if (len < 6 || len - 5 >= sizeof(guest) || strcmp(de->d_name + len - 5, ".sock") ||
		    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		snprintf(guest, sizeof(guest), "%.*s", (int)(len - 5), de->d_name);
		fd = ctl__connect(path);
		if (fd < 0)
			continue;	/* a controller that died */
		if (!filter__list_guest(guest, fd, header))
			header = 0;
		close(fd);
	}
	if (d)
		closedir(d);
	return 0;
}

int cmd_filter(int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "load"))
		return filter__load(argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "unload"))
		return filter__unload(argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "list"))
		return filter__list(argc - 1, argv + 1);
	if (argc >= 1 && (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help"))) {
		printf("Usage: spanctl filter load|unload|list ...\n"
		       "  load GUEST FV FILE.bpf.o   check and load a featurevisor's event filter\n"
		       "  unload GUEST FV            back to delivering every event\n"
		       "  list [GUEST]               filters and their counters\n"
		       "\nEXAMPLES:\n" LOAD_EXAMPLES);
		return 0;
	}
	fprintf(stderr, "spanctl filter: unknown or missing subcommand (filter load, unload, list)\n");
	return SPANCTL_EXIT_USAGE;
}
