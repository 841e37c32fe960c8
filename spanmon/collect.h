/* SPDX-License-Identifier: GPL-2.0 */
/*
 * spanmon's BPF lifecycle: checks (root, BTF, tracepoints), open, pin,
 * load, attach; snapshots of every map; clean detach.
 *
 * One collector per pin directory: every spanmon holds the directory
 * flock()ed shared, and the one holding its "collector" subdirectory
 * exclusively is the one whose programs are attached; the others only
 * read the pinned maps (and take over, at their next refresh, when the
 * collector exits).  So every event is counted once whatever the number
 * of readers.  --reset takes the directory exclusively: never while any
 * other spanmon uses it.
 */
#ifndef __SPANMON_COLLECT_H
#define __SPANMON_COLLECT_H

#include <stdbool.h>

#include "format.h"

#define SPANMON_PIN_DIR "/sys/fs/bpf/spanmon"

struct spanmon_bpf;
struct btf;

struct spanmon_collect_opts {
	const char *pin_dir;	/* NULL: do not pin (tests) */
	bool attach;		/* collect (attach) unless another spanmon does;
				 * false: load only (feed, tests) */
	bool all_programs;	/* load even programs whose tracepoint is absent */
	bool fake_clock;	/* time from bss fake_clock_ns, the running vCPU
				 * from fake_running_vcpu (feed, tests) */
	bool verbose;		/* libbpf debug output */
	bool quiet;		/* no warnings about optional tracepoints */
};

struct spanmon_collect {
	struct spanmon_bpf *skel;
	struct btf *vmlinux;
	int dir_fd;		/* the pin directory, flock()ed shared; -1 */
	int owner_fd;		/* its collector subdirectory; -1 */
	bool collecting;	/* this process's programs are attached */
	bool verbose;
};

/*
 * Everything up to attached programs.  On failure, one line on stderr
 * saying why, and a negative errno.
 */
int spanmon_collect_open(struct spanmon_collect *c, const struct spanmon_collect_opts *o);
/*
 * A reader becomes the collector if the collector has gone (called at
 * every refresh).  1 when it took over, 0 when nothing changed, negative
 * errno with one line on stderr.
 */
int spanmon_collect_poll(struct spanmon_collect *c);
/* Detach and free; pinned maps stay, with their counts. */
void spanmon_collect_close(struct spanmon_collect *c);
/* Read every map into @s (free it with spanmon_snapshot_free()). */
int spanmon_collect_snapshot(struct spanmon_collect *c, struct spanmon_snapshot *s);
/*
 * Unpin the maps under @pin_dir and remove it: accumulated state is gone.
 * Refused (-EBUSY, one line on stderr) while another spanmon uses it.
 */
int spanmon_collect_reset(const char *pin_dir);

/*
 * The featurevisor dispatchers pinned under @root (SPAN_FV_PIN_ROOT) into
 * s->fvs; a missing @root is none.  0 or -errno.
 */
int spanmon_read_fvs(const char *root, struct spanmon_snapshot *s);

/* Maps that are pinned (the accumulated state). */
extern const char *const spanmon_pinned_maps[];

#endif /* __SPANMON_COLLECT_H */
