// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The dispatcher with filter SPANFV_FILTER built in as its span_filter()
 * (a global function, verified on its own as an freplace program is), for
 * hosts whose kernel refuses BPF trampolines (freplace loads fail with
 * EPERM there): the same dispatcher and filter code, linked statically.
 * Built once per filter by the Makefile.
 */
#define SPANFV_INLINE_FILTER
#include "spanfv.bpf.c"
#define LICENSE LICENSE_filter
#include SPANFV_FILTER
