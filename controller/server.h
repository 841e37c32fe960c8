/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The controller's side of the control socket: accepts spanctl clients,
 * checks their credentials and every message, answers requests through a
 * table of operations, and keeps the guest's console (a backlog ring and
 * live streams to `spanctl console` clients).
 */
#ifndef __SPANCTL_SERVER_H
#define __SPANCTL_SERVER_H

#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "proto.h"

struct ctl_ops {
	void (*status)(void *ctx, struct span_msg_status *st);
	/* Start stopping the guest; the owner calls ctl_server__quit() when done. */
	void (*stop)(void *ctx);
	/* Bytes typed into `spanctl console`. */
	void (*console_input)(void *ctx, const char *buf, size_t len);
	/* Featurevisors: 0, or -errno with a one-line reason in why. */
	int (*fv_start)(void *ctx, const struct span_msg_fv_start *req, char *why, size_t len);
	int (*attach)(void *ctx, const struct span_msg_fv *req, char *why, size_t len);
	int (*detach)(void *ctx, const struct span_msg_fv *req, char *why, size_t len);
	int (*fv_stop)(void *ctx, const struct span_msg_fv *req, char *why, size_t len);
	/* Event filters: the same; filter_list fills every featurevisor's entry. */
	int (*filter_load)(void *ctx, const struct span_msg_filter_load *req, char *why,
			   size_t len);
	int (*filter_unload)(void *ctx, const struct span_msg_fv *req, char *why, size_t len);
	void (*filter_list)(void *ctx, struct span_msg_filters *reply);
	/* spanctl pause/resume: 0, or -errno with a one-line reason in why. */
	int (*pause)(void *ctx, char *why, size_t len);
	int (*resume)(void *ctx, char *why, size_t len);
};

#define CTL_MAX_CLIENTS		16
#define CTL_CONSOLE_RING	(64 * 1024)

struct ctl_client {
	int fd;			/* -1: free slot */
	int follow;		/* gets live console output */
};

struct ctl_server {
	int listen_fd;
	int epoll_fd;
	int wake_fd;		/* eventfd: ctl_server__quit() from any thread */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uid_t owner;		/* who may connect besides root */
	const struct ctl_ops *ops;
	void *ctx;
	volatile int quit;
	/* Clients and the console ring: the vCPU threads write the console. */
	pthread_mutex_t lock;
	struct ctl_client clients[CTL_MAX_CLIENTS];
	char ring[CTL_CONSOLE_RING];
	uint64_t ring_total;	/* bytes ever written; ring holds the last ones */
	uint64_t bad_msgs;	/* malformed messages answered with an error */
	uint64_t console_dropped; /* bytes a slow console client missed */
};

/*
 * Create the socket at path (mode 0600; an existing socket nobody answers
 * on is replaced, a live one is -EADDRINUSE).  0 or -errno.
 */
int ctl_server__init(struct ctl_server *s, const char *path,
		     const struct ctl_ops *ops, void *ctx);
/* Serve until ctl_server__quit(); 0 or -errno. */
int ctl_server__run(struct ctl_server *s);
void ctl_server__quit(struct ctl_server *s);
/* Serve again after ctl_server__run() returned (a guest reboot). */
void ctl_server__resume(struct ctl_server *s);
/* Close every client and the socket, and remove it. */
void ctl_server__exit(struct ctl_server *s);
/* Guest console output: to the ring and to following clients (any thread). */
void ctl_server__console(struct ctl_server *s, const char *buf, size_t len);
/* Copy the ring's last bytes, oldest first; returns how many. */
size_t ctl_server__backlog(struct ctl_server *s, char *buf, size_t len);

/* Only the controller's own user and root may control a guest. */
int ctl__peer_allowed(const struct ucred *peer, uid_t owner);

/* Client side: connect to a guest's socket; fd or -errno (-ENOENT: no guest). */
int ctl__connect(const char *path);
/*
 * One request, one reply: sends type/payload, waits for the reply into
 * buf (SPAN_MSG_BUF_SIZE bytes).  Returns the reply's type, or -errno.
 */
int ctl__call(int fd, uint32_t type, const void *payload, uint32_t len,
	      void *buf, size_t size);

#endif /* __SPANCTL_SERVER_H */
