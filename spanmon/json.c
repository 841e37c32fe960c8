// SPDX-License-Identifier: GPL-2.0
/*
 * spanmon json: one snapshot as one JSON line; with -n N, N of them, -i
 * seconds apart; with -i alone, until Ctrl-C.  With -d SECONDS, one line
 * of what happened in those seconds; with "-- CMD", one line of what CMD's
 * VM did, at its end (spanmon then exits with its status).
 */
#include <stdio.h>

#include "builtin.h"

static bool print(struct spanmon_collect *c, struct spanmon_scope *sc)
{
	struct spanmon_snapshot s;

	if (spanmon_scope_snapshot(c, sc, &s))
		return false;
	spanmon_format_json(stdout, &s);
	fflush(stdout);
	spanmon_snapshot_free(&s);
	return true;
}

int cmd_json(void)
{
	struct spanmon_collect c;
	struct spanmon_scope sc;
	uint64_t n = 0, want = env.count;
	int ret = 1;

	if (spanmon_start(&c))
		return 1;
	if (spanmon_scope_begin(&c, &sc))
		goto out;
	if (env.cmd) {
		ret = spanmon_scope_run(&sc);
		if (!print(&c, &sc))
			ret = 1;
		goto out;
	}
	/* -d alone: one line, at its end (or at Ctrl-C). */
	if (env.duration_set && !want && !env.periodic)
		while (!spanmon_scope_sleep(&c, &sc) && !spanmon_exiting)
			;
	for (;;) {
		if (!print(&c, &sc))
			goto out;
		if ((want && ++n >= want) || (!want && !env.periodic) || spanmon_exiting)
			break;
		if (spanmon_scope_sleep(&c, &sc) || spanmon_exiting) {
			if (!print(&c, &sc))
				goto out;
			break;
		}
	}
	ret = 0;
out:
	spanmon_scope_end(&sc);
	spanmon_collect_close(&c);
	return ret;
}
