// SPDX-License-Identifier: GPL-2.0
/*
 * spanctl stop GUEST: stop the guest, and wait until its controller is gone.
 */
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "server.h"
#include "span/util.h"
#include "spanctl.h"

static uint64_t timeout_s = 30;

static const struct opt stop_opts[] = {
	OPT_U64('t', "timeout", &timeout_s, 1, 3600, "SECONDS",
		"wait this long for the controller to finish (default 30)"),
	OPT_END(),
};

int cmd_stop(int argc, char **argv)
{
	static char buf[SPAN_MSG_BUF_SIZE];
	char *name;
	int ret, fd, type;
	struct pollfd p;

	ret = spanctl__args("stop", "GUEST [--timeout SECONDS]",
			    "    spanctl stop g1\n", stop_opts, argc, argv, &name, 1);
	if (ret >= 0)
		return ret;
	fd = spanctl__connect("stop", name);
	if (fd < 0)
		return SPANCTL_EXIT_FAIL;
	type = ctl__call(fd, SPAN_MSG_STOP, NULL, 0, buf, sizeof(buf));
	if (type != SPAN_MSG_OK) {
		spanctl__bad_reply("stop", name, type, buf);
		close(fd);
		return SPANCTL_EXIT_FAIL;
	}
	/* The controller closes every connection once the vCPUs are joined. */
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	for (;;) {
		ret = poll(&p, 1, timeout_s * 1000);
		if (ret <= 0)
			break;
		if (recv(fd, buf, sizeof(buf), 0) <= 0)
			break;
	}
	close(fd);
	if (ret == 0) {
		fprintf(stderr, "spanctl stop: %s did not stop within %llu s\n", name,
			(unsigned long long)timeout_s);
		return SPANCTL_EXIT_FAIL;
	}
	return 0;
}
