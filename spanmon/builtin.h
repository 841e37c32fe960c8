/* SPDX-License-Identifier: GPL-2.0 */
/* spanmon's subcommands (one file each) and the options they share. */
#ifndef __SPANMON_BUILTIN_H
#define __SPANMON_BUILTIN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "collect.h"

#define SPANMON_VERSION "0.1"

struct spanmon_env {
	const char *pin_dir;
	const char *listen;	/* serve: HOST:PORT */
	uint64_t interval;	/* top, json: seconds between snapshots */
	uint64_t count;		/* top, json: snapshots (0: until Ctrl-C); feed: rounds */
	uint64_t limit;		/* top: series shown */
	bool periodic;		/* -i given */
	bool per_vcpu;
	bool reset;
	bool verbose;
	uint64_t duration;	/* profile; top, json, serve with -d: seconds */
	bool duration_set;	/* -d given */
	uint32_t pid;		/* top, json: only this process's VM (0: all) */
	const char *vm;		/* top, json: only the VM of this label */
	char **cmd;		/* top, json: after "--", run it and show its VM */
	uint64_t freq;		/* profile: samples per second per CPU */
	const char *folded;	/* profile: folded stacks to this file ("-": stdout) */
};

extern struct spanmon_env env;
extern volatile sig_atomic_t spanmon_exiting;

/* Open, pin, load and attach with the common options; 0 or exit status. */
int spanmon_start(struct spanmon_collect *c);
/* Sleep @seconds unless a signal ends the run first. */
void spanmon_sleep(uint64_t seconds);

/*
 * A run's scope (scope.c): what top and json show.  Scoped by duration
 * (-d) or command (-- CMD), every view is the difference from the run's
 * start; -p, --vm and a command also filter by VM.
 */
struct spanmon_scope {
	struct spanmon_snapshot base;	/* at the start, when a difference */
	bool delta;
	__u32 tgid;			/* -p, or the command's pid */
	uint64_t deadline_ns;		/* -d: CLOCK_MONOTONIC; 0: none */
	int child;			/* the command (0: none) */
	int go_fd;
};

/* Take the base snapshot, start the command stopped; 0 or exit status. */
int spanmon_scope_begin(struct spanmon_collect *c, struct spanmon_scope *sc);
/* A snapshot as the scope shows it; 0 or -1 (said on stderr). */
int spanmon_scope_snapshot(struct spanmon_collect *c, struct spanmon_scope *sc,
			   struct spanmon_snapshot *s);
/*
 * Let the command run and wait for it (a signal to spanmon goes to it);
 * its exit status as spanmon's (128 + N for a signal N).
 */
int spanmon_scope_run(struct spanmon_scope *sc);
/* Sleep the refresh interval, less if -d ends sooner; true when -d is over. */
bool spanmon_scope_sleep(struct spanmon_collect *c, struct spanmon_scope *sc);
void spanmon_scope_end(struct spanmon_scope *sc);

int cmd_top(void);
int cmd_json(void);
int cmd_serve(void);
int cmd_feed(void);
int cmd_profile(void);

#endif /* __SPANMON_BUILTIN_H */
