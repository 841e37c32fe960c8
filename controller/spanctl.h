/* SPDX-License-Identifier: GPL-2.0 */
/*
 * spanctl: the span guest controller and its CLI.  One subcommand per
 * builtin-*.c file, dispatched from spanctl.c's table.
 */
#ifndef __SPANCTL_H
#define __SPANCTL_H

#include <stdint.h>
#include <stdio.h>

#include "options.h"

/* Exit codes: 0 done, 1 failed (or no such guest), 2 bad command line. */
#define SPANCTL_EXIT_FAIL	1
#define SPANCTL_EXIT_USAGE	2

struct spanctl_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

int cmd_run(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_fv(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_filter(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);

/*
 * Parse a subcommand's arguments: exactly nargs positional ones (names in
 * pos_names for the usage line), or print its help.  Returns -1 to go on,
 * or the exit code to return (0 after --help, 2 after a bad argument).
 */
int spanctl__args(const char *cmd, const char *usage, const char *examples,
		  const struct opt *opts, int argc, char **argv,
		  char **pos, int nargs);

/*
 * Connect to GUEST's controller: fd, or -1 after one line on stderr
 * (no such guest, bad name, no permission).
 */
int spanctl__connect(const char *cmd, const char *guest);

/*
 * Connect to GUEST, send one request that wants OK: 0, or 1 after one line
 * on stderr (no such guest, or the controller's reason).
 */
int spanctl__request(const char *cmd, const char *guest, uint32_t type,
		     const void *payload, uint32_t len);

/* The same for a request naming a featurevisor: names[0] guest, names[1] it. */
int spanctl__fv_request(const char *cmd, uint32_t type, char **names, uint32_t flags);

/* One line on stderr for a reply that is not the one wanted. */
void spanctl__bad_reply(const char *cmd, const char *guest, int type, const void *buf);

struct span_msg_status;
/* status and list print a guest the same way. */
void status__print(FILE *f, const struct span_msg_status *st, int json);

#endif /* __SPANCTL_H */
