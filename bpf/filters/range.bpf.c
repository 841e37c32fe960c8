// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Deliver only events on gfns in [lo, hi), tagged user[0] = tag; the range
 * lives in this filter's own map, so the featurevisor can move it at run
 * time (bpf_map_update_elem on the map's fd).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "span/spanfv_event.h"

struct gfn_range {
	__u64 lo, hi;	/* gfns, hi excluded */
	__u64 tag;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gfn_range);
} range SEC(".maps");

SPAN_FILTER_SEC
int span_filter(struct span_fv_event *ev)
{
	__u32 zero = 0;
	struct gfn_range *r = bpf_map_lookup_elem(&range, &zero);

	if (!ev)
		return 0;
	if (!r || ev->gfn < r->lo || ev->gfn >= r->hi) {
		ev->drop = 1;
		return 0;
	}
	ev->user[0] = r->tag;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
