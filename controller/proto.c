// SPDX-License-Identifier: GPL-2.0
/*
 * The control protocol's message checks and framing (see proto.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "proto.h"

static const struct {
	const char *name;
	long len;
} msg_types[SPAN_MSG_NR_TYPES] = {
	[SPAN_MSG_OK]		= { "ok", 0 },
	[SPAN_MSG_ERROR]	= { "error", sizeof(struct span_msg_error) },
	[SPAN_MSG_STATUS]	= { "status", 0 },
	[SPAN_MSG_STATUS_REPLY]	= { "status-reply", sizeof(struct span_msg_status) },
	[SPAN_MSG_STOP]		= { "stop", 0 },
	[SPAN_MSG_CONSOLE]	= { "console", sizeof(struct span_msg_console) },
	[SPAN_MSG_CONSOLE_DATA]	= { "console-data", -1 },
	[SPAN_MSG_FV_START]	= { "fv-start", sizeof(struct span_msg_fv_start) },
	[SPAN_MSG_ATTACH]	= { "attach", sizeof(struct span_msg_fv) },
	[SPAN_MSG_DETACH]	= { "detach", sizeof(struct span_msg_fv) },
	[SPAN_MSG_FV_STOP]	= { "fv-stop", sizeof(struct span_msg_fv) },
	[SPAN_MSG_FILTER_LOAD]	= { "filter-load", sizeof(struct span_msg_filter_load) },
	[SPAN_MSG_FILTER_UNLOAD] = { "filter-unload", sizeof(struct span_msg_fv) },
	[SPAN_MSG_FILTER_LIST]	= { "filter-list", 0 },
	[SPAN_MSG_FILTER_LIST_REPLY] = { "filter-list-reply", sizeof(struct span_msg_filters) },
	[SPAN_MSG_PAUSE]	= { "pause", 0 },
	[SPAN_MSG_RESUME]	= { "resume", 0 },
};

long span_msg__payload_len(uint32_t type)
{
	if (type == 0 || type >= SPAN_MSG_NR_TYPES)
		return -2;
	return msg_types[type].len;
}

const char *span_msg__type_name(uint32_t type)
{
	if (type == 0 || type >= SPAN_MSG_NR_TYPES)
		return "unknown";
	return msg_types[type].name;
}

int span_msg__check(const void *buf, size_t n, char *why, size_t whylen)
{
	struct span_msg_hdr h;
	long want;

	if (n < sizeof(h)) {
		snprintf(why, whylen, "truncated message: %zu bytes, a header is %zu",
			 n, sizeof(h));
		return EBADMSG;
	}
	memcpy(&h, buf, sizeof(h));
	if (n > SPAN_MSG_BUF_SIZE) {
		snprintf(why, whylen, "oversized message: %zu bytes, at most %zu",
			 n, SPAN_MSG_BUF_SIZE);
		return EMSGSIZE;
	}
	if (h.len != n - sizeof(h)) {
		snprintf(why, whylen, "truncated message: header says %u payload bytes, got %zu",
			 h.len, n - sizeof(h));
		return EBADMSG;
	}
	want = span_msg__payload_len(h.type);
	if (want == -2) {
		snprintf(why, whylen, "unknown message type %u", h.type);
		return EINVAL;
	}
	if (want >= 0 && h.len != (unsigned long)want) {
		snprintf(why, whylen, "%s message with %u payload bytes, wants %ld",
			 span_msg__type_name(h.type), h.len, want);
		return EBADMSG;
	}
	if (want == -1 && h.len == 0) {
		snprintf(why, whylen, "empty %s message", span_msg__type_name(h.type));
		return EBADMSG;
	}
	return 0;
}

int span_msg__send(int fd, uint32_t type, const void *payload, uint32_t len)
{
	struct span_msg_hdr h = { .type = type, .len = len };
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)payload, .iov_len = len },
	};
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;

	do {
		n = sendmsg(fd, &m, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)(sizeof(h) + len) ? 0 : -EIO;
}

int span_msg__send_error(int fd, int err, const char *fmt, ...)
{
	struct span_msg_error e = { .err = err };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	va_end(ap);
	return span_msg__send(fd, SPAN_MSG_ERROR, &e, sizeof(e));
}

long span_msg__recv(int fd, void *buf, size_t size, char *why, size_t whylen)
{
	ssize_t n;
	int err;

	do {
		n = recv(fd, buf, size, MSG_TRUNC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	err = span_msg__check(buf, n, why, whylen);
	if (!err && (size_t)n > size) {
		/* A legal message larger than the caller's buffer. */
		snprintf(why, whylen, "message of %zd bytes does not fit %zu", n, size);
		err = EMSGSIZE;
	}
	return err ? -EBADMSG : n;
}

const char *span_run_dir(void)
{
	const char *d = getenv("SPAN_RUN_DIR");

	return d && *d ? d : "/run/span";
}

int span_name__valid(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n >= SPAN_NAME_MAX || name[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

int span_path(char *buf, size_t len, const char *dir, const char *name,
	      const char *suffix)
{
	int n = snprintf(buf, len, "%s/%s%s", dir, name, suffix);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
