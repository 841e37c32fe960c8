// SPDX-License-Identifier: GPL-2.0
/*
 * spanctl list [--json]: every guest whose controller answers in RUN_DIR.
 */
#include <dirent.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "server.h"
#include "spanctl.h"

static int json;

static const struct opt list_opts[] = {
	OPT_FLAG('j', "json", &json, "one JSON object per line"),
	OPT_END(),
};

int cmd_list(int argc, char **argv)
{
	static char buf[SPAN_MSG_BUF_SIZE];
	const char *dir = span_run_dir();
	struct span_msg_status st;
	struct dirent *de;
	char path[108];
	int ret, fd, type;
	DIR *d;

	ret = spanctl__args("list", "[--json]", "    spanctl list\n", list_opts,
			    argc, argv, NULL, 0);
	if (ret >= 0)
		return ret;
	d = opendir(dir);
	if (!json)
		printf("%-20s %-9s %5s %9s %8s\n", "NAME", "STATE", "VCPUS", "MEMORY", "PID");
	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len < 6 || strcmp(de->d_name + len - 5, ".sock") ||
		    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		fd = ctl__connect(path);
		if (fd < 0)
			continue;	/* a controller that died: not a guest */
		type = ctl__call(fd, SPAN_MSG_STATUS, NULL, 0, buf, sizeof(buf));
		close(fd);
		if (type != SPAN_MSG_STATUS_REPLY)
			continue;
		memcpy(&st, buf + sizeof(struct span_msg_hdr), sizeof(st));
		st.name[SPAN_NAME_MAX - 1] = 0;
		if (json)
			status__print(stdout, &st, 1);
		else
			printf("%-20s %-9s %5u %6llu MiB %8d\n", st.name,
			       st.state == SPAN_GUEST_RUNNING ? "running" : "other",
			       st.nr_vcpus, (unsigned long long)(st.mem_bytes >> 20), st.pid);
	}
	if (d)
		closedir(d);
	return 0;
}
