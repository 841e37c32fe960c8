/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control protocol between spanctl and a guest's controller.
 *
 * One SOCK_SEQPACKET unix socket per guest ($SPAN_RUN_DIR/GUEST.sock): one
 * packet is one message, a fixed header then `len` bytes of payload whose
 * layout the type fixes.  Every request gets exactly one reply (OK, ERROR or
 * the type's own reply); CONSOLE turns the connection into a console stream
 * (CONSOLE_DATA both ways) until either side closes it.
 */
#ifndef __SPANCTL_PROTO_H
#define __SPANCTL_PROTO_H

#include <stddef.h>
#include <stdint.h>

struct span_msg_hdr {
	uint32_t type;		/* enum span_msg_type */
	uint32_t len;		/* payload bytes after this header */
};

enum span_msg_type {
	SPAN_MSG_OK = 1,	/* reply: no payload */
	SPAN_MSG_ERROR,		/* reply: struct span_msg_error */
	SPAN_MSG_STATUS,	/* request: no payload */
	SPAN_MSG_STATUS_REPLY,	/* reply: struct span_msg_status */
	SPAN_MSG_STOP,		/* request: no payload; reply OK, then the guest stops */
	SPAN_MSG_CONSOLE,	/* request: struct span_msg_console; reply OK, then a stream */
	SPAN_MSG_CONSOLE_DATA,	/* stream: 1..SPAN_MSG_MAX_PAYLOAD bytes of console */
	SPAN_MSG_FV_START,	/* request: struct span_msg_fv_start; reply OK */
	SPAN_MSG_ATTACH,	/* request: struct span_msg_fv; reply OK */
	SPAN_MSG_DETACH,	/* request: struct span_msg_fv; reply OK */
	SPAN_MSG_FV_STOP,	/* request: struct span_msg_fv; reply OK */
	SPAN_MSG_FILTER_LOAD,	/* request: struct span_msg_filter_load; reply OK */
	SPAN_MSG_FILTER_UNLOAD,	/* request: struct span_msg_fv; reply OK */
	SPAN_MSG_FILTER_LIST,	/* request: no payload; reply FILTER_LIST_REPLY */
	SPAN_MSG_FILTER_LIST_REPLY, /* reply: struct span_msg_filters */
	SPAN_MSG_PAUSE,		/* request: no payload; reply OK once every vCPU stopped */
	SPAN_MSG_RESUME,	/* request: no payload; reply OK */
	SPAN_MSG_NR_TYPES,
};

/* Larger messages are refused (the error says so) and the link stays up. */
#define SPAN_MSG_MAX_PAYLOAD	4096
#define SPAN_NAME_MAX		32	/* guest and featurevisor names, with NUL */

struct span_msg_error {
	int32_t err;		/* a positive errno */
	char msg[128];		/* NUL-terminated */
};

enum span_guest_state {
	SPAN_GUEST_BOOTING = 1,	/* loaded, vCPUs not started */
	SPAN_GUEST_RUNNING,
	SPAN_GUEST_STOPPING,
	SPAN_GUEST_PAUSED,	/* spanctl pause: every vCPU stopped, outside KVM_RUN */
};

#define SPAN_MAX_FVS		4	/* featurevisors per guest */
#define SPAN_PATH_MAX		256

enum span_fv_state {
	SPAN_FV_NONE,
	SPAN_FV_RUNNING,	/* its L1 VM runs */
	SPAN_FV_STOPPED,	/* its L1 stopped (reset, error): detached */
	SPAN_FV_HUNG,		/* its L1 runs, its watchdog expired: detached */
};

struct span_fv_status {
	char name[SPAN_NAME_MAX];
	uint32_t state;		/* enum span_fv_state */
	uint32_t attached;	/* 1: a window onto the guest */
	uint32_t readonly;
	uint32_t pad;
	uint64_t window_gpa;	/* in the L1 */
	uint64_t window_size;
	uint64_t attach_ns;	/* the last KVM_SPAN_ATTACH, in the controller */
	uint64_t detach_ns;	/* the last KVM_SPAN_DETACH */
	uint64_t mem_bytes;	/* the L1's own memory */
	uint64_t exits;
};

struct span_msg_status {
	char name[SPAN_NAME_MAX];
	uint32_t state;		/* enum span_guest_state */
	uint32_t nr_vcpus;
	uint32_t span;		/* 1: KVM_CAP_SPAN enabled (a span guest) */
	uint32_t vcpu_owner;	/* 0: L0 runs the vCPUs (no handover yet) */
	uint64_t mem_bytes;
	uint64_t exits;		/* vCPU exits to the controller */
	uint64_t uptime_ns;
	uint64_t console_bytes;	/* written by the guest to its 8250 */
	int32_t pid;		/* the controller's */
	uint32_t nr_fvs;	/* entries used in fvs[] */
	uint32_t reboots;	/* guest resets the controller rebooted it from */
	uint32_t pad;
	struct span_fv_status fvs[SPAN_MAX_FVS];
};

struct span_msg_fv_start {
	char name[SPAN_NAME_MAX];	/* NUL-terminated, a valid name */
	uint64_t mem_bytes;
	char kernel[SPAN_PATH_MAX];	/* absolute paths, NUL-terminated */
	char initrd[SPAN_PATH_MAX];
	char append[SPAN_PATH_MAX];	/* may be empty */
};

#define SPAN_ATTACH_READONLY	(1U << 0)

struct span_msg_fv {
	char name[SPAN_NAME_MAX];
	uint32_t flags;		/* ATTACH: SPAN_ATTACH_*; others: 0 */
};

/* Load a featurevisor's event filter, a .bpf.o the controller reads. */
struct span_msg_filter_load {
	char name[SPAN_NAME_MAX];	/* the featurevisor */
	uint32_t flags;			/* 0 */
	char path[SPAN_PATH_MAX];	/* absolute, NUL-terminated */
};

/* One featurevisor's event delivery (lib/spanevents.c's counters). */
struct span_filter_status {
	char name[SPAN_NAME_MAX];	/* the featurevisor */
	char filter[SPAN_NAME_MAX];	/* "" = none: every event is delivered */
	char why[96];			/* no dispatcher: why not ("" if there is one) */
	uint32_t dispatcher;		/* 1: its dispatcher runs */
	uint32_t guest_id, view;	/* from KVM_SPAN_GET_ACCESS */
	uint32_t pad;
	uint64_t seen, filtered, delivered, dropped, dirty_set;
};

struct span_msg_filters {
	uint32_t nr;			/* entries used in fvs[] */
	uint32_t pad;
	struct span_filter_status fvs[SPAN_MAX_FVS];
};

#define SPAN_CONSOLE_FOLLOW	(1U << 0)	/* stream live output after the backlog */

struct span_msg_console {
	uint32_t flags;		/* SPAN_CONSOLE_* */
};

/* The payload length a type's message must have, -1 if it varies. */
long span_msg__payload_len(uint32_t type);
const char *span_msg__type_name(uint32_t type);

/*
 * Check one received packet of n bytes (the real size, also when it did
 * not fit: recv(MSG_TRUNC)).  Returns 0, or a positive errno with a
 * one-line reason in why.
 */
int span_msg__check(const void *buf, size_t n, char *why, size_t whylen);

/* Send one message; 0 or -errno. */
int span_msg__send(int fd, uint32_t type, const void *payload, uint32_t len);
/* Send an ERROR reply formatted like printf. */
int span_msg__send_error(int fd, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Receive one packet into buf (room for a header and SPAN_MSG_MAX_PAYLOAD)
 * and check it: returns its full size (> 0), 0 at EOF, -errno on a socket
 * error, or -EBADMSG with why filled for a malformed message.
 */
long span_msg__recv(int fd, void *buf, size_t size, char *why, size_t whylen);

#define SPAN_MSG_BUF_SIZE (sizeof(struct span_msg_hdr) + SPAN_MSG_MAX_PAYLOAD)

/* Where guests' sockets and logs live: $SPAN_RUN_DIR or /run/span. */
const char *span_run_dir(void);
/* A guest or featurevisor name: 1..31 of [A-Za-z0-9_.-], not starting with '.'. */
int span_name__valid(const char *name);
/* dir/NAME.suffix into buf; -ENAMETOOLONG if it does not fit. */
int span_path(char *buf, size_t len, const char *dir, const char *name,
	      const char *suffix);

#endif /* __SPANCTL_PROTO_H */
