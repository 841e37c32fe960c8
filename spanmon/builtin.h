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
	uint64_t duration;	/* profile: seconds */
	uint64_t freq;		/* profile: samples per second per CPU */
	const char *folded;	/* profile: folded stacks to this file ("-": stdout) */
};

extern struct spanmon_env env;
extern volatile sig_atomic_t spanmon_exiting;

/* Open, pin, load and attach with the common options; 0 or exit status. */
int spanmon_start(struct spanmon_collect *c);
/* Sleep @seconds unless a signal ends the run first. */
void spanmon_sleep(uint64_t seconds);

int cmd_top(void);
int cmd_json(void);
int cmd_serve(void);
int cmd_feed(void);
int cmd_profile(void);

#endif /* __SPANMON_BUILTIN_H */
