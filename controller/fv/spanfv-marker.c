// SPDX-License-Identifier: GPL-2.0
/*
 * spanfv-marker: the example featurevisor.  Waits until the controller
 * attaches its window, finds the page where the guest's workload keeps its
 * marker, shows the workload's progress counter moving (read live from the
 * guest's memory), and once detached shows that the window reads nothing
 * of the guest any more.  All output goes to its L1's console.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libspanfv.h"
#include "pci.h"

#define MARKER "SPAN-WORKLOAD-MARKER pid="
#define PROGRESS_OFF 64		/* workload.c: marker[64], then progress */

#define say(...) do { printf(__VA_ARGS__); fflush(stdout); } while (0)

/*
 * spanfv.hang=N on the L1's command line (a test): arm the controller's
 * watchdog (2 s) and beat every 250 ms for N seconds, then stop beating,
 * as a featurevisor whose program or L1 hangs would.
 */
static struct spanfv_events ev;
static long hang_after_s = -1;

static void *heartbeat(void *arg)
{
	long i;

	(void)arg;
	spanfv__watchdog(&ev, 2000);
	for (i = 0; i < hang_after_s * 4; i++) {
		spanfv__heartbeat(&ev);
		usleep(250000);
	}
	say("spanfv: heartbeat stops (spanfv.hang=%ld): hanging\n", hang_after_s);
	return NULL;
}

int main(int argc, char **argv)
{
	/* --once: return after the first look (its L1's init then panics it). */
	int once = argc > 1 && !strcmp(argv[1], "--once");
	struct spanfv_window w;
	char marker[64];
	uint64_t p0, p1, gpa = 0, all_ones = ~0ULL, v, cr3, pa = 0, dmap = 0;
	int err;
	int64_t at;
	int state;

	if (spanfv__open(&w, ""))
		return 1;
	{
		char buf[32];
		pthread_t t;

		if (!spanfv__param("spanfv.hang", buf, sizeof(buf)) && !spanfv__events_open(&w, &ev)) {
			hang_after_s = strtol(buf, NULL, 10);
			if (hang_after_s >= 0 && !pthread_create(&t, NULL, heartbeat, NULL))
				say("spanfv: watchdog armed (2000 ms), heartbeat for %ld s\n",
				    hang_after_s);
		}
	}
	say("spanfv: window of %llu MiB mapped (BAR %llu MiB), waiting to be attached\n",
	    (unsigned long long)w.size >> 20, (unsigned long long)w.bar_size >> 20);
	for (;;) {
		while ((state = spanfv__state(&w)) == SPAN_WINDOW_DETACHED)
			usleep(200000);
		if (state < 0)
			return 1;
		at = spanfv__find_page(&w, 0, MARKER, strlen(MARKER));
		if (at < 0) {
			say("spanfv: attached, but no marker in %llu MiB\n",
			    (unsigned long long)w.size >> 20);
			sleep(1);
			continue;
		}
		gpa = at;
		spanfv__read(&w, gpa, marker, sizeof(marker));
		marker[sizeof(marker) - 1] = 0;
		say("spanfv: found \"%s\" at guest-physical %#llx (%s)\n", marker,
		    (unsigned long long)gpa, state == SPAN_WINDOW_READONLY ? "read-only" : "read-write");
		/* The walker on the guest's own page tables: its direct map. */
		cr3 = spanfv__cr3(&w);
		/* Its base is random with KASLR (RANDOMIZE_MEMORY): found by a walk. */
		err = spanfv__direct_map(spanfv__read_phys, &w, cr3, &dmap);
		if (!err)
			err = spanfv__translate(spanfv__read_phys, &w, cr3, dmap + gpa, &pa);
		say("spanfv: through the guest's page tables (CR3 %#llx, direct map at %#llx): "
		    "%#llx -> %#llx: %s\n", (unsigned long long)cr3, (unsigned long long)dmap,
		    (unsigned long long)(dmap + gpa),
		    err ? 0ULL : (unsigned long long)pa,
		    err ? "not mapped" : pa == gpa ? "matches" : "DOES NOT MATCH");
		spanfv__read(&w, gpa + PROGRESS_OFF, &p0, sizeof(p0));
		sleep(1);
		spanfv__read(&w, gpa + PROGRESS_OFF, &p1, sizeof(p1));
		say("spanfv: guest progress %llu -> %llu\n", (unsigned long long)p0,
		    (unsigned long long)p1);
		if (once)
			return 0;
		while (spanfv__state(&w) != SPAN_WINDOW_DETACHED)
			usleep(200000);
		/* Once: what the same address holds now. */
		spanfv__read(&w, gpa, &v, sizeof(v));
		say("spanfv: detached; the marker's address now reads %#llx: %s\n",
		    (unsigned long long)v, v == all_ones ? "nothing of the guest is left" :
		    "THE WINDOW STILL SHOWS GUEST MEMORY");
	}
}
