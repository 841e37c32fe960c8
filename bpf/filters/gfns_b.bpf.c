// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Events on gfns 0x1e80-0x1f7f only: with nokaslr, the rest of the lab
 * kernel's .data (rcu_state, tk_core, contig_page_data), written all the
 * time (tests/lab/spanctl_events.sh).
 */
#define GFN_LO 0x1e80
#define GFN_HI 0x1f80
#include "gfns.bpf.h"
