// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Events on gfns 0x1e00-0x1e7f only: with nokaslr, the first 512 KiB of
 * the lab kernel's .data (jiffies, vm_zone_stat), written all the time
 * (tests/lab/spanctl_events.sh).
 */
#define GFN_LO 0x1e00
#define GFN_HI 0x1e80
#include "gfns.bpf.h"
