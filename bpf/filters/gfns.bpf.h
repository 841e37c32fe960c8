/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A filter for a fixed gfn range [GFN_LO, GFN_HI), set by the file that
 * includes this one (range.bpf.c keeps its range in a map instead, for a
 * featurevisor that moves it; spanctl filter load has no way to set one).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "span/spanfv_event.h"

SPAN_FILTER_SEC
int span_filter(struct span_fv_event *ev)
{
	if (!ev)
		return 0;
	if (ev->gfn < GFN_LO || ev->gfn >= GFN_HI)
		ev->drop = 1;
	else
		ev->user[0] = GFN_LO;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
