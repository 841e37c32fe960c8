// SPDX-License-Identifier: GPL-2.0
/* The runner half of harness.h: main() runs every registered TEST(). */
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

jmp_buf span_test_abort;
static struct span_test *head, **tail = &head;
static int cur_failed;
static char cur_skip[160];

void span_test_register(struct span_test *t)
{
	/* Constructors run in link order: keep it, so output is stable. */
	*tail = t;
	tail = &t->next;
}

void span_test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("#   %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	cur_failed = 1;
}

void span_test_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cur_skip, sizeof(cur_skip), fmt, ap);
	va_end(ap);
	if (!cur_skip[0])
		snprintf(cur_skip, sizeof(cur_skip), "skipped");
	longjmp(span_test_abort, 1);
}

/* setjmp() in its own frame, so main()'s locals are not clobbered. */
static int run_one(struct span_test *t)
{
	cur_failed = 0;
	cur_skip[0] = 0;
	if (!setjmp(span_test_abort))
		t->fn();
	return cur_failed;
}

static void suite_of(const char *file, char *buf, size_t len)
{
	char tmp[256], *b, *dot;

	snprintf(tmp, sizeof(tmp), "%s", file);
	b = basename(tmp);
	if (!strncmp(b, "test_", 5))
		b += 5;
	dot = strrchr(b, '.');
	if (dot)
		*dot = '\0';
	snprintf(buf, len, "%s", b);
}

int main(int argc, char **argv)
{
	const char *filter = NULL, *results = NULL;
	int n = 0, run = 0, failed = 0, i;
	struct span_test *t;
	FILE *rf = NULL;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--results") && i + 1 < argc) {
			results = argv[++i];
		} else if (argv[i][0] != '-' && !filter) {
			filter = argv[i];
		} else {
			fprintf(stderr, "usage: %s [--results FILE] [NAME-SUBSTRING]\n", argv[0]);
			return 2;
		}
	}
	if (results) {
		rf = fopen(results, "a");
		if (!rf) {
			perror(results);
			return 2;
		}
	}
	for (t = head; t; t = t->next)
		n += !filter || strstr(t->name, filter);
	printf("1..%d\n", n);
	for (t = head; t; t = t->next) {
		char suite[128];

		if (filter && !strstr(t->name, filter))
			continue;
		int bad = run_one(t);

		run++;
		failed += bad;
		suite_of(t->file, suite, sizeof(suite));
		if (cur_skip[0] && !bad) {
			printf("ok %d - %s # SKIP %s\n", run, t->name, cur_skip);
			if (rf)
				fprintf(rf, "SKIP\thost:%s:%s\t%s\n", suite, t->name, cur_skip);
			continue;
		}
		printf("%s %d - %s\n", bad ? "not ok" : "ok", run, t->name);
		if (rf)
			fprintf(rf, "%s\thost:%s:%s\t\n", bad ? "FAIL" : "PASS",
				suite, t->name);
	}
	if (rf)
		fclose(rf);
	fflush(stdout);
	return failed ? 1 : 0;
}
