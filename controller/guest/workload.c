// SPDX-License-Identifier: GPL-2.0
/*
 * The span guest's workload: an ordinary Linux program that knows nothing
 * of span.  It writes a marker into its own memory (what a featurevisor
 * looks for through the guest's page tables) and counts progress there,
 * printing both on the console, so tests can see the guest keep running.
 *
 * Usage: workload [TICK_MS]   (default 100: one count per tick, a line per 10)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MARKER "SPAN-WORKLOAD-MARKER"

/* One page of its own, so a reader finds marker and counter together. */
static struct {
	char marker[64];
	volatile uint64_t progress;
} state __attribute__((aligned(4096)));

int main(int argc, char **argv)
{
	long tick_ms = argc > 1 ? strtol(argv[1], NULL, 10) : 100;
	struct timespec ts;

	if (tick_ms <= 0 || tick_ms > 10000)
		tick_ms = 100;
	ts.tv_sec = tick_ms / 1000;
	ts.tv_nsec = (tick_ms % 1000) * 1000000L;
	snprintf(state.marker, sizeof(state.marker), "%s pid=%d", MARKER, (int)getpid());
	printf("workload: marker \"%s\" at %p\n", state.marker, (void *)state.marker);
	fflush(stdout);
	for (;;) {
		nanosleep(&ts, NULL);
		state.progress++;
		if (state.progress % 10 == 0) {
			printf("workload: progress %llu\n", (unsigned long long)state.progress);
			fflush(stdout);
		}
	}
}
