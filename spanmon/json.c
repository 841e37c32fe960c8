// SPDX-License-Identifier: GPL-2.0
/*
 * spanmon json: one snapshot as one JSON line; with -n N, N of them, -i
 * seconds apart; with -i alone, until Ctrl-C.
 */
#include <stdio.h>

#include "builtin.h"

int cmd_json(void)
{
	struct spanmon_collect c;
	uint64_t n = 0, want = env.count;
	int ret = 1;

	if (spanmon_start(&c))
		return 1;
	for (;;) {
		struct spanmon_snapshot s;

		if (spanmon_collect_snapshot(&c, &s)) {
			fprintf(stderr, "spanmon: cannot read the maps\n");
			goto out;
		}
		spanmon_format_json(stdout, &s);
		fflush(stdout);
		spanmon_snapshot_free(&s);
		if ((want && ++n >= want) || (!want && !env.periodic) || spanmon_exiting)
			break;
		spanmon_sleep(env.interval);
		if (spanmon_exiting)
			break;
	}
	ret = 0;
out:
	spanmon_collect_close(&c);
	return ret;
}
