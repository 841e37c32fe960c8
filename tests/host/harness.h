/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small unit-test harness for span's user-space C code.
 *
 *	TEST(parse_rejects_sign) {
 *		uint64_t v;
 *		EXPECT_EQ(span_parse_u64("-1", 0, 10, &v), -EINVAL);
 *		ASSERT_TRUE(ptr != NULL);   // ends this test on failure
 *	}
 *
 * Every TEST() in the linked files runs; each prints one TAP line, and with
 * --results FILE one "PASS|FAIL<TAB>host:SUITE:NAME" line is appended there.
 * EXPECT_* records a failure and goes on; ASSERT_* also ends the test;
 * SKIP("why") ends it as skipped ("ok N - name # SKIP why", and a SKIP line).
 */
#ifndef __SPAN_HARNESS_H
#define __SPAN_HARNESS_H

#include <setjmp.h>
#include <stdbool.h>
#include <string.h>

struct span_test {
	const char *name;
	const char *file;
	void (*fn)(void);
	struct span_test *next;
};

void span_test_register(struct span_test *t);
/* End this test as skipped (not passed, not failed), saying why. */
void span_test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void span_test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
extern jmp_buf span_test_abort;

#define TEST(name)							\
	static void test_##name(void);					\
	__attribute__((constructor)) static void register_##name(void)	\
	{								\
		static struct span_test t = { #name, __FILE__, test_##name, NULL }; \
		span_test_register(&t);					\
	}								\
	static void test_##name(void)

#define __CHECK(cond, abort, fmt, ...)					\
	do {								\
		if (!(cond)) {						\
			span_test_fail(__FILE__, __LINE__, fmt, ##__VA_ARGS__); \
			if (abort)					\
				longjmp(span_test_abort, 1);		\
		}							\
	} while (0)

#define __CMP_INT(a, op, b, abort)					\
	do {								\
		long long __a = (long long)(a), __b = (long long)(b);	\
		__CHECK(__a op __b, abort, "%s %s %s: %lld vs %lld",	\
			#a, #op, #b, __a, __b);				\
	} while (0)

#define EXPECT_EQ(a, b) __CMP_INT(a, ==, b, 0)
#define EXPECT_NE(a, b) __CMP_INT(a, !=, b, 0)
#define EXPECT_LT(a, b) __CMP_INT(a, <, b, 0)
#define EXPECT_LE(a, b) __CMP_INT(a, <=, b, 0)
#define EXPECT_GE(a, b) __CMP_INT(a, >=, b, 0)
#define EXPECT_TRUE(c) __CHECK(c, 0, "%s is false", #c)
#define EXPECT_STREQ(a, b)						\
	__CHECK(strcmp((a), (b)) == 0, 0, "%s == %s: \"%s\" vs \"%s\"", \
		#a, #b, (a), (b))
#define ASSERT_EQ(a, b) __CMP_INT(a, ==, b, 1)
#define ASSERT_TRUE(c) __CHECK(c, 1, "%s is false", #c)
#define SKIP(fmt, ...) span_test_skip(fmt, ##__VA_ARGS__)

#endif /* __SPAN_HARNESS_H */
