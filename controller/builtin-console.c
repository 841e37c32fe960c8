// SPDX-License-Identifier: GPL-2.0
/*
 * spanctl console GUEST: the guest's serial console, its backlog first,
 * then live (--no-follow: the backlog alone).  Ctrl-] leaves.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "proto.h"
#include "server.h"
#include "spanctl.h"

#define CONSOLE_ESCAPE 0x1d	/* Ctrl-] */

static int no_follow;

static const struct opt console_opts[] = {
	OPT_FLAG('n', "no-follow", &no_follow, "print what the guest wrote so far, then exit"),
	OPT_END(),
};

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

int cmd_console(int argc, char **argv)
{
	static char buf[SPAN_MSG_BUF_SIZE];
	struct span_msg_console req = { .flags = SPAN_CONSOLE_FOLLOW };
	struct termios saved, raw;
	struct pollfd p[2];
	int ret, fd, type, tty = 0, in_open = 1;
	char *name, why[128];

	ret = spanctl__args("console", "GUEST [--no-follow]",
			    "    spanctl console g1            # live; Ctrl-] leaves\n"
			    "    spanctl console g1 --no-follow | grep marker\n",
			    console_opts, argc, argv, &name, 1);
	if (ret >= 0)
		return ret;
	if (no_follow)
		req.flags = 0;
	fd = spanctl__connect("console", name);
	if (fd < 0)
		return SPANCTL_EXIT_FAIL;
	type = ctl__call(fd, SPAN_MSG_CONSOLE, &req, sizeof(req), buf, sizeof(buf));
	if (type != SPAN_MSG_OK) {
		spanctl__bad_reply("console", name, type, buf);
		close(fd);
		return SPANCTL_EXIT_FAIL;
	}
	if (!no_follow && isatty(0) && !tcgetattr(0, &saved)) {
		raw = saved;
		cfmakeraw(&raw);
		tty = !tcsetattr(0, TCSANOW, &raw);
	}
	ret = 0;
	for (;;) {
		long n;

		p[0] = (struct pollfd){ .fd = fd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = in_open && !no_follow ? 0 : -1, .events = POLLIN };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			n = span_msg__recv(fd, buf, sizeof(buf), why, sizeof(why));
			if (n <= 0)
				break;	/* the stream ended, or the guest stopped */
			if (((struct span_msg_hdr *)buf)->type == SPAN_MSG_CONSOLE_DATA &&
			    write_all(1, buf + sizeof(struct span_msg_hdr), n - sizeof(struct span_msg_hdr)))
				break;
		}
		if (p[1].revents) {
			char in[256];
			ssize_t k = read(0, in, sizeof(in));

			if (k <= 0) {
				in_open = 0;	/* no more input: keep showing output */
				continue;
			}
			if (tty && memchr(in, CONSOLE_ESCAPE, k))
				break;
			if (span_msg__send(fd, SPAN_MSG_CONSOLE_DATA, in, k))
				break;
		}
	}
	if (tty)
		tcsetattr(0, TCSANOW, &saved);
	close(fd);
	return ret;
}
