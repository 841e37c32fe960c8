// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Events on guest-physical [72 MiB, 74 MiB) only (tests/lab/spanctl_events.sh). */
#define GFN_LO 0x4800
#define GFN_HI 0x4a00
#include "gfns.bpf.h"
