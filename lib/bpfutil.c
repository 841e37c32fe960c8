// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>

#include <bpf/btf.h>

#include "span/bpfutil.h"

bool span_kernel_has_tp(const struct btf *vmlinux, const char *name)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "btf_trace_%s", name);
	return btf__find_by_name_kind(vmlinux, buf, BTF_KIND_TYPEDEF) > 0;
}
