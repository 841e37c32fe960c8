/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The controller: one process per span guest owns the guest's VM and the
 * VM of every featurevisor serving it (KVM_SPAN_ATTACH co-maps only within
 * one mm), and serves the control socket.
 */
#ifndef __SPANCTL_CONTROLLER_H
#define __SPANCTL_CONTROLLER_H

#include "guest.h"
#include "server.h"

struct span_fv_dispatcher;

/* Where every featurevisor's L1 sees the guest: above any L1's RAM. */
#define FV_WINDOW_GPA	(4ULL << 30)
#define FV_DEFAULT_MEM	(128ULL << 20)

struct fv {
	char name[SPAN_NAME_MAX];
	int used;
	int stopped;		/* its L1 stopped: detached for good */
	int attached, readonly;
	uint64_t attach_ns, detach_ns;
	/* Its memory events' dispatcher, from attach to detach (NULL: none, why). */
	struct span_fv_dispatcher *events;
	char events_why[96];
	uint32_t guest_id, view;	/* KVM_SPAN_GET_ACCESS's, once attached */
	struct controller *ctl;
	struct guest vm;
};

struct controller {
	struct guest g;
	struct ctl_server srv;
	pthread_mutex_t fv_lock;
	struct fv fvs[SPAN_MAX_FVS];
	struct guest_config cfg;	/* to boot the guest again */
	uint32_t reboots;
};

/*
 * Be NAME's controller until it stops: 0, or 1 after one line on stderr
 * (or, daemonised, to notify_fd, which then gets "ok" once the guest runs).
 */
int controller__main(const char *name, const struct guest_config *cfg, int notify_fd);

#endif /* __SPANCTL_CONTROLLER_H */
