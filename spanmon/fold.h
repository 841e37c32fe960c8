/* SPDX-License-Identifier: GPL-2.0 */
/*
 * spanmon profile's pure parts: kernel symbols from /proc/kallsyms, perf
 * sample records, exit-reason attribution by exit handler, and folded
 * stacks ("comm;root;...;leaf COUNT", what flamegraph.pl and speedscope
 * read).  No perf or BPF here: unit-tested on canned input.
 */
#ifndef __SPANMON_FOLD_H
#define __SPANMON_FOLD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct span_ksym {
	uint64_t addr;
	char *name;
};

struct span_ksyms {
	struct span_ksym *syms;	/* sorted by addr */
	size_t nr;
};

/*
 * Read kallsyms text ("ADDR TYPE NAME [MODULE]" lines): text symbols only
 * (t/T/w/W), zero addresses (kptr_restrict) skipped.  0 or -errno; with no
 * usable symbol, -ENOENT.
 */
int span_ksyms_load(struct span_ksyms *k, FILE *f);
/* The symbol @addr falls in (greatest start <= @addr), or NULL. */
const char *span_ksyms_find(const struct span_ksyms *k, uint64_t addr);
void span_ksyms_free(struct span_ksyms *k);

/* Where a sample was taken, from the record's misc field. */
enum span_prof_mode {
	SPAN_PROF_HOST_KERNEL,	/* KVM (and the rest of the kernel) */
	SPAN_PROF_HOST_USER,	/* the VMM process in user space */
	SPAN_PROF_GUEST,	/* the vCPU was in guest mode */
	SPAN_PROF_MODE_NR,
};

struct span_prof_sample {
	uint32_t pid, tid;
	uint64_t time;
	enum span_prof_mode mode;
	uint64_t nr_ips;
	const uint64_t *ips;	/* leaf first, PERF_CONTEXT_* markers included */
};

/*
 * Parse a PERF_RECORD_SAMPLE of sample_type TID|TIME|CALLCHAIN (@rec
 * points at its struct perf_event_header, @len bytes).  0 or -EINVAL.
 */
int span_prof_parse_sample(const void *rec, size_t len, struct span_prof_sample *s);

/*
 * The exit reason whose handler the kernel stack is in: the outermost
 * SVM/VMX exit handler among @s's kernel frames, named as spanmon names
 * reasons ("ioio", "npf", "io_instruction", ...); NULL when none is.
 */
const char *span_prof_exit_reason(const struct span_prof_sample *s,
				  const struct span_ksyms *k);

/*
 * @s as one folded stack, root first: "COMM;kframe;...;uframe".  Kernel
 * frames by symbol ("[unknown]" outside kallsyms), user frames as 0xADDR,
 * a guest sample as COMM;[guest].  Returns the length (truncated at the
 * frame that does not fit in @len).
 */
size_t span_prof_fold(char *buf, size_t len, const char *comm,
		      const struct span_prof_sample *s, const struct span_ksyms *k);

/* Distinct strings with counts: the folded stacks. */
struct span_counts {
	char **keys;
	uint64_t *counts;
	size_t nr, cap;		/* open addressing, cap a power of 2 */
};

int span_counts_add(struct span_counts *c, const char *key, uint64_t n);
/* "KEY COUNT" lines, sorted by key.  0 or -errno. */
int span_counts_write(FILE *f, const struct span_counts *c);
void span_counts_free(struct span_counts *c);

#endif /* __SPANMON_FOLD_H */
