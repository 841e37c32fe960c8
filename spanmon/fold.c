// SPDX-License-Identifier: GPL-2.0
/* spanmon profile's pure parts: see fold.h. */
#include <errno.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "span/util.h"
#include "fold.h"

/* ---- kernel symbols --------------------------------------------------------- */

static int ksym_cmp(const void *a, const void *b)
{
	const struct span_ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

int span_ksyms_load(struct span_ksyms *k, FILE *f)
{
	char line[512], name[256], type;
	unsigned long long addr;
	size_t cap = 0;

	memset(k, 0, sizeof(*k));
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 || !addr)
			continue;
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		if (k->nr == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			void *p = realloc(k->syms, ncap * sizeof(*k->syms));

			if (!p)
				goto nomem;
			k->syms = p;
			cap = ncap;
		}
		k->syms[k->nr].addr = addr;
		k->syms[k->nr].name = strdup(name);
		if (!k->syms[k->nr].name)
			goto nomem;
		k->nr++;
	}
	if (!k->nr)
		return -ENOENT;
	qsort(k->syms, k->nr, sizeof(*k->syms), ksym_cmp);
	return 0;
nomem:
	span_ksyms_free(k);
	return -ENOMEM;
}

const char *span_ksyms_find(const struct span_ksyms *k, uint64_t addr)
{
	size_t lo = 0, hi = k->nr;

	/* The last symbol starting at or below addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? k->syms[lo - 1].name : NULL;
}

void span_ksyms_free(struct span_ksyms *k)
{
	size_t i;

	for (i = 0; i < k->nr; i++)
		free(k->syms[i].name);
	free(k->syms);
	memset(k, 0, sizeof(*k));
}

/* ---- samples ------------------------------------------------------------------ */

int span_prof_parse_sample(const void *rec, size_t len, struct span_prof_sample *s)
{
	const struct perf_event_header *h = rec;
	const uint64_t *p = (const uint64_t *)(h + 1);
	size_t words;

	if (len < sizeof(*h) || h->type != PERF_RECORD_SAMPLE || h->size > len)
		return -EINVAL;
	words = (h->size - sizeof(*h)) / sizeof(uint64_t);
	/* pid/tid, time, nr */
	if (words < 3)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->pid = (uint32_t)p[0];
	s->tid = (uint32_t)(p[0] >> 32);
	s->time = p[1];
	s->nr_ips = p[2];
	if (s->nr_ips > words - 3)
		return -EINVAL;
	s->ips = &p[3];
	switch (h->misc & PERF_RECORD_MISC_CPUMODE_MASK) {
	case PERF_RECORD_MISC_GUEST_KERNEL:
	case PERF_RECORD_MISC_GUEST_USER:
		s->mode = SPAN_PROF_GUEST;
		break;
	case PERF_RECORD_MISC_USER:
		s->mode = SPAN_PROF_HOST_USER;
		break;
	default:
		s->mode = SPAN_PROF_HOST_KERNEL;
	}
	return 0;
}

/*
 * The functions svm_exit_handlers[] and kvm_vmx_exit_handlers[] dispatch
 * to (6.12; a kernel that renames one just files its samples under no
 * reason), named as spanmon names reasons (format.c).
 */
static const struct {
	const char *fn, *reason;
} exit_handlers[] = {
	/* SVM */
	{ "io_interception", "ioio" }, { "npf_interception", "npf" },
	{ "msr_interception", "msr" }, { "cpuid_interception", "cpuid" },
	{ "halt_interception", "hlt" }, { "intr_interception", "intr" },
	{ "nmi_interception", "nmi" }, { "smi_interception", "smi" },
	{ "interrupt_window_interception", "vintr" },
	{ "pause_interception", "pause" }, { "iret_interception", "iret" },
	{ "invlpg_interception", "invlpg" }, { "invlpga_interception", "invlpga" },
	{ "shutdown_interception", "shutdown" }, { "vmrun_interception", "vmrun" },
	{ "vmload_interception", "vmload" }, { "vmsave_interception", "vmsave" },
	{ "stgi_interception", "stgi" }, { "clgi_interception", "clgi" },
	{ "task_switch_interception", "task_switch" },
	{ "cr_interception", "cr" }, { "cr_trap", "cr" },
	{ "dr_interception", "dr" }, { "pf_interception", "excp14" },
	{ "ud_interception", "excp6" }, { "gp_interception", "excp13" },
	{ "db_interception", "excp1" }, { "bp_interception", "excp3" },
	{ "rdpmc_interception", "rdpmc" }, { "xsetbv_interception", "xsetbv" },
	{ "invpcid_interception", "invpcid" }, { "efer_trap", "efer_write_trap" },
	/* VMX */
	{ "handle_io", "io_instruction" }, { "handle_ept_violation", "ept_violation" },
	{ "handle_ept_misconfig", "ept_misconfig" }, { "handle_cr", "cr_access" },
	{ "handle_dr", "dr_access" }, { "handle_exception_nmi", "exception_nmi" },
	{ "handle_external_interrupt", "external_interrupt" },
	{ "handle_interrupt_window", "interrupt_window" },
	{ "handle_apic_access", "apic_access" }, { "handle_apic_write", "apic_write" },
	{ "handle_preemption_timer", "preemption_timer" },
	{ "handle_pause", "pause" }, { "handle_vmcall", "vmcall" },
	{ "handle_triple_fault", "triple_fault" }, { "handle_task_switch", "task_switch" },
	/* both (the handler is KVM's common one) */
	{ "kvm_emulate_cpuid", "cpuid" }, { "kvm_emulate_halt", "hlt" },
	{ "kvm_emulate_hypercall", "vmmcall" }, { "kvm_emulate_rdmsr", "msr" },
	{ "kvm_emulate_wrmsr", "msr" }, { "kvm_emulate_wbinvd", "wbinvd" },
	{ "kvm_emulate_xsetbv", "xsetbv" }, { "kvm_emulate_rdpmc", "rdpmc" },
	{ "kvm_emulate_mwait", "mwait" }, { "kvm_emulate_monitor", "monitor" },
	{ "kvm_emulate_invd", "invd" }, { "kvm_emulate_as_nop", "nop" },
	{ "kvm_handle_invalid_op", "invalid_op" },
};

static const char *handler_reason(const char *fn)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(exit_handlers); i++)
		if (!strcmp(fn, exit_handlers[i].fn))
			return exit_handlers[i].reason;
	return NULL;
}

const char *span_prof_exit_reason(const struct span_prof_sample *s,
				  const struct span_ksyms *k)
{
	const char *reason = NULL, *r, *fn;
	bool kernel = false;
	uint64_t i;

	/* Leaf first: the last handler seen is the outermost, the dispatched one. */
	for (i = 0; i < s->nr_ips; i++) {
		if (s->ips[i] >= PERF_CONTEXT_MAX) {
			kernel = s->ips[i] == PERF_CONTEXT_KERNEL;
			continue;
		}
		if (!kernel)
			continue;
		fn = span_ksyms_find(k, s->ips[i]);
		r = fn ? handler_reason(fn) : NULL;
		if (r)
			reason = r;
	}
	return reason;
}

/* Append ";frame" (or "frame" first); false when it does not fit. */
static bool put(char *buf, size_t len, size_t *at, const char *frame)
{
	int n = snprintf(buf + *at, len - *at, "%s%s", *at ? ";" : "", frame);

	if (n < 0 || (size_t)n >= len - *at) {
		buf[*at] = '\0';
		return false;
	}
	*at += n;
	return true;
}

#define FOLD_MAX_FRAMES 256

size_t span_prof_fold(char *buf, size_t len, const char *comm,
		      const struct span_prof_sample *s, const struct span_ksyms *k)
{
	char name[64], user[FOLD_MAX_FRAMES][20];
	const char *frames[FOLD_MAX_FRAMES];
	size_t at = 0, n = 0, i;
	uint64_t ctx = 0;

	if (!len)
		return 0;
	buf[0] = '\0';
	/* ';' and ' ' separate frames and counts: not in a frame's name. */
	snprintf(name, sizeof(name), "%s", comm);
	for (i = 0; name[i]; i++)
		if (name[i] == ';' || name[i] == ' ')
			name[i] = '_';
	if (!put(buf, len, &at, name))
		return at;
	if (s->mode == SPAN_PROF_GUEST) {
		put(buf, len, &at, "[guest]");
		return at;
	}
	/* Leaf first, each ip in the context of the last marker before it. */
	for (i = 0; i < s->nr_ips && n < FOLD_MAX_FRAMES; i++) {
		uint64_t ip = s->ips[i];

		if (ip >= PERF_CONTEXT_MAX) {
			ctx = ip;
			continue;
		}
		if (ctx == PERF_CONTEXT_USER) {
			snprintf(user[n], sizeof(user[n]), "0x%" PRIx64, ip);
			frames[n] = user[n];
		} else {
			frames[n] = span_ksyms_find(k, ip);
			if (!frames[n])
				frames[n] = "[unknown]";
		}
		n++;
	}
	/* Root first. */
	while (n-- > 0)
		if (!put(buf, len, &at, frames[n]))
			break;
	return at;
}

/* ---- counted strings ------------------------------------------------------------ */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static int counts_grow(struct span_counts *c)
{
	size_t ncap = c->cap ? c->cap * 2 : 256, i, j;
	char **keys = calloc(ncap, sizeof(*keys));
	uint64_t *counts = calloc(ncap, sizeof(*counts));

	if (!keys || !counts) {
		free(keys);
		free(counts);
		return -ENOMEM;
	}
	for (i = 0; i < c->cap; i++) {
		if (!c->keys[i])
			continue;
		for (j = hash_str(c->keys[i]) & (ncap - 1); keys[j]; j = (j + 1) & (ncap - 1))
			;
		keys[j] = c->keys[i];
		counts[j] = c->counts[i];
	}
	free(c->keys);
	free(c->counts);
	c->keys = keys;
	c->counts = counts;
	c->cap = ncap;
	return 0;
}

int span_counts_add(struct span_counts *c, const char *key, uint64_t n)
{
	size_t j;

	if ((c->nr + 1) * 2 > c->cap && counts_grow(c))
		return -ENOMEM;
	for (j = hash_str(key) & (c->cap - 1); c->keys[j]; j = (j + 1) & (c->cap - 1))
		if (!strcmp(c->keys[j], key)) {
			c->counts[j] += n;
			return 0;
		}
	c->keys[j] = strdup(key);
	if (!c->keys[j])
		return -ENOMEM;
	c->counts[j] = n;
	c->nr++;
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int span_counts_write(FILE *f, const struct span_counts *c)
{
	char **keys = malloc((c->nr ? c->nr : 1) * sizeof(*keys));
	size_t i, n = 0;

	if (!keys)
		return -ENOMEM;
	for (i = 0; i < c->cap; i++)
		if (c->keys[i])
			keys[n++] = c->keys[i];
	qsort(keys, n, sizeof(*keys), str_cmp);
	for (i = 0; i < n; i++) {
		/* Found again by hashing: the count sits beside the key. */
		size_t j = hash_str(keys[i]) & (c->cap - 1);

		while (strcmp(c->keys[j], keys[i]))
			j = (j + 1) & (c->cap - 1);
		fprintf(f, "%s %" PRIu64 "\n", keys[i], c->counts[j]);
	}
	free(keys);
	return ferror(f) ? -EIO : 0;
}

void span_counts_free(struct span_counts *c)
{
	size_t i;

	for (i = 0; i < c->cap; i++)
		free(c->keys[i]);
	free(c->keys);
	free(c->counts);
	memset(c, 0, sizeof(*c));
}
