// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A test filter: counts the events it is shown (in its own map) and
 * delivers them all, tagging user[0] with the count so far.  The tests use
 * it to prove a filter never sees another featurevisor's events.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "span/spanfv_event.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

SPAN_FILTER_SEC
int span_filter(struct span_fv_event *ev)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&calls, &zero);

	if (!ev || !n)
		return 0;
	ev->user[0] = __sync_add_and_fetch(n, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
