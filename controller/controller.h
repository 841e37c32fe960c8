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
/* The doorbell registers (BAR0, 32-bit): below 4 GiB, above the L1's RAM. */
#define FV_REGS_GPA	0xfe000000U
/* A dispatcher's ring (256 KiB; 64 KiB wake async records). */
#define FV_RING_BYTES	(256U * 1024)

/* A featurevisor's event area (span/spanfv_area.h), fvarea.c. */
struct fv_area {
	void *pages;		/* info page + request pages: the controller's memory */
	uint64_t size;		/* BAR4's contents */
	uint64_t ring_prod, dirty;	/* offsets */
	size_t dirty_len;
	void *cons, *prod, *dirty_map;	/* the dispatcher's maps, mmapped again */
	int slots;		/* memslots in place */
	uint64_t gpa;		/* where they are (BAR4 at attach) */
	uint32_t generation;
	int32_t last_result;
	uint64_t doorbells, refused;
	char why[96];		/* no area: why */
};

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
	struct fv_area area;
	/* Its watchdog (SPANFV_REG_WATCHDOG): 0 unarmed; hung: detached for it. */
	uint32_t watchdog_ms;
	uint64_t last_beat_ns;
	int hung;
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

/* fvarea.c: the event area of featurevisor f (under fv_lock, except mmio). */
int fv_area__init(struct controller *c, struct fv *f, char *why, size_t whylen);
void fv_area__exit(struct fv *f);
/* At attach, once the dispatcher is open: the memslots; at detach: gone. */
void fv_area__map(struct controller *c, struct fv *f);
void fv_area__unmap(struct fv *f);
/* The guest was paused (1) or resumed (0): every featurevisor sees it. */
void fv_area__paused(struct fv *f, int paused);
/* The L1's MMIO exits (its vCPU thread): the doorbell. */
int fv_area__mmio(struct guest *vm, void *arg, uint64_t addr, uint8_t *data, uint32_t len,
		  int is_write);

/*
 * Be NAME's controller until it stops: 0, or 1 after one line on stderr
 * (or, daemonised, to notify_fd, which then gets "ok" once the guest runs).
 */
int controller__main(const char *name, const struct guest_config *cfg, int notify_fd);

#endif /* __SPANCTL_CONTROLLER_H */
