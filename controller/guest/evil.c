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
	int period = argc > 1 ? atoi(argv[1]) : 5;
	unsigned long n = 0;

	if (period <= 0 || period > 3600)
		period = 5;
	printf("evil: pid %d running\n", (int)getpid());
	fflush(stdout);
	for (;;) {
		sleep(period);
		printf("evil: pid %d alive %lu\n", (int)getpid(), ++n);
		fflush(stdout);
	}
}
