/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A span guest: one KVM VM marked with KVM_CAP_SPAN, memory from a memfd,
 * an unmodified Linux booted through the 32-bit boot protocol, an 8250 on
 * 0x3f8, and one thread per vCPU.  The guest is not told it is a span guest.
 */
#ifndef __SPANCTL_GUEST_H
#define __SPANCTL_GUEST_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "pci.h"
#include "serial.h"
#include "server.h"

#define GUEST_MAX_VCPUS 8

struct guest_config {
	const char *name;
	const char *kernel;	/* bzImage */
	const char *initrd;	/* may be NULL */
	const char *append;	/* added to the command line; may be NULL */
	const char *log;	/* console log file */
	uint64_t mem_size;
	unsigned int nr_vcpus;
	int no_span;		/* a plain VM, for a KVM without span */
	int no_reboot;		/* a guest reset stops it instead of rebooting it */
	/*
	 * A featurevisor's L1: a plain VM with the span window device on a
	 * PCI bus at window_gpa (told on its command line as span.window=).
	 */
	int fv;
	uint64_t window_gpa, window_size;
};

enum guest_stop {
	GUEST_STOP_NONE,
	GUEST_STOP_REQUEST,	/* spanctl stop, or a signal */
	GUEST_STOP_RESET,	/* the guest reset or rebooted itself */
	GUEST_STOP_ERROR,	/* KVM could not run it */
};

struct guest;

struct i8042 {
	uint8_t ctr, cmd, out;
	int obf;		/* a byte waits in the output buffer */
};

struct vcpu {
	struct guest *g;
	int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	int started;
};

struct guest {
	struct guest_config cfg;
	int kvm_fd, vm_fd, mem_fd;
	uint8_t *mem;
	size_t run_size;
	unsigned int nr_vcpus;
	struct vcpu vcpus[GUEST_MAX_VCPUS];
	int span;		/* KVM_CAP_SPAN enabled */
	int trace;		/* SPANCTL_TRACE set */
	void *kernel, *initrd;	/* the images, until they are in guest memory */
	size_t kernel_len, initrd_len;
	char cmdline[1024];
	uint32_t tsc_khz;

	pthread_mutex_t io_lock;	/* the devices */
	struct serial8250 serial;
	uint8_t cmos_index;
	struct i8042 i8042;
	FILE *log;
	struct ctl_server *server;	/* NULL for a featurevisor */
	struct pci_bus pci;		/* a featurevisor's */
	/*
	 * A featurevisor's MMIO (its doorbell), on the vCPU's thread: 1 if
	 * handled; otherwise reads float high and writes vanish.
	 */
	int (*mmio)(struct guest *g, void *arg, uint64_t addr, uint8_t *data, uint32_t len,
		    int is_write);
	void *mmio_arg;
	/* Called once, from the thread that stops the guest. */
	void (*on_stop)(struct guest *g, void *arg);
	void *on_stop_arg;

	volatile int state;		/* enum span_guest_state */
	volatile int stopping;
	enum guest_stop stop_reason;
	char stop_why[192];
	uint64_t exits;
	uint64_t unknown_io;
	/*
	 * spanctl pause: every vCPU parks outside KVM_RUN until resumed.
	 * pause_lock also orders immediate_exit against the parking.
	 */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	int pause_req;
	unsigned int parked;
	uint64_t t_start;
};

/* Build the VM and lay the kernel out; 0 or -errno with why filled. */
int guest__init(struct guest *g, const struct guest_config *cfg,
		struct ctl_server *server, char *why, size_t whylen);
/* Start the vCPU threads. */
int guest__start(struct guest *g, char *why, size_t whylen);
/* Ask every vCPU to stop (any thread; the first reason wins). */
void guest__stop(struct guest *g, enum guest_stop reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Join the vCPUs and free everything. */
void guest__exit(struct guest *g);
/*
 * Stop every vCPU at a clean point, outside KVM_RUN (a vCPU that waits for
 * a memory event's reply is interrupted and waits again when resumed):
 * 0 once all are parked, -ETIMEDOUT, -EALREADY, -EPIPE if stopping.
 */
int guest__pause(struct guest *g, int timeout_ms);
int guest__resume(struct guest *g);
void guest__status(struct guest *g, struct span_msg_status *st);
void guest__console_input(struct guest *g, const char *buf, size_t len);
const char *guest__stop_name(enum guest_stop r);
/* vCPU 0's CR3 at its last exit to the controller (0 if unknown). */
uint64_t guest__cr3(struct guest *g);

#endif /* __SPANCTL_GUEST_H */
