// SPDX-License-Identifier: GPL-2.0
/*
 * The span guest's workload: an ordinary Linux program that knows nothing
 * of span.  It writes a marker into its own memory (what a featurevisor
 * looks for through the guest's page tables) and counts progress there,
 * printing both on the console, so tests can see the guest keep running.
 *
 * With --rand MIB it also writes random 8-byte words all over MIB MiB of
 * its own memory, as fast as it can, and prints its throughput every
 * second (what a mirroring featurevisor costs: bench/mirror_bench.sh).
 *
 * Usage: workload [TICK_MS] [--rand MIB]   (default 100: one count per tick, a line per 10)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MARKER "SPAN-WORKLOAD-MARKER"

/* One page of its own, so a reader finds marker and counter together. */
static struct {
	char marker[64];
	volatile uint64_t progress;
} state __attribute__((aligned(4096)));

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void tick(void)
{
	state.progress++;
	if (state.progress % 10 == 0) {
		printf("workload: progress %llu\n", (unsigned long long)state.progress);
		fflush(stdout);
	}
}

/* Random writes over mib MiB, forever; progress by the clock meanwhile. */
static void rand_writes(long mib, long tick_ms)
{
	uint64_t words = (uint64_t)mib << 17, x = 0x9e3779b97f4a7c15ULL ^ now_ns();
	uint64_t t_tick, t_sec, t, writes = 0, i;
	volatile uint64_t *mem;

	mem = mmap(NULL, words * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		   MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED) {
		printf("workload: no memory for --rand %ld\n", mib);
		return;
	}
	printf("workload: random writes over %ld MiB\n", mib);
	fflush(stdout);
	t_tick = t_sec = now_ns();
	for (;;) {
		for (i = 0; i < 4096; i++) {
			/* xorshift64 */
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			mem[x % words] = x;
		}
		writes += 4096;
		t = now_ns();
		while (t - t_tick >= (uint64_t)tick_ms * 1000000) {
			tick();
			t_tick += tick_ms * 1000000;
		}
		if (t - t_sec >= 1000000000ULL) {
			uint64_t rate = writes * 1000000000ULL / (t - t_sec);

			printf("workload: rand %llu writes/s (%llu.%02llu MB/s)\n",
			       (unsigned long long)rate, (unsigned long long)(rate * 8 / 1000000),
			       (unsigned long long)(rate * 8 / 10000 % 100));
			fflush(stdout);
			writes = 0;
			t_sec = t;
		}
	}
}

int main(int argc, char **argv)
{
	long tick_ms = 100, mib = 0;
	struct timespec ts;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--rand") && i + 1 < argc)
			mib = strtol(argv[++i], NULL, 10);
		else
			tick_ms = strtol(argv[i], NULL, 10);
	}
	if (tick_ms <= 0 || tick_ms > 10000)
		tick_ms = 100;
	ts.tv_sec = tick_ms / 1000;
	ts.tv_nsec = (tick_ms % 1000) * 1000000L;
	snprintf(state.marker, sizeof(state.marker), "%s pid=%d", MARKER, (int)getpid());
	printf("workload: marker \"%s\" at %p\n", state.marker, (void *)state.marker);
	fflush(stdout);
	if (mib > 0 && mib < 4096)
		rand_writes(mib, tick_ms);
	for (;;) {
		nanosleep(&ts, NULL);
		tick();
	}
}
