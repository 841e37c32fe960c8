/* SPDX-License-Identifier: GPL-2.0 */
/*
 * spanmon's BPF lifecycle: checks (root, BTF, tracepoints), open, pin,
 * load, attach; snapshots of every map; clean detach.
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
	bool attach;		/* false: load only (feed, tests) */
	bool all_programs;	/* load even programs whose tracepoint is absent */
	bool fake_clock;	/* time from bss fake_clock_ns, the running vCPU
				 * from fake_running_vcpu (feed, tests) */
	bool verbose;		/* libbpf debug output */
	bool quiet;		/* no warnings about optional tracepoints */
};

struct spanmon_collect {
	struct spanmon_bpf *skel;
	struct btf *vmlinux;
};

/*
 * Everything up to attached programs.  On failure, one line on stderr
 * saying why, and a negative errno.
 */
int spanmon_collect_open(struct spanmon_collect *c, const struct spanmon_collect_opts *o);
/* Detach and free; pinned maps stay, with their counts. */
void spanmon_collect_close(struct spanmon_collect *c);
/* Read every map into @s (free it with spanmon_snapshot_free()). */
int spanmon_collect_snapshot(struct spanmon_collect *c, struct spanmon_snapshot *s);
/* Unpin the maps under @pin_dir and remove it: accumulated state is gone. */
int spanmon_collect_reset(const char *pin_dir);

/* Maps that are pinned (the accumulated state). */
extern const char *const spanmon_pinned_maps[];

#endif /* __SPANMON_COLLECT_H */
