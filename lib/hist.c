// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "span/hist.h"

unsigned int span_hist_slot(uint64_t ns)
{
	unsigned int e;

	if (ns < 2 * SPAN_HIST_SUB)
		return ns;
	e = 63 - __builtin_clzll(ns);
	if (e > SPAN_HIST_MAX_EXP)
		return SPAN_HIST_SLOTS - 1;
	return ((e - SPAN_HIST_SUB_BITS) << SPAN_HIST_SUB_BITS) + (ns >> (e - SPAN_HIST_SUB_BITS));
}

/* Slot @i >= 2 * SPAN_HIST_SUB: the power of two it splits. */
static unsigned int slot_exp(unsigned int i)
{
	return (i >> SPAN_HIST_SUB_BITS) + SPAN_HIST_SUB_BITS - 1;
}

uint64_t span_hist_slot_low_ns(unsigned int i)
{
	unsigned int e;

	if (i < 2 * SPAN_HIST_SUB)
		return i;
	if (i >= SPAN_HIST_SLOTS - 1)
		return 1ull << (SPAN_HIST_MAX_EXP + 1);
	e = slot_exp(i);
	return (uint64_t)((i & (SPAN_HIST_SUB - 1)) + SPAN_HIST_SUB) << (e - SPAN_HIST_SUB_BITS);
}

uint64_t span_hist_slot_high_ns(unsigned int i)
{
	if (i < 2 * SPAN_HIST_SUB)
		return i + 1;
	if (i >= SPAN_HIST_SLOTS - 1)
		return UINT64_MAX;
	return span_hist_slot_low_ns(i) + (1ull << (slot_exp(i) - SPAN_HIST_SUB_BITS));
}

double span_hist_slot_le_seconds(unsigned int i)
{
	return (double)span_hist_slot_high_ns(i) / 1e9;
}

__u64 span_hist_count(const __u64 *slots, unsigned int nslots)
{
	__u64 n = 0;
	unsigned int i;

	for (i = 0; i < nslots; i++)
		n += slots[i];
	return n;
}

double span_hist_quantile_ns(const __u64 *slots, double q)
{
	__u64 count = span_hist_count(slots, SPAN_HIST_SLOTS), cum = 0;
	double rank, lo, hi;
	unsigned int i;

	if (!count)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	rank = q * (double)count;
	for (i = 0; i < SPAN_HIST_SLOTS; i++) {
		if (!slots[i] || (double)(cum + slots[i]) < rank) {
			cum += slots[i];
			continue;
		}
		lo = (double)span_hist_slot_low_ns(i);
		if (i == SPAN_HIST_SLOTS - 1)
			return lo;
		hi = (double)span_hist_slot_high_ns(i);
		return lo + (hi - lo) * (rank - (double)cum) / (double)slots[i];
	}
	return (double)span_hist_slot_low_ns(SPAN_HIST_SLOTS - 1);
}

void span_hist_fold_log2(const __u64 *slots, __u64 log2[SPAN_HIST_LOG2_SLOTS])
{
	unsigned int i;

	memset(log2, 0, SPAN_HIST_LOG2_SLOTS * sizeof(log2[0]));
	for (i = 0; i < SPAN_HIST_SLOTS - 1; i++) {
		uint64_t low = span_hist_slot_low_ns(i);

		log2[low ? 63 - __builtin_clzll(low) : 0] += slots[i];
	}
	log2[SPAN_HIST_LOG2_SLOTS - 1] += slots[SPAN_HIST_SLOTS - 1];
}

static void print_stars(FILE *f, __u64 val, __u64 val_max, int width)
{
	int num_stars = (int)((double)(val < val_max ? val : val_max) * width /
			      (double)val_max);
	int i;

	for (i = 0; i < num_stars; i++)
		fputc('*', f);
	for (; i < width; i++)
		fputc(' ', f);
	if (val > val_max)
		fputc('+', f);
}

void span_print_log2_hist(FILE *f, const __u64 *slots, unsigned int nslots,
			  const char *unit)
{
	int idx_min = -1, idx_max = -1, i;
	__u64 val_max = 0;

	for (i = 0; i < (int)nslots; i++) {
		if (slots[i] > 0) {
			if (idx_min < 0)
				idx_min = i;
			idx_max = i;
		}
		if (slots[i] > val_max)
			val_max = slots[i];
	}
	if (idx_max < 0)
		return;
	fprintf(f, "%*s%-*s : count    distribution\n", 11, "", 13, unit);
	/* Only the nonzero range: a live view has 24 lines, not 40 slots. */
	for (i = idx_min; i <= idx_max; i++) {
		uint64_t low = i ? 1ull << i : 0;
		uint64_t high = (1ull << (i + 1)) - 1;

		if (i == (int)nslots - 1)
			fprintf(f, "%10llu -> %-10s : %-8llu |", (unsigned long long)low,
				"inf", (unsigned long long)slots[i]);
		else
			fprintf(f, "%10llu -> %-10llu : %-8llu |",
				(unsigned long long)low, (unsigned long long)high,
				(unsigned long long)slots[i]);
		print_stars(f, slots[i], val_max, 40);
		fputs("|\n", f);
	}
}

const char *span_fmt_ns(double ns, char *buf, size_t len)
{
	if (ns < 1e3)
		snprintf(buf, len, "%.0fns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.1fms", ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", ns / 1e9);
	return buf;
}
