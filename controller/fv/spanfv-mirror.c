// SPDX-License-Identifier: GPL-2.0
/*
 * spanfv-mirror: a featurevisor that keeps a copy of the guest's memory in
 * its own RAM, in rounds, from write notifications.
 *
 *   start   arm KVM_SPAN_ACCESS_NOTIFY on the whole guest, then copy it all
 *   round   every P ms: harvest the dirty bitmap (fetch-and-clear, word by
 *           word) -> arm those pages again (coalesced ranges, one doorbell)
 *           -> copy those pages from the window.  A write after the re-arm
 *           notifies again (next round); one before it is in this copy.
 *   loss    a failed request, or a gfn the dispatcher could not mark: the
 *           next round is a full copy again, and the log says why
 *   verify  when the guest is paused (spanctl pause), one last round, then
 *           every page of the copy compared with the window, byte for byte
 *
 * Command line: spanfv.period=MS (default 1000).  It prints each round
 * (pages copied, time), or a line per second of rounds when P < 100 ms.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "libspanfv.h"
#include "pci.h"

#define say(...) do { printf(__VA_ARGS__); fflush(stdout); } while (0)
#define PAGE 4096ULL

struct mirror {
	struct spanfv_window w;
	struct spanfv_events e;
	uint8_t *copy;
	uint64_t pages, words;
	uint64_t *dirty;
	struct spanfv_range *ranges;
	unsigned int max_ranges;
	uint64_t dirty_oob;	/* the dispatcher's count at the last look */
	const char *loss;	/* set: the next round is a full copy, and why */
	uint64_t rounds;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

static void copy_page(struct mirror *m, uint64_t pfn)
{
	memcpy(m->copy + pfn * PAGE, (const void *)(m->w.mem + pfn * PAGE), PAGE);
}

/* The dispatcher could not mark a gfn (beyond its bitmap): a write lost. */
static void check_stats(struct mirror *m)
{
	uint64_t oob = m->e.stats[SPAN_FV_STAT_DIRTY_OOB];

	if (oob != m->dirty_oob && !m->loss)
		m->loss = "the dispatcher lost dirty bits";
	m->dirty_oob = oob;
}

/* Arm everything, then copy everything: the start, and after a loss. */
static int full_copy(struct mirror *m, const char *why)
{
	struct spanfv_range r = { .gpa = 0, .size = m->pages * PAGE, .flags = SPANFV_NOTIFY,
				  .access = SPANFV_ACCESS_R | SPANFV_ACCESS_X };
	uint64_t t0 = now_us(), i;
	int err;

	/* Older bits are covered by this copy. */
	memset(m->dirty, 0, m->words * 8);
	spanfv__harvest(&m->e, m->dirty, m->words);
	memset(m->dirty, 0, m->words * 8);
	err = spanfv__set_access(&m->e, &r, 1, NULL);
	if (err) {
		say("spanfv-mirror: arming the guest failed: %s\n", strerror(-err));
		m->loss = "arming failed";
		return err;
	}
	check_stats(m);
	m->loss = NULL;
	for (i = 0; i < m->pages; i++)
		copy_page(m, i);
	spanfv__skip_events(&m->e);
	say("spanfv-mirror: full copy (%s): %llu pages in %llu ms\n", why,
	    (unsigned long long)m->pages, (unsigned long long)(now_us() - t0) / 1000);
	return 0;
}

/* Dirty pages as ranges, gaps below `gap` pages merged: how many. */
static unsigned int coalesce(struct mirror *m, uint64_t gap, int fill)
{
	unsigned int n = 0;
	uint64_t i, start = 0, end = 0;	/* [start, end) pages */
	int open = 0;

	for (i = 0; i < m->pages; i++) {
		if (!(m->dirty[i / 64] & (1ULL << (i % 64))))
			continue;
		if (open && i - end <= gap) {
			end = i + 1;
			continue;
		}
		if (open && fill && n <= m->max_ranges)
			m->ranges[n - 1].size = (end - start) * PAGE;
		n++;
		start = i;
		end = i + 1;
		open = 1;
		if (fill && n <= m->max_ranges)
			m->ranges[n - 1] = (struct spanfv_range){
				.gpa = start * PAGE, .flags = SPANFV_NOTIFY,
				.access = SPANFV_ACCESS_R | SPANFV_ACCESS_X };
	}
	if (open && fill && n <= m->max_ranges)
		m->ranges[n - 1].size = (end - start) * PAGE;
	return n;
}

struct round {
	uint64_t pages, ranges, us, harvest_us, arm_us, copy_us;
};

/* harvest -> re-arm -> copy; 0, or -errno after noting the loss. */
static int mirror_round(struct mirror *m, struct round *rd)
{
	uint64_t t0 = now_us(), t1, t2, i, gap = 0;
	unsigned int n;
	long bits;
	int err;

	memset(rd, 0, sizeof(*rd));
	memset(m->dirty, 0, m->words * 8);
	bits = spanfv__harvest(&m->e, m->dirty, m->words);
	if (bits < 0)
		return (int)bits;
	t1 = now_us();
	if (bits) {
		/* One request: merge gaps until the ranges fit (re-arming an armed page is a no-op). */
		while ((n = coalesce(m, gap, 0)) > m->max_ranges)
			gap = gap * 2 + 1;
		coalesce(m, gap, 1);
		err = spanfv__set_access(&m->e, m->ranges, n, NULL);
		if (err) {
			say("spanfv-mirror: re-arming %u ranges failed: %s\n", n, strerror(-err));
			m->loss = "a failed re-arm";
			return err;
		}
		check_stats(m);
		rd->ranges = n;
	}
	t2 = now_us();
	for (i = 0; i < m->words; i++) {
		uint64_t w = m->dirty[i];

		while (w) {
			copy_page(m, i * 64 + __builtin_ctzll(w));
			w &= w - 1;
		}
	}
	spanfv__skip_events(&m->e);
	rd->pages = bits;
	rd->harvest_us = t1 - t0;
	rd->arm_us = t2 - t1;
	rd->copy_us = now_us() - t2;
	rd->us = now_us() - t0;
	m->rounds++;
	return 0;
}

static void verify(struct mirror *m, uint32_t pause)
{
	struct round rd;
	uint64_t t0 = now_us(), i, bad = 0;
	int err;

	err = mirror_round(m, &rd);
	say("spanfv-mirror: final round (paused): %llu pages copied%s%s\n",
	    (unsigned long long)rd.pages, err ? ", failed: " : "", err ? strerror(-err) : "");
	for (i = 0; i < m->pages; i++) {
		if (!memcmp(m->copy + i * PAGE, (const void *)(m->w.mem + i * PAGE), PAGE))
			continue;
		if (bad < 10)
			say("spanfv-mirror: page %#llx differs\n", (unsigned long long)i);
		bad++;
	}
	say("spanfv-mirror: verify (pause %u): %llu pages compared byte for byte, "
	    "%llu mismatching pages, %llu ms%s\n", pause, (unsigned long long)m->pages,
	    (unsigned long long)bad, (unsigned long long)(now_us() - t0) / 1000,
	    m->loss ? " (after a loss)" : "");
}

int main(void)
{
	struct mirror m = { 0 };
	struct round rd;
	char arg[32];
	uint64_t period = 1000, next, sec_start, sec_rounds = 0, sec_pages = 0, sec_max = 0;
	uint64_t sec_sum = 0;
	uint32_t verified = 0, pauses;
	int paused;

	if (!spanfv__param("spanfv.period", arg, sizeof(arg)))
		period = strtoull(arg, NULL, 0);
	if (period < 1 || period > 60000) {
		say("spanfv-mirror: spanfv.period=%s: 1..60000 ms\n", arg);
		return 1;
	}
	if (spanfv__open(&m.w, "") || spanfv__events_open(&m.w, &m.e))
		return 1;
	m.pages = m.w.size / PAGE;
	m.words = (m.pages + 63) / 64;
	m.max_ranges = SPANFV_REQ_MAX_RANGES;
	m.copy = mmap(NULL, m.pages * PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	m.dirty = calloc(m.words, 8);
	m.ranges = calloc(m.max_ranges + 1, sizeof(*m.ranges));
	if (m.copy == MAP_FAILED || !m.dirty || !m.ranges) {
		say("spanfv-mirror: no memory for a %llu MiB copy\n",
		    (unsigned long long)(m.pages * PAGE) >> 20);
		return 1;
	}
	say("spanfv-mirror: a copy of %llu MiB, rounds every %llu ms; waiting to be attached\n",
	    (unsigned long long)(m.pages * PAGE) >> 20, (unsigned long long)period);
	for (;;) {
		while (spanfv__state(&m.w) == SPAN_WINDOW_DETACHED || !spanfv__events_ready(&m.e))
			usleep(100000);
		say("spanfv-mirror: attached (view %u, generation %u)\n", m.e.info->view,
		    m.e.generation);
		spanfv__paused(&m.e, &verified);
		if (full_copy(&m, "start"))
			goto detached;
		next = now_us() + period * 1000;
		sec_start = now_us();
		for (;;) {
			/* Sleep to the next round, looking for a pause or a detach. */
			while (now_us() < next) {
				uint64_t left = next - now_us();

				usleep(left > 20000 ? 20000 : left);
				paused = spanfv__paused(&m.e, &pauses);
				if (paused && pauses != verified)
					break;
				if (spanfv__state(&m.w) == SPAN_WINDOW_DETACHED)
					goto detached;
			}
			next += period * 1000;
			if (now_us() > next)	/* late: no burst of rounds */
				next = now_us() + period * 1000;
			paused = spanfv__paused(&m.e, &pauses);
			if (spanfv__state(&m.w) == SPAN_WINDOW_DETACHED || !spanfv__events_ready(&m.e))
				goto detached;
			if (m.loss) {
				say("spanfv-mirror: loss (%s): back to a full copy\n", m.loss);
				full_copy(&m, m.loss);
				continue;
			}
			if (paused && pauses != verified) {
				verify(&m, pauses);
				verified = pauses;
				continue;
			}
			if (mirror_round(&m, &rd))
				continue;	/* m.loss says why */
			if (period >= 100) {
				say("spanfv-mirror: round %llu: %llu pages copied (%llu ranges), "
				    "%llu.%03llu ms (harvest %llu us, re-arm %llu us, copy %llu us)\n",
				    (unsigned long long)m.rounds, (unsigned long long)rd.pages,
				    (unsigned long long)rd.ranges, (unsigned long long)rd.us / 1000,
				    (unsigned long long)rd.us % 1000,
				    (unsigned long long)rd.harvest_us, (unsigned long long)rd.arm_us,
				    (unsigned long long)rd.copy_us);
				continue;
			}
			sec_rounds++;
			sec_pages += rd.pages;
			sec_sum += rd.us;
			if (rd.us > sec_max)
				sec_max = rd.us;
			if (now_us() - sec_start >= 1000000) {
				say("spanfv-mirror: rounds %llu-%llu: %llu pages copied, "
				    "round time avg %llu us max %llu us\n",
				    (unsigned long long)(m.rounds - sec_rounds + 1),
				    (unsigned long long)m.rounds, (unsigned long long)sec_pages,
				    (unsigned long long)(sec_sum / sec_rounds),
				    (unsigned long long)sec_max);
				sec_rounds = sec_pages = sec_sum = sec_max = 0;
				sec_start = now_us();
			}
		}
detached:
		say("spanfv-mirror: detached after %llu rounds\n", (unsigned long long)m.rounds);
		while (spanfv__state(&m.w) != SPAN_WINDOW_DETACHED)
			usleep(100000);
	}
}
