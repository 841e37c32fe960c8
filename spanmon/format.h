/* SPDX-License-Identifier: GPL-2.0 */
/*
 * spanmon's snapshot (every map, read once) and its three renderings:
 * terminal text, JSON and the Prometheus text exposition format.  Pure
 * functions of the snapshot, so they are unit-tested without BPF.
 */
#ifndef __SPANMON_FORMAT_H
#define __SPANMON_FORMAT_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "spanmon.h"
#include "span/spanfv_event.h"

#define SPANMON_LABEL_LEN 40

struct spanmon_series {
	struct span_hist_key key;
	struct span_hist hist;
};

struct spanmon_vm {
	__u32 tgid;
	struct span_vm vm;
	/* "comm-N": N orders the VMs of one comm by first sight.  Bounded by
	 * the vms map, never a pid. */
	char label[SPANMON_LABEL_LEN];
};

/* One op_counts entry: span events of one VM, op and reason. */
struct spanmon_opcount {
	struct span_op_key key;
	struct span_op_count c;
};

/*
 * A featurevisor's event dispatcher, from its maps pinned under
 * SPAN_FV_PIN_ROOT/GUEST-VIEW/ (lib/spanevents.c).
 */
struct spanmon_fv {
	__u32 guest, view;
	__u64 stats[SPAN_FV_STAT_NR];	/* enum span_fv_stat, summed over CPUs */
	struct span_hist delivery;	/* tracepoint -> consumer, by the consumers */
};

struct spanmon_snapshot {
	struct spanmon_fv *fvs;
	size_t nr_fvs;
	struct spanmon_series *series;
	size_t nr_series;
	struct spanmon_vm *vms;
	size_t nr_vms;
	struct spanmon_opcount *ops;
	size_t nr_ops;
	__u64 drops[SPAN_DROP_NR];
	__u64 time_ns;	/* CLOCK_REALTIME when taken */
};

/* Give every VM its label (call once the vms are filled in). */
void spanmon_label_vms(struct spanmon_snapshot *s);
/* The label of @tgid's VM; "unknown" when the vms map had no room. */
const char *spanmon_vm_label(const struct spanmon_snapshot *s, __u32 tgid);
void spanmon_snapshot_free(struct spanmon_snapshot *s);

/*
 * What happened since @base: every count of @s less @base's (series and
 * span event counts matched by key, drops by map); those left at zero go.
 * For runs scoped to a duration or a command.
 */
void spanmon_snapshot_sub(struct spanmon_snapshot *s, const struct spanmon_snapshot *base);
/*
 * Keep only the VM of process @tgid (0: any) and the VM labelled @vm
 * (NULL: any), in series, span event counts and the VM list; labels are
 * kept as they were (call after spanmon_label_vms()).
 */
void spanmon_snapshot_filter(struct spanmon_snapshot *s, __u32 tgid, const char *vm);

/* Bounded names for Prometheus labels and JSON. */
const char *spanmon_reason_name(__u32 isa, __u32 reason, char *buf, size_t len);
const char *spanmon_op_name(__u32 op);
const char *spanmon_span_reason_name(__u32 reason);
const char *spanmon_drop_name(__u32 drop);
const char *spanmon_kind_name(__u32 kind);

/* Write @s as a Prometheus label value: \ " and newline escaped. */
void spanmon_prom_escape(FILE *f, const char *s);

int spanmon_format_prometheus(FILE *f, const struct spanmon_snapshot *s,
			      const char *version);
/* One JSON object on one line. */
int spanmon_format_json(FILE *f, const struct spanmon_snapshot *s);

struct spanmon_top_opts {
	bool per_vcpu;		/* one series per vCPU (default: per VM) */
	const char *title;	/* after the time in the header (NULL: none) */
	unsigned int limit;	/* series shown, busiest first; 0: all */
};
int spanmon_format_top(FILE *f, const struct spanmon_snapshot *s,
		       const struct spanmon_top_opts *o);

#endif /* __SPANMON_FORMAT_H */
