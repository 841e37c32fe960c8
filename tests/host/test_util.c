// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "span/util.h"

TEST(parse_u64_accepts_decimal_and_hex)
{
	uint64_t v = 0;

	EXPECT_EQ(span_parse_u64("42", 0, 100, &v), 0);
	EXPECT_EQ(v, 42);
	EXPECT_EQ(span_parse_u64("0x10", 0, 100, &v), 0);
	EXPECT_EQ(v, 16);
	EXPECT_EQ(span_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	EXPECT_TRUE(v == UINT64_MAX);
}

TEST(parse_u64_rejects_junk)
{
	uint64_t v = 7;

	EXPECT_EQ(span_parse_u64("", 0, 100, &v), -EINVAL);
	EXPECT_EQ(span_parse_u64(NULL, 0, 100, &v), -EINVAL);
	EXPECT_EQ(span_parse_u64("12x", 0, 100, &v), -EINVAL);
	EXPECT_EQ(span_parse_u64(" 12", 0, 100, &v), -EINVAL);
	EXPECT_EQ(span_parse_u64("-1", 0, 100, &v), -EINVAL);
	EXPECT_EQ(span_parse_u64("+1", 0, 100, &v), -EINVAL);
	EXPECT_EQ(span_parse_u64("0x", 0, 100, &v), -EINVAL);
	/* Failures leave the output alone. */
	EXPECT_EQ(v, 7);
}

TEST(parse_u64_enforces_range)
{
	uint64_t v = 7;

	EXPECT_EQ(span_parse_u64("0", 1, 100, &v), -ERANGE);
	EXPECT_EQ(span_parse_u64("101", 1, 100, &v), -ERANGE);
	EXPECT_EQ(span_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	EXPECT_EQ(v, 7);
	EXPECT_EQ(span_parse_u64("1", 1, 100, &v), 0);
	EXPECT_EQ(span_parse_u64("100", 1, 100, &v), 0);
	EXPECT_EQ(v, 100);
}

static char *json_of(const char *s, size_t len)
{
	char *buf = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&buf, &sz);

	if (!f)
		return NULL;
	span_json_str(f, s, len);
	fclose(f);
	return buf;
}

TEST(json_str_escapes)
{
	char *j;

	j = json_of("kvmloop", 16);
	ASSERT_TRUE(j != NULL);
	EXPECT_STREQ(j, "\"kvmloop\"");
	free(j);

	j = json_of("a\"b\\c\nd\x01", 16);
	ASSERT_TRUE(j != NULL);
	EXPECT_STREQ(j, "\"a\\\"b\\\\c\\u000ad\\u0001\"");
	free(j);
}

TEST(json_str_stops_at_len_without_nul)
{
	/* A full kernel comm[16] has no NUL: the length bounds the read. */
	char comm[4] = { 'a', 'b', 'c', 'd' };
	char *j = json_of(comm, sizeof(comm));

	ASSERT_TRUE(j != NULL);
	EXPECT_STREQ(j, "\"abcd\"");
	free(j);
}

TEST(now_ns_is_monotonic)
{
	uint64_t a = span_now_ns(), b = span_now_ns();

	EXPECT_GE(b, a);
	EXPECT_TRUE(a > 0);
}
