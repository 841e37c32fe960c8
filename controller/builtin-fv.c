// SPDX-License-Identifier: GPL-2.0
/*
 * spanctl fv start GUEST FV: boot a featurevisor, an L1 VM running an
 * unmodified Linux and a featurevisor program, inside GUEST's controller
 * (the only process that may co-map GUEST's memory).  Its window onto the
 * guest is a PCI BAR at span.window= on its command line, empty until
 * `spanctl attach`.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "proto.h"
#include "server.h"
#include "spanctl.h"

static const char *kernel, *initrd, *append;
static uint64_t mem = 128ULL << 20;

static const struct opt fv_opts[] = {
	OPT_STR('k', "kernel", &kernel, "BZIMAGE", "the featurevisor's Linux kernel"),
	OPT_STR('i', "initrd", &initrd, "FILE", "its initramfs, with the featurevisor program"),
	OPT_SIZE('m', "mem", &mem, BOOT_MEM_MIN, BOOT_MEM_MAX, "SIZE",
		 "the L1's own memory (default 128M)"),
	OPT_STR('a', "append", &append, "ARGS", "added to its kernel command line"),
	OPT_END(),
};

static int abs_path(char *dst, const char *src, const char *what)
{
	char buf[PATH_MAX];

	if (!realpath(src, buf)) {
		fprintf(stderr, "spanctl fv start: %s %s: %s\n", what, src, strerror(errno));
		return -1;
	}
	if (strlen(buf) >= SPAN_PATH_MAX) {
		fprintf(stderr, "spanctl fv start: %s path too long\n", what);
		return -1;
	}
	strcpy(dst, buf);
	return 0;
}

static const struct opt fv_stop_opts[] = {
	OPT_END(),
};

/* spanctl fv stop GUEST FV: stop its L1 at once, as if killed. */
static int fv__stop(int argc, char **argv)
{
	char *names[2];
	int ret;

	ret = spanctl__args("fv stop", "GUEST FV", "    spanctl fv stop g1 scan\n",
			    fv_stop_opts, argc, argv, names, 2);
	return ret >= 0 ? ret : spanctl__fv_request("fv stop", SPAN_MSG_FV_STOP, names, 0);
}

int cmd_fv(int argc, char **argv)
{
	struct span_msg_fv_start req;
	char *names[2];
	int ret;

	if (argc >= 1 && !strcmp(argv[0], "stop"))
		return fv__stop(argc - 1, argv + 1);
	if (argc < 1 || (strcmp(argv[0], "start") && strcmp(argv[0], "-h") &&
			 strcmp(argv[0], "--help"))) {
		fprintf(stderr, "spanctl fv: unknown or missing subcommand (fv start, fv stop)\n");
		return SPANCTL_EXIT_USAGE;
	}
	if (strcmp(argv[0], "start"))
		argc++, argv--;		/* fv --help: the help of fv start */
	ret = spanctl__args("fv start", "GUEST FV --kernel BZIMAGE --initrd FILE [options]",
			    "    spanctl fv start g1 scan --kernel bzImage --initrd fv.cpio.gz\n"
			    "    spanctl attach g1 scan --readonly\n",
			    fv_opts, argc - 1, argv + 1, names, 2);
	if (ret >= 0)
		return ret;
	if (!kernel || !initrd) {
		fprintf(stderr, "spanctl fv start: --kernel and --initrd are required\n");
		return SPANCTL_EXIT_USAGE;
	}
	memset(&req, 0, sizeof(req));
	snprintf(req.name, sizeof(req.name), "%s", names[1]);
	req.mem_bytes = mem;
	if (append && strlen(append) >= sizeof(req.append)) {
		fprintf(stderr, "spanctl fv start: --append too long\n");
		return SPANCTL_EXIT_USAGE;
	}
	if (append)
		strcpy(req.append, append);
	if (abs_path(req.kernel, kernel, "kernel") || abs_path(req.initrd, initrd, "initrd"))
		return SPANCTL_EXIT_FAIL;
	return spanctl__request("fv start", names[0], SPAN_MSG_FV_START, &req, sizeof(req));
}
