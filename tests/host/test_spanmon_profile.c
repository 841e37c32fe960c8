// SPDX-License-Identifier: GPL-2.0
/*
 * spanmon profile's pure parts (spanmon/fold.c) on canned input: kallsyms
 * parsing and lookup, perf sample records, exit-reason attribution by
 * exit handler, folded stacks and their counts.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "span/util.h"
#include "fold.h"

static const char kallsyms[] =
	"ffffffff81200000 T vcpu_run\n"
	"ffffffff81100000 T _stext\n"
	"ffffffff81300000 t svm_handle_exit\n"
	"ffffffff81301000 t io_interception\n"
	"ffffffff81302000 t npf_interception\n"
	"ffffffff81400000 T kvm_emulate_cpuid\n"
	"ffffffff81500000 T kvm_fast_pio\n"
	"ffffffff81600000 D some_data\n"		/* not text: skipped */
	"0000000000000000 T hidden\n"			/* kptr_restrict: skipped */
	"ffffffffa0000000 t mod_fn\t[kvm_amd]\n";

static void load_syms(struct span_ksyms *k)
{
	FILE *f = fmemopen((void *)kallsyms, sizeof(kallsyms) - 1, "r");

	ASSERT_TRUE(f != NULL);
	ASSERT_EQ(span_ksyms_load(k, f), 0);
	fclose(f);
}

TEST(ksyms_find_the_enclosing_text_symbol)
{
	struct span_ksyms k;

	load_syms(&k);
	EXPECT_EQ(k.nr, 8);
	EXPECT_TRUE(span_ksyms_find(&k, 0xffffffff810fffffull) == NULL);
	EXPECT_STREQ(span_ksyms_find(&k, 0xffffffff81100000ull), "_stext");
	EXPECT_STREQ(span_ksyms_find(&k, 0xffffffff81200010ull), "vcpu_run");
	EXPECT_STREQ(span_ksyms_find(&k, 0xffffffff81301fffull), "io_interception");
	EXPECT_STREQ(span_ksyms_find(&k, 0xffffffff81302000ull), "npf_interception");
	/* some_data is not text: the address stays in kvm_fast_pio. */
	EXPECT_STREQ(span_ksyms_find(&k, 0xffffffff81600010ull), "kvm_fast_pio");
	EXPECT_STREQ(span_ksyms_find(&k, 0xffffffffa0000100ull), "mod_fn");
	span_ksyms_free(&k);
}

TEST(ksyms_without_addresses_are_an_error)
{
	static const char hidden[] = "0000000000000000 T a\n0000000000000000 t b\n";
	struct span_ksyms k;
	FILE *f = fmemopen((void *)hidden, sizeof(hidden) - 1, "r");

	ASSERT_TRUE(f != NULL);
	EXPECT_EQ(span_ksyms_load(&k, f), -ENOENT);
	fclose(f);
}

/* A PERF_RECORD_SAMPLE of TID|TIME|CALLCHAIN in @buf; returns its size. */
static size_t make_sample(uint64_t *buf, uint16_t misc, uint32_t pid, uint32_t tid,
			  uint64_t time, const uint64_t *ips, uint64_t nr)
{
	struct perf_event_header *h = (void *)buf;
	uint64_t *p = (uint64_t *)(h + 1);

	p[0] = pid | (uint64_t)tid << 32;
	p[1] = time;
	p[2] = nr;
	memcpy(&p[3], ips, nr * sizeof(*ips));
	h->type = PERF_RECORD_SAMPLE;
	h->misc = misc;
	h->size = sizeof(*h) + (3 + nr) * sizeof(uint64_t);
	return h->size;
}

/* Kernel leaf kvm_fast_pio in io_interception, then the VMM's ioctl. */
static const uint64_t io_chain[] = {
	PERF_CONTEXT_KERNEL, 0xffffffff81500040ull, 0xffffffff81301010ull,
	0xffffffff81300020ull, 0xffffffff81200030ull,
	PERF_CONTEXT_USER, 0x7f0000001234ull, 0x401000ull,
};

TEST(samples_parse_with_their_mode)
{
	uint64_t buf[64];
	struct perf_event_header hdr;
	struct span_prof_sample s;
	size_t len = make_sample(buf, PERF_RECORD_MISC_KERNEL, 42, 43, 777, io_chain,
				 ARRAY_SIZE(io_chain));

	ASSERT_EQ(span_prof_parse_sample(buf, len, &s), 0);
	EXPECT_EQ(s.pid, 42);
	EXPECT_EQ(s.tid, 43);
	EXPECT_EQ(s.time, 777);
	EXPECT_EQ(s.nr_ips, ARRAY_SIZE(io_chain));
	EXPECT_TRUE(s.ips[1] == io_chain[1]);
	EXPECT_EQ(s.mode, SPAN_PROF_HOST_KERNEL);

	make_sample(buf, PERF_RECORD_MISC_USER, 42, 43, 0, io_chain, 1);
	ASSERT_EQ(span_prof_parse_sample(buf, sizeof(buf), &s), 0);
	EXPECT_EQ(s.mode, SPAN_PROF_HOST_USER);
	make_sample(buf, PERF_RECORD_MISC_GUEST_KERNEL, 42, 43, 0, io_chain, 0);
	ASSERT_EQ(span_prof_parse_sample(buf, sizeof(buf), &s), 0);
	EXPECT_EQ(s.mode, SPAN_PROF_GUEST);
	make_sample(buf, PERF_RECORD_MISC_GUEST_USER, 42, 43, 0, io_chain, 0);
	ASSERT_EQ(span_prof_parse_sample(buf, sizeof(buf), &s), 0);
	EXPECT_EQ(s.mode, SPAN_PROF_GUEST);

	/* Cut short, a callchain longer than the record, not a sample. */
	len = make_sample(buf, PERF_RECORD_MISC_KERNEL, 1, 1, 0, io_chain, 4);
	EXPECT_EQ(span_prof_parse_sample(buf, len - 8, &s), -EINVAL);
	buf[3] = 5;	/* nr */
	EXPECT_EQ(span_prof_parse_sample(buf, len, &s), -EINVAL);
	len = make_sample(buf, PERF_RECORD_MISC_KERNEL, 1, 1, 0, io_chain, 4);
	hdr.type = PERF_RECORD_LOST;
	memcpy(&hdr.misc, (char *)buf + offsetof(struct perf_event_header, misc),
	       sizeof(hdr.misc));
	hdr.size = len;
	memcpy(buf, &hdr, sizeof(hdr));
	EXPECT_EQ(span_prof_parse_sample(buf, len, &s), -EINVAL);
}

static struct span_prof_sample sample_of(const uint64_t *ips, uint64_t nr,
					 enum span_prof_mode mode)
{
	struct span_prof_sample s = { .pid = 1, .tid = 1, .mode = mode,
				      .nr_ips = nr, .ips = ips };

	return s;
}

TEST(exit_reason_is_the_outermost_handler)
{
	/* kvm_emulate_cpuid (a handler) called from npf_interception. */
	static const uint64_t nested[] = {
		PERF_CONTEXT_KERNEL, 0xffffffff81400010ull, 0xffffffff81302010ull,
		0xffffffff81300010ull,
	};
	/* A user ip equal to a handler's address is not a kernel frame. */
	static const uint64_t user_only[] = {
		PERF_CONTEXT_KERNEL, 0xffffffff81200010ull,
		PERF_CONTEXT_USER, 0xffffffff81301010ull,
	};
	struct span_prof_sample s;
	struct span_ksyms k;

	load_syms(&k);
	s = sample_of(io_chain, ARRAY_SIZE(io_chain), SPAN_PROF_HOST_KERNEL);
	EXPECT_STREQ(span_prof_exit_reason(&s, &k), "ioio");
	s = sample_of(nested, ARRAY_SIZE(nested), SPAN_PROF_HOST_KERNEL);
	EXPECT_STREQ(span_prof_exit_reason(&s, &k), "npf");
	s = sample_of(user_only, ARRAY_SIZE(user_only), SPAN_PROF_HOST_KERNEL);
	EXPECT_TRUE(span_prof_exit_reason(&s, &k) == NULL);
	s = sample_of(io_chain, 0, SPAN_PROF_HOST_KERNEL);
	EXPECT_TRUE(span_prof_exit_reason(&s, &k) == NULL);
	span_ksyms_free(&k);
}

TEST(stacks_fold_root_first)
{
	static const uint64_t unknown[] = { PERF_CONTEXT_KERNEL, 0x1000ull,
					    0xffffffff81200000ull };
	struct span_prof_sample s;
	struct span_ksyms k;
	char buf[256];
	size_t n;

	load_syms(&k);
	s = sample_of(io_chain, ARRAY_SIZE(io_chain), SPAN_PROF_HOST_KERNEL);
	n = span_prof_fold(buf, sizeof(buf), "CPU 0/KVM", &s, &k);
	EXPECT_STREQ(buf, "CPU_0/KVM;0x401000;0x7f0000001234;vcpu_run;svm_handle_exit;"
		     "io_interception;kvm_fast_pio");
	EXPECT_EQ(n, strlen(buf));
	s = sample_of(unknown, ARRAY_SIZE(unknown), SPAN_PROF_HOST_KERNEL);
	span_prof_fold(buf, sizeof(buf), "a;b", &s, &k);
	EXPECT_STREQ(buf, "a_b;vcpu_run;[unknown]");
	s = sample_of(io_chain, ARRAY_SIZE(io_chain), SPAN_PROF_GUEST);
	span_prof_fold(buf, sizeof(buf), "kvmloop", &s, &k);
	EXPECT_STREQ(buf, "kvmloop;[guest]");
	/* Too long (one byte short of vcpu_run): cut at a frame boundary. */
	s = sample_of(io_chain, ARRAY_SIZE(io_chain), SPAN_PROF_HOST_KERNEL);
	n = span_prof_fold(buf, 40, "kvmloop", &s, &k);
	EXPECT_STREQ(buf, "kvmloop;0x401000;0x7f0000001234");
	EXPECT_EQ(n, 31);
	EXPECT_EQ(span_prof_fold(buf, 41, "kvmloop", &s, &k), 40);
	span_ksyms_free(&k);
}

TEST(folded_counts_merge_and_sort)
{
	struct span_counts c = {};
	char key[32], *text = NULL;
	size_t len = 0;
	unsigned int i;
	FILE *f;

	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "vm;f%04u", 999 - i);
		ASSERT_EQ(span_counts_add(&c, key, 1), 0);
	}
	ASSERT_EQ(span_counts_add(&c, "vm;f0000", 4), 0);
	ASSERT_EQ(span_counts_add(&c, "vm;f0001", 1), 0);
	EXPECT_EQ(c.nr, 1000);
	f = open_memstream(&text, &len);
	ASSERT_TRUE(f != NULL);
	EXPECT_EQ(span_counts_write(f, &c), 0);
	fclose(f);
	EXPECT_TRUE(!strncmp(text, "vm;f0000 5\nvm;f0001 2\nvm;f0002 1\n", 33));
	EXPECT_TRUE(strstr(text, "vm;f0999 1\n") != NULL);
	EXPECT_EQ(len, 1000 * strlen("vm;f0000 1\n"));
	free(text);
	span_counts_free(&c);
}
