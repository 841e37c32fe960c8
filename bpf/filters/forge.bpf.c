// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A test filter that tries to forge the record: it rewrites every trusted
 * field.  The checker lets it load (it reads nothing it should not); the
 * dispatcher hands it a copy and keeps only its verdict and user[], so only
 * user[] survives.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "span/spanfv_event.h"

SPAN_FILTER_SEC
int span_filter(struct span_fv_event *ev)
{
	if (!ev)
		return 0;
	ev->seq = 0xdead;
	ev->dseq = 0xdead;
	ev->gfn = 0xbad;
	ev->ts_ns = 1;
	ev->guest = 99;
	ev->view = 99;
	ev->l1 = 99;
	ev->vcpu = 99;
	ev->access = 0;
	ev->flags = 0;
	ev->user[1] = 0xf0f0;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
