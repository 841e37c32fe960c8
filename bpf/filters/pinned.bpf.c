// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A test filter the checker must refuse: a pinned map (by name, libbpf
 * would reuse whatever map is pinned there: someone else's).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "span/spanfv_event.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} spanfv_shared SEC(".maps");

SPAN_FILTER_SEC
int span_filter(struct span_fv_event *ev)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&spanfv_shared, &zero);

	if (n)
		*n += 1;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
