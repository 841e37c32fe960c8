/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __SPANMON_INFLIGHT_H
#define __SPANMON_INFLIGHT_H

#include <linux/types.h>

#include "spanmon.h"

/*
 * Delete the vcpu_inflight entries (map @fd) of vCPUs quiet since
 * @now_ns - @max_age_ns (bpf_ktime_get_ns() time).  Returns how many.
 */
int spanmon_inflight_prune(int fd, __u64 now_ns, __u64 max_age_ns);

#endif /* __SPANMON_INFLIGHT_H */
