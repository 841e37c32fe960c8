/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libspanfv: what a featurevisor program (an ordinary Linux program in its
 * L1) needs to serve a span guest: open the window the controller gave its
 * L1 (a PCI BAR, mapped through sysfs: no driver, no /dev/mem), see whether
 * it is attached, read and write guest-physical memory, and translate a
 * guest-virtual address through the guest's x86-64 page tables.
 */
#ifndef __LIBSPANFV_H
#define __LIBSPANFV_H

#include <stddef.h>
#include <stdint.h>

struct spanfv_window {
	volatile uint8_t *mem;	/* guest-physical 0 .. size */
	uint64_t size;		/* the guest's memory (span.window=) */
	uint64_t bar_size;	/* the mapping */
	int cfg_fd;		/* the device's config space: attach state */
	char dev[400];		/* its sysfs directory */
};

/*
 * Find the window device under sysroot ("" normally) and map it.  0, or
 * -errno with a reason on stderr.
 */
int spanfv__open(struct spanfv_window *w, const char *sysroot);
void spanfv__close(struct spanfv_window *w);
/* SPAN_WINDOW_DETACHED, _ATTACHED or _READONLY (controller/pci.h), or -errno. */
int spanfv__state(struct spanfv_window *w);

/* A CR3 of the guest's (controller/pci.h), 0 if none. */
uint64_t spanfv__cr3(struct spanfv_window *w);

/* Copy guest-physical memory; -ERANGE outside the guest. */
int spanfv__read(struct spanfv_window *w, uint64_t gpa, void *buf, size_t len);
int spanfv__write(struct spanfv_window *w, uint64_t gpa, const void *buf, size_t len);

/*
 * The first page-aligned guest-physical address at or after from whose
 * page starts with needle; -ENOENT if none.
 */
int64_t spanfv__find_page(struct spanfv_window *w, uint64_t from, const void *needle,
			  size_t len);

/*
 * Translate va through the 4-level page tables at cr3 (4 KiB, 2 MiB and
 * 1 GiB pages): 0 and *gpa, -EFAULT for an unmapped address, -ERANGE if a
 * table lies outside the guest.  read_phys lets it run on any memory.
 */
typedef int (*spanfv_read_fn)(void *ctx, uint64_t gpa, void *buf, size_t len);
int spanfv__translate(spanfv_read_fn read_phys, void *ctx, uint64_t cr3, uint64_t va,
		      uint64_t *gpa);
/*
 * The base of the guest kernel's direct map: the lowest 1 GiB-aligned
 * kernel address whose page walk from cr3 lands on guest-physical 0
 * (0xffff888000000000 with 4 levels, random with RANDOMIZE_MEMORY, which
 * puts the direct map first).  0, or -ENOENT.
 */
int spanfv__direct_map(spanfv_read_fn read_phys, void *ctx, uint64_t cr3, uint64_t *base);
/* A spanfv_read_fn over a window (ctx: the struct spanfv_window). */
int spanfv__read_phys(void *window, uint64_t gpa, void *buf, size_t len);

/* NAME=VALUE from the L1's command line into buf: 0, or -ENOENT. */
int spanfv__param(const char *name, char *buf, size_t len);

/*
 * Memory events (span/spanfv_area.h): the window device's doorbell (BAR0)
 * and event area (BAR4), where the controller maps the featurevisor's
 * dispatcher ring and dirty bitmap at attach.  Every call is cheap but
 * spanfv__set_access()/spanfv__reply(), which exit to the controller.
 */
#include "span/spanfv_area.h"
#include "span/spanfv_event.h"

struct spanfv_events {
	volatile uint32_t *regs;	/* BAR0 */
	volatile uint8_t *area;		/* BAR4 */
	uint64_t regs_size, area_size;
	uint32_t generation;		/* of the ring and bitmap in use */
	volatile struct spanfv_area_info *info;
	volatile struct spanfv_request *req;
	volatile uint64_t *cons_pos, *prod_pos;
	volatile uint8_t *data;
	uint64_t mask;			/* ring data bytes - 1 */
	volatile uint64_t *dirty;
	uint64_t dirty_words;
	uint64_t guest_pages;
	/* The consumer's view: records, and gaps in seq and dseq. */
	uint64_t received, last_seq, last_dseq, seq_gaps, dseq_gaps;
	uint64_t stats[8];		/* the dispatcher's, after the last request */
};

/* Map the doorbell and the event area (any time; they fill at attach). */
int spanfv__events_open(struct spanfv_window *w, struct spanfv_events *e);
void spanfv__events_close(struct spanfv_events *e);
/*
 * 1 if the event area is there (attached, a dispatcher): the ring and
 * bitmap are (re)read from the info page, a new generation restarting
 * the consumer's counts; 0 if not (yet).
 */
int spanfv__events_ready(struct spanfv_events *e);
/*
 * KVM_SPAN_SET_ACCESS for each range, through the doorbell (as many as fit
 * per request): 0, or -errno (-ERANGE: outside the guest; -ENOTCONN: not
 * attached); *done (may be NULL) counts the ranges done.
 */
int spanfv__set_access(struct spanfv_events *e, const struct spanfv_range *r,
		       unsigned int nr, unsigned int *done);
/* KVM_SPAN_REPLY to a synchronous event: 0 or -errno (-ENOENT: nobody waits). */
int spanfv__reply(struct spanfv_events *e, uint32_t vcpu, uint64_t seq, uint32_t action);
/*
 * The controller's watchdog for this featurevisor: armed with a timeout
 * (ms; 0 disarms), it detaches the featurevisor ("hung") once no
 * heartbeat came for that long while attached.  Beat well within it.
 */
void spanfv__watchdog(struct spanfv_events *e, uint32_t timeout_ms);
void spanfv__heartbeat(struct spanfv_events *e);
/* A request with no work: refreshes e->stats.  0 or -errno. */
int spanfv__nop(struct spanfv_events *e);
/*
 * The next record of the ring (libbpf's consumer protocol on the
 * dispatcher's own pages): 1 and *ev, or 0 if none waits.  Counts gaps in
 * seq (the kernel's, per view) and dseq (the dispatcher's).
 */
int spanfv__next_event(struct spanfv_events *e, struct span_fv_event *ev);
/* Drop every record waiting (a mirror needs only the bitmap). */
void spanfv__skip_events(struct spanfv_events *e);
/*
 * Fetch and clear the dirty bitmap, word by word, atomically (a bit set
 * meanwhile is in this harvest or the next), ORed into out: bits harvested.
 */
long spanfv__harvest(struct spanfv_events *e, uint64_t *out, size_t words);
/* The guest is paused (spanctl pause); *count: pauses so far. */
int spanfv__paused(struct spanfv_events *e, uint32_t *count);

#endif /* __LIBSPANFV_H */
