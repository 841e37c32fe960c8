// SPDX-License-Identifier: GPL-2.0
/*
 * Option tables (see options.h).
 */
#include <errno.h>
#include <string.h>

#include "options.h"
#include "span/util.h"

int opts__parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char num[32];
	size_t n = strlen(s);
	unsigned int shift = 0;
	uint64_t v;
	int err;

	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 'K': case 'k': shift = 10; break;
	case 'M': case 'm': shift = 20; break;
	case 'G': case 'g': shift = 30; break;
	}
	if (shift)
		num[--n] = 0;
	err = span_parse_u64(num, 0, UINT64_MAX >> shift, &v);
	if (err == -ERANGE)
		return -ERANGE;
	if (err)
		return -EINVAL;
	v <<= shift;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static const struct opt *opt__find(const struct opt *opts, const char *lname,
				   size_t llen, char sname)
{
	for (; opts->type != OPT_T_END; opts++) {
		if (sname && opts->short_name == sname)
			return opts;
		if (!sname && opts->long_name && strlen(opts->long_name) == llen &&
		    !strncmp(opts->long_name, lname, llen))
			return opts;
	}
	return NULL;
}

/* 16777216 as "16M" when it is a size in whole units. */
static void size__str(char *buf, size_t len, uint64_t v, int is_size)
{
	static const char units[] = "GMK";
	int i;

	for (i = 0; is_size && i < 3; i++) {
		unsigned int shift = 30 - 10 * i;

		if (v && !(v & ((1ULL << shift) - 1))) {
			snprintf(buf, len, "%llu%c", (unsigned long long)(v >> shift), units[i]);
			return;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)v);
}

static int opt__set(const char *cmd, const struct opt *o, const char *val)
{
	uint64_t v;
	int err = 0;

	switch (o->type) {
	case OPT_T_STR:
		if (!*val) {
			fprintf(stderr, "spanctl %s: --%s: empty %s\n", cmd, o->long_name, o->arg);
			return -1;
		}
		*(const char **)o->value = val;
		return 0;
	case OPT_T_U64:
		err = span_parse_u64(val, o->min, o->max, &v);
		break;
	case OPT_T_SIZE:
		err = opts__parse_size(val, o->min, o->max, &v);
		break;
	default:
		return -1;
	}
	if (err == -ERANGE) {
		char lo[24], hi[24];

		size__str(lo, sizeof(lo), o->min, o->type == OPT_T_SIZE);
		size__str(hi, sizeof(hi), o->max, o->type == OPT_T_SIZE);
		fprintf(stderr, "spanctl %s: --%s: %s is outside %s..%s\n", cmd,
			o->long_name, val, lo, hi);
		return -1;
	}
	if (err) {
		fprintf(stderr, "spanctl %s: --%s: not a %s: '%s'\n", cmd, o->long_name,
			o->type == OPT_T_SIZE ? "size" : "number", val);
		return -1;
	}
	*(uint64_t *)o->value = v;
	return 0;
}

int opts__parse(const char *cmd, const struct opt *opts, int argc, char **argv,
		char **pos, int max_pos, int *npos, int *help)
{
	int i, only_pos = 0;

	*npos = 0;
	*help = 0;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *val = NULL, *eq;
		const struct opt *o;

		if (only_pos || a[0] != '-' || !a[1]) {
			if (*npos >= max_pos) {
				fprintf(stderr, "spanctl %s: unexpected argument '%s'\n", cmd, a);
				return -1;
			}
			pos[(*npos)++] = argv[i];
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = 1;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			*help = 1;
			return 0;
		}
		if (a[1] == '-') {
			eq = strchr(a + 2, '=');
			o = opt__find(opts, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2), 0);
			if (eq)
				val = eq + 1;
		} else {
			o = a[2] ? NULL : opt__find(opts, NULL, 0, a[1]);
		}
		if (!o) {
			fprintf(stderr, "spanctl %s: unknown option '%s'\n", cmd, a);
			return -1;
		}
		if (o->type == OPT_T_FLAG) {
			if (val) {
				fprintf(stderr, "spanctl %s: --%s takes no value\n", cmd, o->long_name);
				return -1;
			}
			*(int *)o->value = 1;
			continue;
		}
		if (!val) {
			if (i + 1 >= argc) {
				fprintf(stderr, "spanctl %s: --%s needs a %s\n", cmd, o->long_name, o->arg);
				return -1;
			}
			val = argv[++i];
		}
		if (opt__set(cmd, o, val))
			return -1;
	}
	return 0;
}

void opts__usage(FILE *f, const struct opt *opts)
{
	for (; opts->type != OPT_T_END; opts++) {
		char left[48];

		snprintf(left, sizeof(left), "%s%c%s--%s%s%s",
			 opts->short_name ? "-" : "", opts->short_name ? opts->short_name : ' ',
			 opts->short_name ? ", " : "   ", opts->long_name,
			 opts->arg ? " " : "", opts->arg ? opts->arg : "");
		fprintf(f, "  %-26s %s\n", left, opts->help);
	}
}
