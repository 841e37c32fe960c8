// SPDX-License-Identifier: GPL-2.0
/*
 * evil: a long-running process for the lab's rootkit (dkom) to hide and
 * the introspection featurevisor to find.  It says it is alive on the
 * console every few seconds, so a test sees it run on once hidden.
 *
 * Usage: evil [PERIOD_S]   (default 5)
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long n = 0;
	long period = 5;
	char *end;

	if (argc > 1)
		period = strtol(argv[1], &end, 10);
	if (argc > 2 || (argc > 1 && (*end || end == argv[1])) || period <= 0 || period > 3600) {
		fprintf(stderr, "usage: evil [PERIOD_S]   (1..3600, default 5)\n");
		return 2;
	}
	printf("evil: pid %d running\n", (int)getpid());
	fflush(stdout);
	for (;;) {
		sleep(period);
		printf("evil: pid %d alive %lu\n", (int)getpid(), ++n);
		fflush(stdout);
	}
}
