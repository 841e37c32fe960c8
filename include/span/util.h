/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers shared by span's user-space programs (lib/util.c).
 */
#ifndef __SPAN_UTIL_H
#define __SPAN_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit code for a bad command line, as in the project's CLI convention. */
#define SPAN_EXIT_USAGE 2

/*
 * Parse a whole string as an unsigned decimal (or 0x hex) number in
 * [min, max].  Returns 0, -EINVAL (not a number, trailing junk, empty, sign)
 * or -ERANGE (outside [min, max]).  *out is only written on success.
 */
int span_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/*
 * Write s to f as a JSON string literal (with the quotes), escaping quotes,
 * backslashes and control characters; at most len bytes of s are read and a
 * NUL ends it early (kernel comm[] buffers need not be terminated).
 */
void span_json_str(FILE *f, const char *s, size_t len);

/*
 * Fork @cmd (execvp) stopped on a pipe, so that a tool can attach and filter
 * on its pid before it runs its first instruction: it starts when one byte
 * is written to *go_fd (close it then).  A child that cannot run @cmd says
 * so on stderr, naming @prog, and exits 127.  The pid, or -1 (errno set).
 */
int span_spawn_stopped(char **cmd, int *go_fd, const char *prog);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t span_now_ns(void);

#endif /* __SPAN_UTIL_H */
