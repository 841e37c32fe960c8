// SPDX-License-Identifier: GPL-2.0
/*
 * The vcpu_inflight map keeps one entry per vCPU seen (the programs never
 * delete: see spanmon.bpf.c).  A destroyed vCPU's entry would stay for
 * good and, given enough short-lived VMs, fill the map; this prunes the
 * entries whose vCPU has neither exited nor faulted for @max_age_ns.
 */
#include <errno.h>

#include <bpf/bpf.h>

#include "inflight.h"

int spanmon_inflight_prune(int fd, __u64 now_ns, __u64 max_age_ns)
{
	__u64 key, next, *prev = NULL;
	struct span_vcpu_inflight in;
	int pruned = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &in))
			continue;
		/* last_ns 0: made this instant, not yet written. */
		if (!in.last_ns || in.last_ns + max_age_ns > now_ns)
			continue;
		/*
		 * Deleting the current key is fine: get_next_key() of a key no
		 * longer there starts over, and what it finds again is young.
		 */
		if (bpf_map_delete_elem(fd, &key) == 0)
			pruned++;
	}
	return pruned;
}
