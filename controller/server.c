// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket, controller side (see server.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server.h"

int ctl__peer_allowed(const struct ucred *peer, uid_t owner)
{
	return peer->uid == 0 || peer->uid == owner;
}

static int addr__init(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path))
		return -ENAMETOOLONG;
	strcpy(a->sun_path, path);
	return 0;
}

int ctl__connect(const char *path)
{
	struct sockaddr_un a;
	int fd, err;

	err = addr__init(&a, path);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		err = -errno;
		close(fd);
		/* A socket file nobody listens on is a guest that is gone. */
		return err == -ECONNREFUSED ? -ENOENT : err;
	}
	return fd;
}

int ctl__call(int fd, uint32_t type, const void *payload, uint32_t len,
	      void *buf, size_t size)
{
	char why[128];
	long n;
	int err;

	/*
	 * A controller that refuses us (credentials, too many clients) sends
	 * its reason and closes at once, maybe before we send: read it anyway.
	 */
	err = span_msg__send(fd, type, payload, len);
	if (err && err != -EPIPE && err != -ECONNRESET)
		return err;
	n = span_msg__recv(fd, buf, size, why, sizeof(why));
	if (n <= 0)
		return err ? err : n ? (int)n : -ECONNRESET;
	return ((struct span_msg_hdr *)buf)->type;
}

static int server__watch(struct ctl_server *s, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

int ctl_server__init(struct ctl_server *s, const char *path,
		     const struct ctl_ops *ops, void *ctx)
{
	struct sockaddr_un a;
	int err, fd, i;

	memset(s, 0, sizeof(*s));
	s->listen_fd = s->epoll_fd = s->wake_fd = -1;
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		s->clients[i].fd = -1;
	s->ops = ops;
	s->ctx = ctx;
	s->owner = geteuid();
	pthread_mutex_init(&s->lock, NULL);
	err = addr__init(&a, path);
	if (err)
		return err;

	/* A socket file is in the way: a live controller keeps it. */
	fd = ctl__connect(path);
	if (fd >= 0) {
		close(fd);
		return -EADDRINUSE;
	}
	/* Only a socket is ours to replace: never unlink anything else. */
	if (fd == -ENOENT) {
		struct stat st;

		if (!lstat(path, &st) && !S_ISSOCK(st.st_mode))
			return -EEXIST;
		unlink(path);
	}

	s->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->listen_fd < 0)
		goto fail;
	if (bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		goto fail;
	strcpy(s->path, path);
	if (chmod(path, 0600) < 0 || listen(s->listen_fd, 8) < 0)
		goto fail;
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->epoll_fd < 0 || s->wake_fd < 0)
		goto fail;
	err = server__watch(s, s->listen_fd);
	if (!err)
		err = server__watch(s, s->wake_fd);
	if (err) {
		errno = -err;
		goto fail;
	}
	return 0;
fail:
	err = -errno;
	ctl_server__exit(s);
	return err;
}

static void client__close(struct ctl_server *s, struct ctl_client *c)
{
	pthread_mutex_lock(&s->lock);
	close(c->fd);
	c->fd = -1;
	c->follow = 0;
	pthread_mutex_unlock(&s->lock);
}

static struct ctl_client *client__find(struct ctl_server *s, int fd)
{
	int i;

	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (s->clients[i].fd == fd)
			return &s->clients[i];
	return NULL;
}

/*
 * Say why, then close without losing the reason: closing a unix socket
 * with unread data resets the peer before it reads ours, so shut both
 * ways (the peer can send no more) and drain first.
 */
static void client__refuse(int fd, int err, const char *why)
{
	char junk[64];

	span_msg__send_error(fd, err, "%s", why);
	shutdown(fd, SHUT_RDWR);
	while (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;
	close(fd);
}

static void server__accept(struct ctl_server *s)
{
	struct ucred peer;
	socklen_t len = sizeof(peer);
	struct ctl_client *c;
	int fd;

	fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0 ||
	    !ctl__peer_allowed(&peer, s->owner)) {
		char why[64];

		snprintf(why, sizeof(why), "uid %u may not control this guest",
			 (unsigned int)peer.uid);
		client__refuse(fd, EPERM, why);
		return;
	}
	pthread_mutex_lock(&s->lock);
	c = client__find(s, -1);
	if (c)
		c->fd = fd;
	pthread_mutex_unlock(&s->lock);
	if (!c) {
		client__refuse(fd, EBUSY, "too many clients");
		return;
	}
	if (server__watch(s, fd))
		client__close(s, c);
}

size_t ctl_server__backlog(struct ctl_server *s, char *buf, size_t len)
{
	uint64_t have = s->ring_total < CTL_CONSOLE_RING ? s->ring_total : CTL_CONSOLE_RING;
	uint64_t start, i;

	if (len > have)
		len = have;
	start = s->ring_total - len;
	for (i = 0; i < len; i++)
		buf[i] = s->ring[(start + i) % CTL_CONSOLE_RING];
	return len;
}

/* The backlog, then (FOLLOW) live output; without FOLLOW the stream ends. */
static int client__console(struct ctl_server *s, struct ctl_client *c, uint32_t flags)
{
	static char back[CTL_CONSOLE_RING];
	size_t n, off;
	int err;

	if (flags & ~SPAN_CONSOLE_FOLLOW)
		return span_msg__send_error(c->fd, EINVAL, "unknown console flags %#x", flags);
	err = span_msg__send(c->fd, SPAN_MSG_OK, NULL, 0);
	if (err)
		return err;
	/* Under the lock, so no output falls between backlog and stream. */
	pthread_mutex_lock(&s->lock);
	n = ctl_server__backlog(s, back, sizeof(back));
	for (off = 0; off < n && !err; off += SPAN_MSG_MAX_PAYLOAD) {
		size_t chunk = n - off < SPAN_MSG_MAX_PAYLOAD ? n - off : SPAN_MSG_MAX_PAYLOAD;

		err = span_msg__send(c->fd, SPAN_MSG_CONSOLE_DATA, back + off, chunk);
	}
	c->follow = !err && (flags & SPAN_CONSOLE_FOLLOW);
	pthread_mutex_unlock(&s->lock);
	return err ? err : (c->follow ? 0 : -ECONNRESET);
}

/* A featurevisor request: names are checked here, the work by the guest. */
static int client__fv(struct ctl_server *s, struct ctl_client *c, uint32_t type,
		      const void *payload)
{
	struct span_msg_fv_start start;
	struct span_msg_filter_load fl;
	struct span_msg_fv fv;
	char why[128] = "not supported by this controller";
	const char *name;
	int err = -ENOTSUP;

	if (type == SPAN_MSG_FV_START) {
		memcpy(&start, payload, sizeof(start));
		name = start.name;
		if (!memchr(start.kernel, 0, sizeof(start.kernel)) ||
		    !memchr(start.initrd, 0, sizeof(start.initrd)) ||
		    !memchr(start.append, 0, sizeof(start.append)))
			return span_msg__send_error(c->fd, EINVAL, "unterminated path");
	} else if (type == SPAN_MSG_FILTER_LOAD) {
		memcpy(&fl, payload, sizeof(fl));
		name = fl.name;
		if (!memchr(fl.path, 0, sizeof(fl.path)) || fl.path[0] != '/')
			return span_msg__send_error(c->fd, EINVAL, "filter path not absolute");
	} else {
		memcpy(&fv, payload, sizeof(fv));
		name = fv.name;
	}
	if (!memchr(name, 0, SPAN_NAME_MAX) || !span_name__valid(name))
		return span_msg__send_error(c->fd, EINVAL, "bad featurevisor name");
	if (type == SPAN_MSG_FV_START && s->ops->fv_start)
		err = s->ops->fv_start(s->ctx, &start, why, sizeof(why));
	else if (type == SPAN_MSG_ATTACH && s->ops->attach)
		err = s->ops->attach(s->ctx, &fv, why, sizeof(why));
	else if (type == SPAN_MSG_DETACH && s->ops->detach)
		err = s->ops->detach(s->ctx, &fv, why, sizeof(why));
	else if (type == SPAN_MSG_FV_STOP && s->ops->fv_stop)
		err = s->ops->fv_stop(s->ctx, &fv, why, sizeof(why));
	else if (type == SPAN_MSG_FILTER_LOAD && s->ops->filter_load)
		err = s->ops->filter_load(s->ctx, &fl, why, sizeof(why));
	else if (type == SPAN_MSG_FILTER_UNLOAD && s->ops->filter_unload)
		err = s->ops->filter_unload(s->ctx, &fv, why, sizeof(why));
	if (err)
		return span_msg__send_error(c->fd, -err, "%s", why);
	return span_msg__send(c->fd, SPAN_MSG_OK, NULL, 0);
}

static int client__request(struct ctl_server *s, struct ctl_client *c,
			   const struct span_msg_hdr *h, const void *payload)
{
	struct span_msg_status st;
	struct span_msg_console con;
	struct span_msg_filters fs;
	int err;

	switch (h->type) {
	case SPAN_MSG_STATUS:
		memset(&st, 0, sizeof(st));
		s->ops->status(s->ctx, &st);
		return span_msg__send(c->fd, SPAN_MSG_STATUS_REPLY, &st, sizeof(st));
	case SPAN_MSG_STOP:
		err = span_msg__send(c->fd, SPAN_MSG_OK, NULL, 0);
		s->ops->stop(s->ctx);
		return err;
	case SPAN_MSG_CONSOLE:
		memcpy(&con, payload, sizeof(con));
		return client__console(s, c, con.flags);
	case SPAN_MSG_PAUSE:
	case SPAN_MSG_RESUME: {
		char why[128] = "not supported by this controller";

		err = -ENOTSUP;
		if (h->type == SPAN_MSG_PAUSE && s->ops->pause)
			err = s->ops->pause(s->ctx, why, sizeof(why));
		else if (h->type == SPAN_MSG_RESUME && s->ops->resume)
			err = s->ops->resume(s->ctx, why, sizeof(why));
		if (err)
			return span_msg__send_error(c->fd, -err, "%s", why);
		return span_msg__send(c->fd, SPAN_MSG_OK, NULL, 0);
	}
	case SPAN_MSG_FILTER_LIST:
		memset(&fs, 0, sizeof(fs));
		if (s->ops->filter_list)
			s->ops->filter_list(s->ctx, &fs);
		return span_msg__send(c->fd, SPAN_MSG_FILTER_LIST_REPLY, &fs, sizeof(fs));
	case SPAN_MSG_FV_START:
	case SPAN_MSG_ATTACH:
	case SPAN_MSG_DETACH:
	case SPAN_MSG_FV_STOP:
	case SPAN_MSG_FILTER_LOAD:
	case SPAN_MSG_FILTER_UNLOAD:
		return client__fv(s, c, h->type, payload);
	case SPAN_MSG_CONSOLE_DATA:
		if (!c->follow)
			return span_msg__send_error(c->fd, EPROTO,
						    "console data outside a console stream");
		if (s->ops->console_input)
			s->ops->console_input(s->ctx, payload, h->len);
		return 0;
	default:
		return span_msg__send_error(c->fd, EPROTO, "%s is not a request",
					    span_msg__type_name(h->type));
	}
}

static void server__client(struct ctl_server *s, int fd)
{
	static char buf[SPAN_MSG_BUF_SIZE];
	struct ctl_client *c = client__find(s, fd);
	char why[128];
	long n;
	int err;

	if (!c)
		return;
	n = span_msg__recv(fd, buf, sizeof(buf), why, sizeof(why));
	if (n == -EBADMSG) {
		s->bad_msgs++;
		if (span_msg__send_error(fd, EBADMSG, "%s", why))
			client__close(s, c);
		return;
	}
	if (n <= 0) {
		client__close(s, c);
		return;
	}
	err = client__request(s, c, (struct span_msg_hdr *)buf,
			      buf + sizeof(struct span_msg_hdr));
	if (err)
		client__close(s, c);
}

int ctl_server__run(struct ctl_server *s)
{
	struct epoll_event ev[8];
	int i, n;

	while (!s->quit) {
		n = epoll_wait(s->epoll_fd, ev, 8, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (i = 0; i < n && !s->quit; i++) {
			if (ev[i].data.fd == s->listen_fd)
				server__accept(s);
			else if (ev[i].data.fd != s->wake_fd)
				server__client(s, ev[i].data.fd);
		}
	}
	return 0;
}

void ctl_server__quit(struct ctl_server *s)
{
	uint64_t one = 1;

	s->quit = 1;
	/* A full counter means a wakeup is pending anyway. */
	if (s->wake_fd >= 0)
		(void)!write(s->wake_fd, &one, sizeof(one));
}

void ctl_server__resume(struct ctl_server *s)
{
	uint64_t n;

	/* The wakeup that ended the last run is consumed, or epoll spins. */
	(void)!read(s->wake_fd, &n, sizeof(n));
	s->quit = 0;
}

void ctl_server__console(struct ctl_server *s, const char *buf, size_t len)
{
	size_t i;
	int k;

	if (!len || !s)
		return;
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < len; i++)
		s->ring[(s->ring_total + i) % CTL_CONSOLE_RING] = buf[i];
	s->ring_total += len;
	for (k = 0; k < CTL_MAX_CLIENTS; k++) {
		struct ctl_client *c = &s->clients[k];
		struct span_msg_hdr h = { SPAN_MSG_CONSOLE_DATA, 0 };
		size_t off, chunk;

		if (c->fd < 0 || !c->follow)
			continue;
		for (off = 0; off < len; off += chunk) {
			char pkt[SPAN_MSG_BUF_SIZE];

			chunk = len - off < SPAN_MSG_MAX_PAYLOAD ? len - off : SPAN_MSG_MAX_PAYLOAD;
			h.len = chunk;
			memcpy(pkt, &h, sizeof(h));
			memcpy(pkt + sizeof(h), buf + off, chunk);
			/* Never block a vCPU on a slow reader: drop instead. */
			if (send(c->fd, pkt, sizeof(h) + chunk, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
				s->console_dropped += chunk;
		}
	}
	pthread_mutex_unlock(&s->lock);
}

void ctl_server__exit(struct ctl_server *s)
{
	int i;

	for (i = 0; i < CTL_MAX_CLIENTS; i++) {
		if (s->clients[i].fd >= 0)
			close(s->clients[i].fd);
		s->clients[i].fd = -1;
	}
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		if (s->path[0])
			unlink(s->path);
	}
	if (s->epoll_fd >= 0)
		close(s->epoll_fd);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	s->listen_fd = s->epoll_fd = s->wake_fd = -1;
	s->path[0] = 0;
}
