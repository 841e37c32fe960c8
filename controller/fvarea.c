// SPDX-License-Identifier: GPL-2.0
/*
 * A featurevisor's event area and doorbell (span/spanfv_area.h): how memory
 * events reach the program in an L1 without a driver there.
 *
 * The dispatcher's ring buffer and dirty bitmap are mapped into the L1
 * itself, zero-copy: the same pages BPF writes, as memslots (the ring's
 * producer page and data pages read-only, KVM_MEM_READONLY, as the kernel
 * lets user space map them).  The L1 consumes the ring with libbpf's
 * protocol and harvests the bitmap with atomic exchanges; its requests
 * (subscribe, notify, lift, reply) go through a page of ours and a
 * doorbell write that exits to this process on the L1's own vCPU thread.
 *
 * The L1 is untrusted: a request is copied before it is checked, every
 * range must lie inside the guest, every field must be known, and the
 * ioctls go to this featurevisor's own VM fd, so a view can only ever
 * subscribe, notify or reply as itself (KVM tells views apart by VM).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "controller.h"
#include "kvm_span.h"
#include "span/spanevents.h"
#include "span/spanfv_area.h"
#include "span/util.h"

#define PAGE		4096ULL
#define FV_AREA_SLOT	1	/* memslots 1..5 of the L1; its RAM is 0 */
#define FV_AREA_NSLOTS	5

static uint64_t page_round(uint64_t n)
{
	return (n + PAGE - 1) & ~(PAGE - 1);
}

static uint64_t pow2_up(uint64_t n)
{
	uint64_t s = PAGE;

	while (s < n)
		s <<= 1;
	return s;
}

static struct spanfv_area_info *info_of(struct fv *f)
{
	return f->area.pages;
}

static struct spanfv_request *req_of(struct fv *f)
{
	return (void *)((char *)f->area.pages + SPANFV_AREA_REQ);
}

int fv_area__init(struct controller *c, struct fv *f, char *why, size_t whylen)
{
	struct fv_area *a = &f->area;
	uint64_t words = (c->g.cfg.mem_size / PAGE + 63) / 64, gpa;

	memset(a, 0, sizeof(*a));
	a->pages = mmap(NULL, SPANFV_AREA_RING, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a->pages == MAP_FAILED) {
		a->pages = NULL;
		snprintf(why, whylen, "event area: %s", strerror(errno));
		return -errno;
	}
	/* consumer page, producer page, the data twice, the bitmap */
	a->ring_prod = SPANFV_AREA_RING + PAGE;
	a->dirty = a->ring_prod + PAGE + 2ULL * FV_RING_BYTES;
	a->dirty_len = page_round(words * 8);
	a->size = pow2_up(a->dirty + a->dirty_len);
	/* Above the window's BAR, aligned to its own size. */
	gpa = f->vm.pci.bar + f->vm.pci.bar_size;
	gpa = (gpa + a->size - 1) & ~(a->size - 1);
	pci__set_events(&f->vm.pci, FV_REGS_GPA, SPANFV_REGS_SIZE, gpa, a->size);
	f->vm.mmio = fv_area__mmio;
	f->vm.mmio_arg = f;
	snprintf(a->why, sizeof(a->why), "not attached");
	return 0;
}

void fv_area__exit(struct fv *f)
{
	fv_area__unmap(f);
	if (f->area.pages)
		munmap(f->area.pages, SPANFV_AREA_RING);
	f->area.pages = NULL;
}

static int slot__set(struct fv *f, int i, uint64_t off, void *hva, uint64_t len, int ro)
{
	struct kvm_userspace_memory_region r = {
		.slot = FV_AREA_SLOT + i, .flags = ro ? KVM_MEM_READONLY : 0,
		.guest_phys_addr = f->area.gpa + off, .memory_size = hva ? len : 0,
		.userspace_addr = (uintptr_t)hva,
	};

	return ioctl(f->vm.vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0 ? -errno : 0;
}

void fv_area__map(struct controller *c, struct fv *f)
{
	struct fv_area *a = &f->area;
	struct spanfv_area_info *in = info_of(f);
	int fd, err = 0, i;
	const struct {
		uint64_t off;
		void **hva;
		uint64_t len;
		int ro;
	} slots[FV_AREA_NSLOTS] = {
		{ SPANFV_AREA_INFO, &a->pages, PAGE, 1 },
		{ SPANFV_AREA_REQ, NULL, SPANFV_AREA_REQ_SIZE, 0 },
		{ SPANFV_AREA_RING, &a->cons, PAGE, 0 },
		{ a->ring_prod, &a->prod, PAGE + 2ULL * FV_RING_BYTES, 1 },
		{ a->dirty, &a->dirty_map, a->dirty_len, 0 },
	};

	if (!a->pages || !f->events)
		return;
	if (ioctl(f->vm.kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) <= 0) {
		snprintf(a->why, sizeof(a->why), "KVM has no read-only memslots");
		goto fail;
	}
	/* The dispatcher's own pages, as libbpf maps them for a consumer. */
	fd = span_fv_map_fd(f->events, "events");
	a->cons = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	a->prod = mmap(NULL, PAGE + 2ULL * FV_RING_BYTES, PROT_READ, MAP_SHARED, fd, PAGE);
	a->dirty_map = mmap(NULL, a->dirty_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			    span_fv_map_fd(f->events, "dirty"), 0);
	if (a->cons == MAP_FAILED || a->prod == MAP_FAILED || a->dirty_map == MAP_FAILED) {
		snprintf(a->why, sizeof(a->why), "mmap of the dispatcher's maps: %s",
			 strerror(errno));
		goto fail;
	}
	memset(a->pages, 0, SPANFV_AREA_RING);
	in->magic = SPANFV_AREA_MAGIC;
	in->version = SPANFV_AREA_VERSION;
	in->generation = ++a->generation;
	in->attached = 1;
	in->guest_bytes = c->g.cfg.mem_size;
	in->guest_id = f->guest_id;
	in->view = f->view;
	in->ring_cons = SPANFV_AREA_RING;
	in->ring_prod = a->ring_prod;
	in->ring_size = FV_RING_BYTES;
	in->dirty = a->dirty;
	in->dirty_words = span_fv_dirty_words(f->events);
	in->paused = c->g.pause_req;
	a->gpa = f->vm.pci.area;
	for (i = 0; i < FV_AREA_NSLOTS && !err; i++) {
		void *hva = slots[i].hva ? *slots[i].hva : (char *)a->pages + SPANFV_AREA_REQ;

		err = slot__set(f, i, slots[i].off, hva, slots[i].len, slots[i].ro);
		if (!err)
			a->slots = i + 1;
	}
	if (err) {
		snprintf(a->why, sizeof(a->why), "memslot %d of the event area: %s", i - 1,
			 strerror(-err));
		goto fail;
	}
	a->why[0] = 0;
	return;
fail:
	fprintf(stderr, "spanctl: featurevisor '%s': no event area: %s\n", f->name, a->why);
	fv_area__unmap(f);
}

void fv_area__unmap(struct fv *f)
{
	struct fv_area *a = &f->area;
	int i;

	/* The memslots first: the L1 must never reach pages we let go. */
	for (i = 0; i < a->slots; i++)
		slot__set(f, i, 0, NULL, 0, 0);
	a->slots = 0;
	if (a->pages)
		info_of(f)->attached = 0;
	if (a->cons && a->cons != MAP_FAILED)
		munmap(a->cons, PAGE);
	if (a->prod && a->prod != MAP_FAILED)
		munmap(a->prod, PAGE + 2ULL * FV_RING_BYTES);
	if (a->dirty_map && a->dirty_map != MAP_FAILED)
		munmap(a->dirty_map, a->dirty_len);
	a->cons = a->prod = a->dirty_map = NULL;
	if (!a->why[0])
		snprintf(a->why, sizeof(a->why), "not attached");
}

void fv_area__paused(struct fv *f, int paused)
{
	struct spanfv_area_info *in = info_of(f);

	if (!in)
		return;
	if (paused)
		__atomic_add_fetch(&in->pause_count, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&in->paused, paused, __ATOMIC_RELEASE);
}

/* One SET_ACCESS range of the L1's, checked: 0 or -errno. */
static int range__do(struct controller *c, struct fv *f, const struct spanfv_range *r)
{
	uint64_t mem = c->g.cfg.mem_size;
	struct kvm_span_access a = {
		.span_fd = c->g.vm_fd, .guest_gpa = r->gpa, .size = r->size,
		.access = r->access, .flags = r->flags,
	};

	if ((r->gpa | r->size) & (PAGE - 1) || !r->size)
		return -EINVAL;
	if (r->gpa >= mem || r->size > mem - r->gpa)
		return -ERANGE;
	if (r->access & ~(SPANFV_ACCESS_R | SPANFV_ACCESS_W | SPANFV_ACCESS_X))
		return -EINVAL;
	if (r->flags != 0 && r->flags != SPANFV_SUBSCRIBE && r->flags != SPANFV_NOTIFY)
		return -EINVAL;
	return ioctl(f->vm.vm_fd, KVM_SPAN_SET_ACCESS, &a) < 0 ? -errno : 0;
}

/* The request in the request page, carried out; its result written back. */
static void fv_area__doorbell(struct fv *f)
{
	struct controller *c = f->ctl;
	struct spanfv_request q, *shared = req_of(f);
	struct spanfv_range r;
	__u64 st[SPAN_FV_STAT_NR] = { 0 };
	int err = 0, want_stats = 0;
	uint32_t i, done = 0;

	/* Once: the L1 may change the page under us (another vCPU). */
	memcpy(&q, shared, sizeof(q));
	switch (q.op) {
	case SPANFV_OP_NOP:
		want_stats = 1;
		break;
	case SPANFV_OP_SET_ACCESS:
		want_stats = 1;
		if (q.nr > SPANFV_REQ_MAX_RANGES) {
			err = -E2BIG;
			break;
		}
		for (i = 0; i < q.nr && !err; i++) {
			memcpy(&r, &shared->ranges[i], sizeof(r));
			err = range__do(c, f, &r);
			if (!err)
				done++;
		}
		break;
	case SPANFV_OP_REPLY: {
		struct kvm_span_reply rep = {
			.span_fd = c->g.vm_fd, .vcpu_id = q.vcpu, .seq = q.seq,
			.action = q.action,
		};

		if (q.action > SPANFV_REPLY_DENY || q.vcpu >= c->g.nr_vcpus)
			err = -EINVAL;
		else if (ioctl(f->vm.vm_fd, KVM_SPAN_REPLY, &rep) < 0)
			err = -errno;
		break;
	}
	default:
		err = -EOPNOTSUPP;
	}
	if (want_stats && f->events)
		span_fv_stats(f->events, st);
	if (err)
		f->area.refused++;
	f->area.last_result = err;
	shared->done = done;
	shared->done_tag = q.tag;
	for (i = 0; i < SPAN_FV_STAT_NR && i < 8; i++)
		shared->stats[i] = st[i];
	__atomic_store_n(&shared->result, err, __ATOMIC_RELEASE);
}

int fv_area__mmio(struct guest *vm, void *arg, uint64_t addr, uint8_t *data, uint32_t len,
		  int is_write)
{
	struct fv *f = arg;
	struct pci_bus *p = &vm->pci;
	uint32_t v = 0, off;

	if (!p->regs_size || addr < p->regs || addr - p->regs >= p->regs_size)
		return 0;
	off = addr - p->regs;
	if (!is_write) {
		v = off == SPANFV_REG_RESULT ? (uint32_t)f->area.last_result :
		    off == SPANFV_REG_WATCHDOG ? f->watchdog_ms : 0xffffffffU;
		memcpy(data, &v, len < 4 ? len : 4);
		return 1;
	}
	memcpy(&v, data, len < 4 ? len : 4);
	if (off == SPANFV_REG_WATCHDOG || off == SPANFV_REG_HEARTBEAT) {
		pthread_mutex_lock(&f->ctl->fv_lock);
		if (off == SPANFV_REG_WATCHDOG && len == 4)
			f->watchdog_ms = v > SPANFV_WATCHDOG_MAX_MS ? SPANFV_WATCHDOG_MAX_MS : v;
		f->last_beat_ns = span_now_ns();
		pthread_mutex_unlock(&f->ctl->fv_lock);
		return 1;
	}
	if (off != SPANFV_REG_DOORBELL || len != 4 || v != SPANFV_DOORBELL_GO)
		return 1;	/* ignored */
	pthread_mutex_lock(&f->ctl->fv_lock);
	f->area.doorbells++;
	if (!f->attached || !f->area.slots) {
		f->area.last_result = -ENOTCONN;
		f->area.refused++;
		/* No request page to answer in: the result register says it. */
	} else {
		fv_area__doorbell(f);
	}
	pthread_mutex_unlock(&f->ctl->fv_lock);
	return 1;
}
