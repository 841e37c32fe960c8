// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Events on guest-physical [40 MiB, 42 MiB) only (tests/lab/spanctl_events.sh). */
#define GFN_LO 0x2800
#define GFN_HI 0x2a00
#include "gfns.bpf.h"
