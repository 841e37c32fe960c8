// SPDX-License-Identifier: GPL-2.0
/*
 * spanmon top: the live terminal view.  Ctrl-C, the end of -d or of the
 * command after "--" print a final view; with a command, spanmon exits
 * with its status.
 */
#include <stdio.h>
#include <unistd.h>

#include "builtin.h"

/* One view of the scope; false when the maps cannot be read. */
static bool show(struct spanmon_collect *c, struct spanmon_scope *sc,
		 const struct spanmon_top_opts *o, bool clear)
{
	struct spanmon_snapshot s;

	if (spanmon_scope_snapshot(c, sc, &s))
		return false;
	if (clear)
		fputs("\033[H\033[2J", stdout);
	spanmon_format_top(stdout, &s, o);
	fflush(stdout);
	spanmon_snapshot_free(&s);
	return true;
}

int cmd_top(void)
{
	struct spanmon_top_opts o = { .per_vcpu = env.per_vcpu, .limit = env.limit };
	struct spanmon_top_opts final = o;
	struct spanmon_collect c;
	struct spanmon_scope sc;
	bool tty = isatty(STDOUT_FILENO), over = false;
	uint64_t n = 0;
	int ret = 1;

	final.title = "final";
	if (spanmon_start(&c))
		return 1;
	if (spanmon_scope_begin(&c, &sc))
		goto out;
	if (env.cmd) {
		/* The command owns the terminal while it runs: one view, at its end. */
		ret = spanmon_scope_run(&sc);
		if (!show(&c, &sc, &final, false))
			ret = 1;
		goto out;
	}
	for (;;) {
		if (!show(&c, &sc, &o, tty))
			goto out;
		if (env.count && ++n >= env.count)
			break;
		over = spanmon_scope_sleep(&c, &sc);
		if (over || spanmon_exiting) {
			/* Not cleared: it stays on the terminal. */
			if (!show(&c, &sc, &final, false))
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
