// SPDX-License-Identifier: GPL-2.0
/*
 * spanctl's control protocol (controller/proto.c, server.c): message
 * checks, then a live controller loop (the real server, a fake guest)
 * fed malformed, truncated and oversized messages, which must each get an
 * error reply while the controller keeps answering.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "proto.h"
#include "server.h"

static size_t pkt(void *buf, uint32_t type, uint32_t len, size_t real)
{
	struct span_msg_hdr h = { type, len };

	memcpy(buf, &h, sizeof(h));
	memset((char *)buf + sizeof(h), 'x', real);
	return sizeof(h) + real;
}

TEST(proto_check_accepts_well_formed)
{
	char buf[SPAN_MSG_BUF_SIZE + 64], why[128];

	EXPECT_EQ(span_msg__check(buf, pkt(buf, SPAN_MSG_STATUS, 0, 0), why, sizeof(why)), 0);
	EXPECT_EQ(span_msg__check(buf, pkt(buf, SPAN_MSG_CONSOLE, 4, 4), why, sizeof(why)), 0);
	EXPECT_EQ(span_msg__check(buf, pkt(buf, SPAN_MSG_CONSOLE_DATA, 1, 1), why, sizeof(why)), 0);
	EXPECT_EQ(span_msg__check(buf, pkt(buf, SPAN_MSG_CONSOLE_DATA, SPAN_MSG_MAX_PAYLOAD,
					   SPAN_MSG_MAX_PAYLOAD), why, sizeof(why)), 0);
	EXPECT_EQ(span_msg__check(buf, pkt(buf, SPAN_MSG_STATUS_REPLY,
					   sizeof(struct span_msg_status),
					   sizeof(struct span_msg_status)), why, sizeof(why)), 0);
}

TEST(proto_check_refuses_malformed)
{
	char buf[SPAN_MSG_BUF_SIZE + 64], why[128];

	pkt(buf, SPAN_MSG_STATUS, 0, 0);
	EXPECT_EQ(span_msg__check(buf, 4, why, sizeof(why)), EBADMSG);
	EXPECT_TRUE(strstr(why, "truncated message: 4 bytes") != NULL);
	EXPECT_EQ(span_msg__check(buf, pkt(buf, SPAN_MSG_CONSOLE, 4, 2), why, sizeof(why)), EBADMSG);
	EXPECT_TRUE(strstr(why, "header says 4") != NULL);
	EXPECT_EQ(span_msg__check(buf, pkt(buf, SPAN_MSG_STATUS, 3, 3), why, sizeof(why)), EBADMSG);
	EXPECT_TRUE(strstr(why, "wants 0") != NULL);
	EXPECT_EQ(span_msg__check(buf, pkt(buf, 0, 0, 0), why, sizeof(why)), EINVAL);
	EXPECT_EQ(span_msg__check(buf, pkt(buf, SPAN_MSG_NR_TYPES, 0, 0), why, sizeof(why)), EINVAL);
	EXPECT_EQ(span_msg__check(buf, pkt(buf, 0xffffffff, 0, 0), why, sizeof(why)), EINVAL);
	EXPECT_TRUE(strstr(why, "unknown message type 4294967295") != NULL);
	EXPECT_EQ(span_msg__check(buf, pkt(buf, SPAN_MSG_CONSOLE_DATA, 0, 0), why, sizeof(why)), EBADMSG);
	/* The real size of a packet that did not fit the buffer (MSG_TRUNC). */
	EXPECT_EQ(span_msg__check(buf, SPAN_MSG_BUF_SIZE + 1, why, sizeof(why)), EMSGSIZE);
	EXPECT_TRUE(strstr(why, "oversized") != NULL);
	/* A header claiming more than the limit, with that much sent. */
	EXPECT_EQ(span_msg__check(buf, pkt(buf, SPAN_MSG_CONSOLE_DATA, SPAN_MSG_MAX_PAYLOAD + 1,
					   SPAN_MSG_MAX_PAYLOAD + 1), why, sizeof(why)), EMSGSIZE);
}

TEST(proto_names_and_paths)
{
	char p[32];

	EXPECT_TRUE(span_name__valid("g1"));
	EXPECT_TRUE(span_name__valid("guest-1.a_b"));
	EXPECT_TRUE(!span_name__valid(""));
	EXPECT_TRUE(!span_name__valid(".hidden"));
	EXPECT_TRUE(!span_name__valid("a/b"));
	EXPECT_TRUE(!span_name__valid("../x"));
	EXPECT_TRUE(!span_name__valid("0123456789012345678901234567890123"));
	EXPECT_EQ(span_path(p, sizeof(p), "/run/span", "g1", ".sock"), 0);
	EXPECT_STREQ(p, "/run/span/g1.sock");
	EXPECT_EQ(span_path(p, 12, "/run/span", "g1", ".sock"), -ENAMETOOLONG);
}

TEST(proto_peer_credentials)
{
	struct ucred root = { .uid = 0 }, me = { .uid = 1000 }, other = { .uid = 1001 };

	EXPECT_TRUE(ctl__peer_allowed(&root, 1000));
	EXPECT_TRUE(ctl__peer_allowed(&me, 1000));
	EXPECT_TRUE(!ctl__peer_allowed(&other, 1000));
}

/* ---- a live controller loop with a fake guest ---------------------------- */

struct fake {
	struct ctl_server srv;
	pthread_t thread;
	int stops;
	char input[64];
	volatile size_t input_len;
	char dir[64], path[128];
};

static void fake_status(void *ctx, struct span_msg_status *st)
{
	snprintf(st->name, sizeof(st->name), "fake");
	st->state = SPAN_GUEST_RUNNING;
	st->nr_vcpus = 3;
	st->mem_bytes = 123 << 20;
	(void)ctx;
}

static void fake_stop(void *ctx)
{
	struct fake *f = ctx;

	f->stops++;
	ctl_server__quit(&f->srv);
}

static void fake_input(void *ctx, const char *buf, size_t len)
{
	struct fake *f = ctx;

	if (f->input_len + len <= sizeof(f->input)) {
		memcpy(f->input + f->input_len, buf, len);
		f->input_len += len;
	}
}

static char fake_attached[SPAN_NAME_MAX];

static int fake_attach(void *ctx, const struct span_msg_fv *req, char *why, size_t len)
{
	(void)ctx;
	if (strcmp(req->name, "scan")) {
		snprintf(why, len, "no featurevisor named '%s'", req->name);
		return -ENOENT;
	}
	memcpy(fake_attached, req->name, sizeof(fake_attached));
	return 0;
}

static char fake_filter_path[SPAN_PATH_MAX];

/* Refuses every filter but /ok.bpf.o, as the checker would. */
static int fake_filter_load(void *ctx, const struct span_msg_filter_load *req, char *why,
			    size_t len)
{
	(void)ctx;
	memcpy(fake_filter_path, req->path, sizeof(fake_filter_path));
	if (strcmp(req->path, "/ok.bpf.o")) {
		snprintf(why, len, "filter x refused: calls bpf_probe_read_kernel (helper 113)");
		return -EPERM;
	}
	return 0;
}

static void fake_filter_list(void *ctx, struct span_msg_filters *r)
{
	(void)ctx;
	r->nr = 1;
	snprintf(r->fvs[0].name, sizeof(r->fvs[0].name), "scan");
	snprintf(r->fvs[0].filter, sizeof(r->fvs[0].filter), "range");
	r->fvs[0].dispatcher = 1;
	r->fvs[0].seen = 7;
	r->fvs[0].dropped = 2;
}

static const struct ctl_ops fake_ops = {
	.status = fake_status, .stop = fake_stop, .console_input = fake_input,
	.attach = fake_attach, .filter_load = fake_filter_load,
	.filter_list = fake_filter_list,
};

static void *fake_thread(void *arg)
{
	struct fake *f = arg;

	ctl_server__run(&f->srv);
	return NULL;
}

static int fake_start(struct fake *f)
{
	int err;

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/spanctl-test.XXXXXX");
	if (!mkdtemp(f->dir))
		return -errno;
	snprintf(f->path, sizeof(f->path), "%s/fake.sock", f->dir);
	err = ctl_server__init(&f->srv, f->path, &fake_ops, f);
	if (err)
		return err;
	return -pthread_create(&f->thread, NULL, fake_thread, f);
}

static void fake_finish(struct fake *f)
{
	ctl_server__quit(&f->srv);
	pthread_join(f->thread, NULL);
	ctl_server__exit(&f->srv);
	rmdir(f->dir);
}

/* A reply that never comes fails the test instead of hanging it. */
static int connect_timed(const char *path)
{
	struct timeval tv = { .tv_sec = 5 };
	int fd = ctl__connect(path);

	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Send raw bytes as one packet; the reply's type (ERROR's errno in *err). */
static int raw_call(int fd, const void *buf, size_t n, int *err, char *msg, size_t msglen)
{
	char rep[SPAN_MSG_BUF_SIZE], why[128];
	struct span_msg_error e;
	long r;

	if (send(fd, buf, n, 0) != (ssize_t)n)
		return -errno;
	r = span_msg__recv(fd, rep, sizeof(rep), why, sizeof(why));
	if (r <= 0)
		return r ? (int)r : -ECONNRESET;
	if (((struct span_msg_hdr *)rep)->type == SPAN_MSG_ERROR) {
		memcpy(&e, rep + sizeof(struct span_msg_hdr), sizeof(e));
		*err = e.err;
		snprintf(msg, msglen, "%s", e.msg);
	}
	return ((struct span_msg_hdr *)rep)->type;
}

TEST(server_answers_malformed_and_keeps_running)
{
	static char buf[SPAN_MSG_BUF_SIZE * 2], rep[SPAN_MSG_BUF_SIZE];
	struct span_msg_status st;
	struct fake f;
	char msg[128];
	int fd, err;

	ASSERT_EQ(fake_start(&f), 0);
	fd = connect_timed(f.path);
	ASSERT_TRUE(fd >= 0);

	/* A header cut short. */
	err = 0;
	pkt(buf, SPAN_MSG_STATUS, 0, 0);
	EXPECT_EQ(raw_call(fd, buf, 4, &err, msg, sizeof(msg)), SPAN_MSG_ERROR);
	EXPECT_EQ(err, EBADMSG);
	EXPECT_TRUE(strstr(msg, "truncated") != NULL);
	/* A payload shorter than its header says. */
	EXPECT_EQ(raw_call(fd, buf, pkt(buf, SPAN_MSG_CONSOLE, 4, 1), &err, msg, sizeof(msg)),
		  SPAN_MSG_ERROR);
	EXPECT_TRUE(strstr(msg, "header says 4 payload bytes, got 1") != NULL);
	/* Oversized: twice the limit in one packet. */
	EXPECT_EQ(raw_call(fd, buf, pkt(buf, SPAN_MSG_CONSOLE_DATA, 2 * SPAN_MSG_MAX_PAYLOAD,
					2 * SPAN_MSG_MAX_PAYLOAD), &err, msg, sizeof(msg)),
		  SPAN_MSG_ERROR);
	EXPECT_TRUE(strstr(msg, "oversized") != NULL);
	/* Unknown type, wrong length for the type, a reply sent as a request. */
	EXPECT_EQ(raw_call(fd, buf, pkt(buf, 77, 0, 0), &err, msg, sizeof(msg)), SPAN_MSG_ERROR);
	EXPECT_TRUE(strstr(msg, "unknown message type 77") != NULL);
	EXPECT_EQ(raw_call(fd, buf, pkt(buf, SPAN_MSG_STOP, 8, 8), &err, msg, sizeof(msg)),
		  SPAN_MSG_ERROR);
	EXPECT_EQ(raw_call(fd, buf, pkt(buf, SPAN_MSG_OK, 0, 0), &err, msg, sizeof(msg)),
		  SPAN_MSG_ERROR);
	EXPECT_EQ(err, EPROTO);
	/* Console input outside a console stream. */
	EXPECT_EQ(raw_call(fd, buf, pkt(buf, SPAN_MSG_CONSOLE_DATA, 3, 3), &err, msg, sizeof(msg)),
		  SPAN_MSG_ERROR);
	EXPECT_TRUE(strstr(msg, "outside a console stream") != NULL);
	EXPECT_EQ(f.srv.bad_msgs, 5);
	EXPECT_EQ(f.stops, 0);

	/* Still serving, on the same connection and on a new one. */
	EXPECT_EQ(ctl__call(fd, SPAN_MSG_STATUS, NULL, 0, rep, sizeof(rep)), SPAN_MSG_STATUS_REPLY);
	memcpy(&st, rep + sizeof(struct span_msg_hdr), sizeof(st));
	EXPECT_STREQ(st.name, "fake");
	EXPECT_EQ(st.nr_vcpus, 3);
	close(fd);
	fd = connect_timed(f.path);
	ASSERT_TRUE(fd >= 0);
	EXPECT_EQ(ctl__call(fd, SPAN_MSG_STATUS, NULL, 0, rep, sizeof(rep)), SPAN_MSG_STATUS_REPLY);

	/* A second controller for the same guest is refused while this one lives. */
	{
		struct ctl_server other;

		EXPECT_EQ(ctl_server__init(&other, f.path, &fake_ops, &f), -EADDRINUSE);
	}
	/* STOP: OK, the guest's stop runs, the loop ends. */
	EXPECT_EQ(ctl__call(fd, SPAN_MSG_STOP, NULL, 0, rep, sizeof(rep)), SPAN_MSG_OK);
	pthread_join(f.thread, NULL);
	EXPECT_EQ(f.stops, 1);
	close(fd);
	ctl_server__exit(&f.srv);
	/* The socket is gone with its controller: connecting says so. */
	EXPECT_EQ(ctl__connect(f.path), -ENOENT);
	rmdir(f.dir);
}

TEST(server_filter_requests)
{
	static char rep[SPAN_MSG_BUF_SIZE];
	struct span_msg_filter_load req = { .name = "scan", .path = "/ok.bpf.o" };
	struct span_msg_fv fv = { .name = "scan" };
	struct span_msg_filters r;
	struct fake f;
	int fd;

	ASSERT_EQ(fake_start(&f), 0);
	fd = connect_timed(f.path);
	ASSERT_TRUE(fd >= 0);
	EXPECT_EQ(ctl__call(fd, SPAN_MSG_FILTER_LOAD, &req, sizeof(req), rep, sizeof(rep)),
		  SPAN_MSG_OK);
	EXPECT_STREQ(fake_filter_path, "/ok.bpf.o");
	/* A refusal comes back as ERROR EPERM with the checker's reason. */
	snprintf(req.path, sizeof(req.path), "/bad.bpf.o");
	EXPECT_EQ(ctl__call(fd, SPAN_MSG_FILTER_LOAD, &req, sizeof(req), rep, sizeof(rep)),
		  SPAN_MSG_ERROR);
	EXPECT_EQ(((struct span_msg_error *)(rep + 8))->err, EPERM);
	EXPECT_TRUE(strstr(((struct span_msg_error *)(rep + 8))->msg, "bpf_probe_read_kernel"));
	/* Relative or unterminated paths never reach the controller's operation. */
	fake_filter_path[0] = 0;
	snprintf(req.path, sizeof(req.path), "rel.bpf.o");
	EXPECT_EQ(ctl__call(fd, SPAN_MSG_FILTER_LOAD, &req, sizeof(req), rep, sizeof(rep)),
		  SPAN_MSG_ERROR);
	EXPECT_EQ(((struct span_msg_error *)(rep + 8))->err, EINVAL);
	memset(req.path, 'a', sizeof(req.path));
	req.path[0] = '/';
	EXPECT_EQ(ctl__call(fd, SPAN_MSG_FILTER_LOAD, &req, sizeof(req), rep, sizeof(rep)),
		  SPAN_MSG_ERROR);
	EXPECT_EQ(fake_filter_path[0], 0);
	/* Unload: this controller lacks it. */
	EXPECT_EQ(ctl__call(fd, SPAN_MSG_FILTER_UNLOAD, &fv, sizeof(fv), rep, sizeof(rep)),
		  SPAN_MSG_ERROR);
	EXPECT_EQ(((struct span_msg_error *)(rep + 8))->err, ENOTSUP);
	/* List: the controller's entries, whole. */
	EXPECT_EQ(ctl__call(fd, SPAN_MSG_FILTER_LIST, NULL, 0, rep, sizeof(rep)),
		  SPAN_MSG_FILTER_LIST_REPLY);
	memcpy(&r, rep + sizeof(struct span_msg_hdr), sizeof(r));
	EXPECT_EQ(r.nr, 1);
	EXPECT_STREQ(r.fvs[0].filter, "range");
	EXPECT_EQ(r.fvs[0].seen, 7);
	EXPECT_EQ(r.fvs[0].dropped, 2);
	close(fd);
	fake_finish(&f);
}

TEST(server_featurevisor_requests)
{
	static char rep[SPAN_MSG_BUF_SIZE];
	struct span_msg_fv req = { .name = "scan" };
	struct span_msg_fv_start start;
	struct fake f;
	int fd;

	ASSERT_EQ(fake_start(&f), 0);
	fd = connect_timed(f.path);
	ASSERT_TRUE(fd >= 0);
	/* Reaches the guest's operation, whose errors come back as ERROR. */
	EXPECT_EQ(ctl__call(fd, SPAN_MSG_ATTACH, &req, sizeof(req), rep, sizeof(rep)), SPAN_MSG_OK);
	EXPECT_STREQ(fake_attached, "scan");
	snprintf(req.name, sizeof(req.name), "other");
	EXPECT_EQ(ctl__call(fd, SPAN_MSG_ATTACH, &req, sizeof(req), rep, sizeof(rep)), SPAN_MSG_ERROR);
	EXPECT_EQ(((struct span_msg_error *)(rep + 8))->err, ENOENT);
	/* Names are checked before the guest sees them. */
	memset(req.name, 'a', sizeof(req.name));	/* unterminated */
	EXPECT_EQ(ctl__call(fd, SPAN_MSG_ATTACH, &req, sizeof(req), rep, sizeof(rep)), SPAN_MSG_ERROR);
	EXPECT_EQ(((struct span_msg_error *)(rep + 8))->err, EINVAL);
	snprintf(req.name, sizeof(req.name), "../x");
	EXPECT_EQ(ctl__call(fd, SPAN_MSG_DETACH, &req, sizeof(req), rep, sizeof(rep)), SPAN_MSG_ERROR);
	/* An operation this controller lacks (detach, fv start) says so. */
	snprintf(req.name, sizeof(req.name), "scan");
	EXPECT_EQ(ctl__call(fd, SPAN_MSG_DETACH, &req, sizeof(req), rep, sizeof(rep)), SPAN_MSG_ERROR);
	EXPECT_EQ(((struct span_msg_error *)(rep + 8))->err, ENOTSUP);
	memset(&start, 'x', sizeof(start));
	snprintf(start.name, sizeof(start.name), "scan");
	EXPECT_EQ(ctl__call(fd, SPAN_MSG_FV_START, &start, sizeof(start), rep, sizeof(rep)),
		  SPAN_MSG_ERROR);
	EXPECT_TRUE(strstr(((struct span_msg_error *)(rep + 8))->msg, "unterminated") != NULL);
	/* Still serving. */
	EXPECT_EQ(ctl__call(fd, SPAN_MSG_STATUS, NULL, 0, rep, sizeof(rep)), SPAN_MSG_STATUS_REPLY);
	close(fd);
	fake_finish(&f);
}

TEST(server_replaces_a_dead_controllers_socket)
{
	struct fake f;
	char dir[] = "/tmp/spanctl-test.XXXXXX", path[64];
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct ctl_server s;
	int fd;

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/dead.sock", dir);
	/* A socket file nobody listens on, as a killed controller leaves. */
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd);
	EXPECT_EQ(ctl__connect(path), -ENOENT);
	EXPECT_EQ(ctl_server__init(&s, path, &fake_ops, &f), 0);
	fd = ctl__connect(path);
	EXPECT_TRUE(fd >= 0);
	if (fd >= 0)
		close(fd);
	ctl_server__exit(&s);
	/* A file that is not a socket is never replaced. */
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ASSERT_TRUE(fd >= 0);
	close(fd);
	EXPECT_EQ(ctl_server__init(&s, path, &fake_ops, &f), -EEXIST);
	EXPECT_EQ(access(path, F_OK), 0);
	unlink(path);
	rmdir(dir);
}

TEST(server_console_backlog_then_live_and_input)
{
	static char rep[SPAN_MSG_BUF_SIZE];
	struct span_msg_console req = { 0 };
	char why[128];
	struct fake f;
	long n;
	int fd, i;

	ASSERT_EQ(fake_start(&f), 0);
	ctl_server__console(&f.srv, "early boot\n", 11);

	/* --no-follow: OK, the backlog, then the stream ends. */
	fd = connect_timed(f.path);
	ASSERT_TRUE(fd >= 0);
	EXPECT_EQ(ctl__call(fd, SPAN_MSG_CONSOLE, &req, sizeof(req), rep, sizeof(rep)), SPAN_MSG_OK);
	n = span_msg__recv(fd, rep, sizeof(rep), why, sizeof(why));
	EXPECT_EQ(n, 8 + 11);
	EXPECT_EQ(((struct span_msg_hdr *)rep)->type, SPAN_MSG_CONSOLE_DATA);
	EXPECT_EQ(memcmp(rep + 8, "early boot\n", 11), 0);
	EXPECT_EQ(span_msg__recv(fd, rep, sizeof(rep), why, sizeof(why)), 0);
	close(fd);

	/* Unknown flags are an error, not a stream. */
	fd = connect_timed(f.path);
	req.flags = 0x80;
	EXPECT_EQ(ctl__call(fd, SPAN_MSG_CONSOLE, &req, sizeof(req), rep, sizeof(rep)), SPAN_MSG_ERROR);
	close(fd);

	/* Follow: backlog, then what the guest writes next; input reaches the guest. */
	fd = connect_timed(f.path);
	req.flags = SPAN_CONSOLE_FOLLOW;
	EXPECT_EQ(ctl__call(fd, SPAN_MSG_CONSOLE, &req, sizeof(req), rep, sizeof(rep)), SPAN_MSG_OK);
	n = span_msg__recv(fd, rep, sizeof(rep), why, sizeof(why));
	EXPECT_EQ(n, 8 + 11);
	ctl_server__console(&f.srv, "live", 4);
	n = span_msg__recv(fd, rep, sizeof(rep), why, sizeof(why));
	EXPECT_EQ(n, 8 + 4);
	EXPECT_EQ(memcmp(rep + 8, "live", 4), 0);
	EXPECT_EQ(span_msg__send(fd, SPAN_MSG_CONSOLE_DATA, "ls\n", 3), 0);
	for (i = 0; i < 200 && f.input_len < 3; i++)
		usleep(5000);
	EXPECT_EQ(f.input_len, 3);
	EXPECT_EQ(memcmp(f.input, "ls\n", 3), 0);
	close(fd);
	fake_finish(&f);
}

TEST(server_console_ring_keeps_the_last_64k_in_order)
{
	static char big[100000], back[CTL_CONSOLE_RING];
	struct fake f;
	size_t i, n;

	ASSERT_EQ(fake_start(&f), 0);
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)(i % 251);
	ctl_server__console(&f.srv, big, 30000);
	ctl_server__console(&f.srv, big + 30000, sizeof(big) - 30000);
	n = ctl_server__backlog(&f.srv, back, sizeof(back));
	EXPECT_EQ(n, CTL_CONSOLE_RING);
	EXPECT_EQ(memcmp(back, big + sizeof(big) - CTL_CONSOLE_RING, CTL_CONSOLE_RING), 0);
	fake_finish(&f);
}

/* As root: another user cannot control the guest even if it can connect. */
TEST(server_refuses_other_users)
{
	char rep[SPAN_MSG_BUF_SIZE];
	struct fake f;
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		printf("# not root: SO_PEERCRED checked by proto_peer_credentials only\n");
		return;
	}
	ASSERT_EQ(fake_start(&f), 0);
	/* Open the door wider than spanctl ever does, so only the check stops it. */
	chmod(f.dir, 0755);
	chmod(f.path, 0666);
	pid = fork();
	if (pid == 0) {
		int fd, t;

		if (setuid(65534))
			_exit(10);
		fd = connect_timed(f.path);
		if (fd < 0)
			_exit(11);
		t = ctl__call(fd, SPAN_MSG_STATUS, NULL, 0, rep, sizeof(rep));
		if (t != SPAN_MSG_ERROR)
			_exit(12);
		_exit(((struct span_msg_error *)(rep + 8))->err == EPERM ? 0 : 13);
	}
	ASSERT_TRUE(pid > 0);
	waitpid(pid, &status, 0);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(WEXITSTATUS(status), 0);
	fake_finish(&f);
}
