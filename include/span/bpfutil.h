/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for span's libbpf tools (lib/bpfutil.c); they need libbpf, so
 * they are kept apart from util.h, which the plain programs use.
 */
#ifndef __SPAN_BPFUTIL_H
#define __SPAN_BPFUTIL_H

#include <stdbool.h>

struct btf;

/*
 * Does the running kernel have tracepoint @name?  Looks for the
 * btf_trace_<name> typedef that every BTF-visible tracepoint gets, in
 * @vmlinux (from btf__load_vmlinux_btf()).
 */
bool span_kernel_has_tp(const struct btf *vmlinux, const char *name);

#endif /* __SPAN_BPFUTIL_H */
