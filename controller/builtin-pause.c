// SPDX-License-Identifier: GPL-2.0
/*
 * spanctl pause GUEST / spanctl resume GUEST: stop the guest's vCPUs at a
 * clean point (outside KVM_RUN: kicked with immediate_exit and a signal,
 * as any VMM stops a vCPU) and let them run again.  Featurevisors see the
 * pause in their event area (span/spanfv_area.h: paused, pause_count): a
 * mirror verifies its copy then.
 */
#include "proto.h"
#include "server.h"
#include "spanctl.h"

static const struct opt pause_opts[] = {
	OPT_END(),
};

int cmd_pause(int argc, char **argv)
{
	char *name;
	int ret = spanctl__args("pause", "GUEST", "    spanctl pause g1; spanctl resume g1\n",
				pause_opts, argc, argv, &name, 1);

	return ret >= 0 ? ret : spanctl__request("pause", name, SPAN_MSG_PAUSE, NULL, 0);
}

int cmd_resume(int argc, char **argv)
{
	char *name;
	int ret = spanctl__args("resume", "GUEST", "    spanctl resume g1\n",
				pause_opts, argc, argv, &name, 1);

	return ret >= 0 ? ret : spanctl__request("resume", name, SPAN_MSG_RESUME, NULL, 0);
}
