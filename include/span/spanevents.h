/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A featurevisor's memory events through BPF (lib/spanevents.c): its
 * dispatcher (bpf/spanfv.bpf.c), the filter it may load into it (checked
 * first), the consumer of its ring, its dirty bitmap and counters.
 *
 * Every function that can fail returns 0 or a negative errno and, given a
 * buffer, one line saying why; none exits.
 */
#ifndef __SPAN_SPANEVENTS_H
#define __SPAN_SPANEVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "span/spanfv_event.h"

struct span_fv_dispatcher;
struct span_fv_consumer;
struct bpf_object;

struct span_fv_opts {
	__u32 guest_id;		/* KVM_SPAN_GET_ACCESS's guest_id */
	__u32 view;		/* ... and view */
	__u64 guest_pages;	/* the dirty bitmap's size in bits (0: one word) */
	__u32 ring_bytes;	/* a power of two, >= the page size; 0: 256 KiB */
	__u32 wake_bytes;	/* async records wake at this fill; 0: each one */
	bool attach;		/* attach to span:span_mem_event (tests do not) */
	const char *pin_dir;	/* pin the maps there (made if missing); NULL: not */
	/* Another build of bpf/spanfv.bpf.c (tests); NULL: the built-in one. */
	const char *obj_path;
};

int span_fv_open(struct span_fv_dispatcher **out, const struct span_fv_opts *o,
		 char *why, size_t whylen);
/* Unloads the filter, detaches, unpins (and removes pin_dir if empty). */
void span_fv_close(struct span_fv_dispatcher *d);

/* The dispatcher program's fd (BPF_PROG_TEST_RUN in tests and benches). */
int span_fv_prog_fd(const struct span_fv_dispatcher *d);
/* Its BPF object (tests find their maps there). */
struct bpf_object *span_fv_object(const struct span_fv_dispatcher *d);
/* Its map fds: "events", "dirty", "stats", "delivery"; -ENOENT else. */
int span_fv_map_fd(const struct span_fv_dispatcher *d, const char *name);

/*
 * Check the filter in @path (a .bpf.o) and, if it passes, load it as the
 * freplace of the dispatcher's span_filter() and attach it (replacing any
 * filter loaded before).  Refused: anything that could read more than its
 * own events (README "The filter checker" lists the rules); @why names the
 * first rule broken.  -EPERM for a refused filter, other errnos for files
 * that cannot be read or loaded.
 */
int span_fv_filter_load(struct span_fv_dispatcher *d, const char *path,
			char *why, size_t whylen);
/* The checks alone, without a dispatcher to load into (0 or -EPERM...). */
int span_fv_filter_check(const char *path, char *why, size_t whylen);
/* Back to delivering everything; a no-op without a filter. */
void span_fv_filter_unload(struct span_fv_dispatcher *d);
/* The loaded filter's name (its file's, without .bpf.o), or NULL. */
const char *span_fv_filter_name(const struct span_fv_dispatcher *d);
/* The loaded filter's object (its maps, to configure it), or NULL. */
struct bpf_object *span_fv_filter_object(const struct span_fv_dispatcher *d);

/* The kernel side's counters, summed over CPUs (enum span_fv_stat). */
int span_fv_stats(const struct span_fv_dispatcher *d, __u64 out[SPAN_FV_STAT_NR]);
/* The same from a stats map's fd (pinned: spanmon). */
int span_fv_stats_read(int stats_fd, __u64 out[SPAN_FV_STAT_NR]);

/* Words (of 64 pages) in the dirty bitmap. */
size_t span_fv_dirty_words(const struct span_fv_dispatcher *d);
/*
 * Harvest the dirty bitmap: each word is fetched and cleared atomically
 * (a bit set meanwhile is in this harvest or the next, never lost), ORed
 * into @out (@words long, fewer are harvested if short).  Returns the
 * number of bits harvested.
 */
long span_fv_dirty_harvest(struct span_fv_dispatcher *d, __u64 *out, size_t words);

/*
 * A consumer of the dispatcher's ring: @fn is called for each record, in
 * ring order; a nonzero return stops the poll and is returned by it.
 * Each record's tracepoint-to-here latency goes into the dispatcher's
 * delivery histogram (shared memory: no syscall).
 */
typedef int (*span_fv_event_fn)(void *ctx, const struct span_fv_event *ev);

int span_fv_consumer_new(struct span_fv_consumer **out, struct span_fv_dispatcher *d,
			 span_fv_event_fn fn, void *ctx, char *why, size_t whylen);
/* The same on a ring and a delivery map from elsewhere (pinned maps). */
int span_fv_consumer_new_fds(struct span_fv_consumer **out, int events_fd, int delivery_fd,
			     span_fv_event_fn fn, void *ctx, char *why, size_t whylen);
/* Records handled (>= 0) or -errno; -EINTR is a signal, not an error. */
int span_fv_consumer_poll(struct span_fv_consumer *c, int timeout_ms);
int span_fv_consumer_consume(struct span_fv_consumer *c);
/* Records received so far, and lost ones (gaps in dseq) seen by this consumer. */
__u64 span_fv_consumer_received(const struct span_fv_consumer *c);
__u64 span_fv_consumer_lost(const struct span_fv_consumer *c);
void span_fv_consumer_free(struct span_fv_consumer *c);

#endif /* __SPAN_SPANEVENTS_H */
