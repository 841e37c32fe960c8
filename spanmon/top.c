// SPDX-License-Identifier: GPL-2.0
/* spanmon top: the live terminal view. */
#include <stdio.h>
#include <unistd.h>

#include "builtin.h"

int cmd_top(void)
{
	struct spanmon_top_opts o = { .per_vcpu = env.per_vcpu, .limit = env.limit };
	struct spanmon_collect c;
	bool tty = isatty(STDOUT_FILENO);
	uint64_t n = 0;
	int ret = 1;

	if (spanmon_start(&c))
		return 1;
	while (!spanmon_exiting) {
		struct spanmon_snapshot s;

		if (spanmon_collect_snapshot(&c, &s)) {
			fprintf(stderr, "spanmon: cannot read the maps\n");
			goto out;
		}
		if (tty)
			fputs("\033[H\033[2J", stdout);
		spanmon_format_top(stdout, &s, &o);
		fflush(stdout);
		spanmon_snapshot_free(&s);
		if (env.count && ++n >= env.count)
			break;
		spanmon_sleep(env.interval);
	}
	ret = 0;
out:
	spanmon_collect_close(&c);
	return ret;
}
