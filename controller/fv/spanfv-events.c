// SPDX-License-Identifier: GPL-2.0
/*
 * spanfv-events: a featurevisor that subscribes to the guest's writes on
 * one range and answers each synchronous event (the guest's vCPU waits
 * for it): the first event on a page is allowed once, the second allowed
 * with the page leaving the subscription.  It logs every event (seq,
 * vCPU, gfn, access, reply) and, every second and at the end, what it
 * received: counts, gaps in the kernel's sequence and the dispatcher's,
 * events outside its range, failed replies.
 *
 * The L1's command line says what (the test sets it with --append):
 *   spanfv.range=GPA,SIZE     the guest range (bytes; required)
 *   spanfv.reply=mixed|allow|unsubscribe   (default mixed: allow, then unsubscribe)
 *   spanfv.access=r|rx        what stays allowed (default rx: writes are events)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libspanfv.h"
#include "pci.h"

#define say(...) do { printf(__VA_ARGS__); fflush(stdout); } while (0)

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

struct stats {
	uint64_t sync, async, outside, other_view, replies_ok, replies_failed;
	uint64_t allow, unsub, lo, hi;
};

static void summary(const char *when, struct spanfv_events *e, const struct stats *s)
{
	say("spanfv-events: %s: received %llu (sync %llu, async %llu), replies ok %llu "
	    "failed %llu (allow %llu, unsubscribe %llu), gaps seq %llu dseq %llu, "
	    "outside %llu, other view %llu, gfns %#llx-%#llx\n", when,
	    (unsigned long long)e->received, (unsigned long long)s->sync,
	    (unsigned long long)s->async, (unsigned long long)s->replies_ok,
	    (unsigned long long)s->replies_failed, (unsigned long long)s->allow,
	    (unsigned long long)s->unsub, (unsigned long long)e->seq_gaps,
	    (unsigned long long)e->dseq_gaps, (unsigned long long)s->outside,
	    (unsigned long long)s->other_view, (unsigned long long)s->lo,
	    (unsigned long long)s->hi);
}

int main(void)
{
	struct spanfv_window w;
	struct spanfv_events e;
	struct span_fv_event ev;
	struct spanfv_range r;
	struct stats s = { .lo = ~0ULL };
	char arg[64], mode[16] = "mixed", *comma;
	uint64_t gpa, size, last = 0, idle = 0;
	uint8_t *seen;
	uint32_t action, view;
	int err;

	if (spanfv__param("spanfv.range", arg, sizeof(arg)) || !(comma = strchr(arg, ','))) {
		say("spanfv-events: no spanfv.range=GPA,SIZE on the command line\n");
		return 1;
	}
	gpa = strtoull(arg, NULL, 0);
	size = strtoull(comma + 1, NULL, 0);
	spanfv__param("spanfv.reply", mode, sizeof(mode));
	r = (struct spanfv_range){ .gpa = gpa, .size = size, .flags = SPANFV_SUBSCRIBE,
				   .access = SPANFV_ACCESS_R | SPANFV_ACCESS_X };
	if (!spanfv__param("spanfv.access", arg, sizeof(arg)) && !strcmp(arg, "r"))
		r.access = SPANFV_ACCESS_R;
	seen = calloc(size / 4096 + 1, 1);
	if (!seen || spanfv__open(&w, "") || spanfv__events_open(&w, &e))
		return 1;
	say("spanfv-events: waiting to be attached (range %#llx+%#llx, replies %s)\n",
	    (unsigned long long)gpa, (unsigned long long)size, mode);
	while (spanfv__state(&w) == SPAN_WINDOW_DETACHED || !spanfv__events_ready(&e))
		usleep(100000);
	view = e.info->view;
	err = spanfv__set_access(&e, &r, 1, NULL);
	say("spanfv-events: view %u of guest %u: subscribed to gfns %#llx-%#llx: %s\n",
	    view, e.info->guest_id, (unsigned long long)(gpa >> 12),
	    (unsigned long long)((gpa + size) >> 12) - 1, err ? strerror(-err) : "ok");
	if (err)
		return 1;
	/* Refused, as anything outside the guest must be. */
	r.gpa = e.info->guest_bytes;
	r.size = 4096;
	err = spanfv__set_access(&e, &r, 1, NULL);
	say("spanfv-events: a range beyond the guest: %s\n", err ? strerror(-err) : "ACCEPTED");
	last = now_ms();
	for (;;) {
		if (!spanfv__next_event(&e, &ev)) {
			if (spanfv__state(&w) == SPAN_WINDOW_DETACHED)
				break;
			/* Busy-poll a little, then back off: a vCPU may wait on us. */
			if (++idle > 200)
				usleep(idle > 2000 ? 1000 : 100);
			if (now_ms() - last >= 1000) {
				summary("so far", &e, &s);
				last = now_ms();
			}
			continue;
		}
		idle = 0;
		if (ev.view != view)
			s.other_view++;
		if (ev.gfn < gpa >> 12 || ev.gfn >= (gpa + size) >> 12)
			s.outside++;
		if (ev.gfn < s.lo)
			s.lo = ev.gfn;
		if (ev.gfn > s.hi)
			s.hi = ev.gfn;
		if (ev.flags & SPAN_FV_EVENT_NOTIFY) {
			s.async++;
			say("spanfv-events: ev seq %llu vcpu %u gfn %#llx %s%s%s async\n",
			    (unsigned long long)ev.seq, ev.vcpu, (unsigned long long)ev.gfn,
			    ev.access & 1 ? "r" : "", ev.access & 2 ? "w" : "", ev.access & 4 ? "x" : "");
			continue;
		}
		s.sync++;
		action = SPANFV_REPLY_ALLOW;
		if (!strcmp(mode, "unsubscribe"))
			action = SPANFV_REPLY_UNSUBSCRIBE;
		else if (!strcmp(mode, "mixed") && ev.gfn >= gpa >> 12 &&
			 ev.gfn < (gpa + size) >> 12 && seen[ev.gfn - (gpa >> 12)]++)
			action = SPANFV_REPLY_UNSUBSCRIBE;
		err = spanfv__reply(&e, ev.vcpu, ev.seq, action);
		if (err)
			s.replies_failed++;
		else
			s.replies_ok++;
		if (action == SPANFV_REPLY_ALLOW)
			s.allow++;
		else
			s.unsub++;
		say("spanfv-events: ev seq %llu vcpu %u gfn %#llx %s%s%s -> %s%s%s\n",
		    (unsigned long long)ev.seq, ev.vcpu, (unsigned long long)ev.gfn,
		    ev.access & 1 ? "r" : "", ev.access & 2 ? "w" : "", ev.access & 4 ? "x" : "",
		    action == SPANFV_REPLY_ALLOW ? "allow" : "unsubscribe",
		    err ? ": " : "", err ? strerror(-err) : "");
	}
	summary("detached", &e, &s);
	return 0;
}
