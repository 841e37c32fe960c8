// SPDX-License-Identifier: GPL-2.0
/*
 * Runs scoped to a duration (-d), a process (-p), a VM (--vm) or a command
 * (-- CMD), shared by top and json.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "span/util.h"
#include "builtin.h"

int spanmon_scope_begin(struct spanmon_collect *c, struct spanmon_scope *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->go_fd = -1;
	sc->tgid = env.pid;
	sc->delta = env.cmd || env.duration_set;
	if (env.duration_set)
		sc->deadline_ns = span_now_ns() + env.duration * 1000000000ull;
	if (sc->delta && spanmon_collect_snapshot(c, &sc->base)) {
		fprintf(stderr, "spanmon: cannot read the maps\n");
		return 1;
	}
	if (env.cmd) {
		sc->child = span_spawn_stopped(env.cmd, &sc->go_fd, "spanmon");
		if (sc->child < 0) {
			fprintf(stderr, "spanmon: cannot start %s: %s\n", env.cmd[0], strerror(errno));
			sc->child = 0;
			return 1;
		}
		sc->tgid = sc->child;
	}
	return 0;
}

int spanmon_scope_snapshot(struct spanmon_collect *c, struct spanmon_scope *sc,
			   struct spanmon_snapshot *s)
{
	if (spanmon_collect_snapshot(c, s)) {
		fprintf(stderr, "spanmon: cannot read the maps\n");
		return -1;
	}
	if (sc->delta)
		spanmon_snapshot_sub(s, &sc->base);
	if (sc->tgid || env.vm)
		spanmon_snapshot_filter(s, sc->tgid, env.vm);
	return 0;
}

int spanmon_scope_run(struct spanmon_scope *sc)
{
	bool forwarded = false;
	int status;

	if (write(sc->go_fd, "g", 1) != 1) {
		fprintf(stderr, "spanmon: cannot start %s\n", env.cmd[0]);
		return 1;
	}
	close(sc->go_fd);
	sc->go_fd = -1;
	while (waitpid(sc->child, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "spanmon: waitpid: %s\n", strerror(errno));
			return 1;
		}
		/* Ctrl-C reaches the command from the terminal; kill -INT only us. */
		if (spanmon_exiting && !forwarded) {
			kill(sc->child, SIGINT);
			forwarded = true;
		}
	}
	sc->child = 0;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

bool spanmon_scope_sleep(struct spanmon_collect *c, struct spanmon_scope *sc)
{
	uint64_t now = span_now_ns(), s = env.interval;

	if (sc->deadline_ns) {
		if (now >= sc->deadline_ns)
			return true;
		if ((sc->deadline_ns - now + 999999999) / 1000000000 < s)
			s = (sc->deadline_ns - now + 999999999) / 1000000000;
	}
	spanmon_sleep(s);
	spanmon_collect_poll(c);
	return sc->deadline_ns && span_now_ns() >= sc->deadline_ns;
}

void spanmon_scope_end(struct spanmon_scope *sc)
{
	if (sc->go_fd >= 0)
		close(sc->go_fd);
	if (sc->child > 0) {
		kill(sc->child, SIGKILL);
		waitpid(sc->child, NULL, 0);
	}
	spanmon_snapshot_free(&sc->base);
}
