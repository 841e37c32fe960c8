/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Command-line options as tables (kvmtool's parse-options, much smaller):
 *
 *	static const struct opt run_opts[] = {
 *		OPT_SIZE('m', "mem", &cfg.mem_size, 16 << 20, 3ULL << 30, "guest memory"),
 *		OPT_END(),
 *	};
 *
 * Options and positional arguments may mix; "--" ends the options.
 */
#ifndef __SPANCTL_OPTIONS_H
#define __SPANCTL_OPTIONS_H

#include <stdint.h>
#include <stdio.h>

enum opt_type { OPT_T_END, OPT_T_FLAG, OPT_T_STR, OPT_T_U64, OPT_T_SIZE };

struct opt {
	enum opt_type type;
	char short_name;	/* 0: none */
	const char *long_name;
	void *value;		/* int *, const char **, uint64_t * */
	uint64_t min, max;	/* U64, SIZE */
	const char *arg;	/* the argument's name in --help */
	const char *help;
};

#define OPT_FLAG(s, l, v, h)		{ OPT_T_FLAG, s, l, v, 0, 0, NULL, h }
#define OPT_STR(s, l, v, a, h)		{ OPT_T_STR, s, l, v, 0, 0, a, h }
#define OPT_U64(s, l, v, lo, hi, a, h)	{ OPT_T_U64, s, l, v, lo, hi, a, h }
#define OPT_SIZE(s, l, v, lo, hi, a, h)	{ OPT_T_SIZE, s, l, v, lo, hi, a, h }
#define OPT_END()			{ OPT_T_END, 0, NULL, NULL, 0, 0, NULL, NULL }

#define OPT_MAX_POS 8

/*
 * Parse argv[0..argc) (after the subcommand).  Positional arguments go to
 * pos (at most max_pos; *npos says how many).  -h/--help sets *help.
 * Returns 0, or -1 after printing one line "spanctl CMD: ..." on stderr.
 */
int opts__parse(const char *cmd, const struct opt *opts, int argc, char **argv,
		char **pos, int max_pos, int *npos, int *help);
void opts__usage(FILE *f, const struct opt *opts);
/* "256M", "1G", "65536": bytes; 0, -EINVAL or -ERANGE. */
int opts__parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif /* __SPANCTL_OPTIONS_H */
