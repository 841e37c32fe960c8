// SPDX-License-Identifier: GPL-2.0
/*
 * spanctl attach GUEST FV [--readonly] / spanctl detach GUEST FV: give a
 * featurevisor's L1 its window onto the guest's memory (KVM_SPAN_ATTACH on
 * the L1's VM), or take it away (KVM_SPAN_DETACH).
 */
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "server.h"
#include "spanctl.h"

static int readonly;

static const struct opt attach_opts[] = {
	OPT_FLAG('r', "readonly", &readonly, "the featurevisor may read, not write"),
	OPT_END(),
};

static const struct opt detach_opts[] = {
	OPT_END(),
};

static int fv__call(const char *cmd, uint32_t type, char **names, uint32_t flags)
{
	static char buf[SPAN_MSG_BUF_SIZE];
	struct span_msg_fv req = { .flags = flags };
	int fd, t;

	snprintf(req.name, sizeof(req.name), "%s", names[1]);
	fd = spanctl__connect(cmd, names[0]);
	if (fd < 0)
		return SPANCTL_EXIT_FAIL;
	t = ctl__call(fd, type, &req, sizeof(req), buf, sizeof(buf));
	close(fd);
	if (t != SPAN_MSG_OK) {
		spanctl__bad_reply(cmd, names[0], t, buf);
		return SPANCTL_EXIT_FAIL;
	}
	return 0;
}

int cmd_attach(int argc, char **argv)
{
	char *names[2];
	int ret = spanctl__args("attach", "GUEST FV [--readonly]",
				"    spanctl attach g1 scan --readonly\n",
				attach_opts, argc, argv, names, 2);

	return ret >= 0 ? ret : fv__call("attach", SPAN_MSG_ATTACH, names,
					readonly ? SPAN_ATTACH_READONLY : 0);
}

int cmd_detach(int argc, char **argv)
{
	char *names[2];
	int ret = spanctl__args("detach", "GUEST FV", "    spanctl detach g1 scan\n",
				detach_opts, argc, argv, names, 2);

	return ret >= 0 ? ret : fv__call("detach", SPAN_MSG_DETACH, names, 0);
}
