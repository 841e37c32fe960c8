// SPDX-License-Identifier: GPL-2.0
/*
 * spanctl attach GUEST FV [--readonly] / spanctl detach GUEST FV: give a
 * featurevisor's L1 its window onto the guest's memory (KVM_SPAN_ATTACH on
 * the L1's VM), or take it away (KVM_SPAN_DETACH).
 */
#include <string.h>

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

int spanctl__fv_request(const char *cmd, uint32_t type, char **names, uint32_t flags)
{
	struct span_msg_fv req = { .flags = flags };

	snprintf(req.name, sizeof(req.name), "%s", names[1]);
	return spanctl__request(cmd, names[0], type, &req, sizeof(req));
}

int cmd_attach(int argc, char **argv)
{
	char *names[2];
	int ret = spanctl__args("attach", "GUEST FV [--readonly]",
				"    spanctl attach g1 scan --readonly\n",
				attach_opts, argc, argv, names, 2);

	return ret >= 0 ? ret : spanctl__fv_request("attach", SPAN_MSG_ATTACH, names,
					readonly ? SPAN_ATTACH_READONLY : 0);
}

int cmd_detach(int argc, char **argv)
{
	char *names[2];
	int ret = spanctl__args("detach", "GUEST FV", "    spanctl detach g1 scan\n",
				detach_opts, argc, argv, names, 2);

	return ret >= 0 ? ret : spanctl__fv_request("detach", SPAN_MSG_DETACH, names, 0);
}
