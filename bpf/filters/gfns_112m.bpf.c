// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Events on guest-physical [112 MiB, 120 MiB) only (tests/lab/spanctl_events.sh). */
#define GFN_LO 0x7000
#define GFN_HI 0x7800
#include "gfns.bpf.h"
