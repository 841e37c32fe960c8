// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Events on guest-physical [88 MiB, 96 MiB) only (tests/lab/spanctl_events.sh). */
#define GFN_LO 0x5800
#define GFN_HI 0x6000
#include "gfns.bpf.h"
