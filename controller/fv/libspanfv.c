// SPDX-License-Identifier: GPL-2.0
/*
 * libspanfv (see libspanfv.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libspanfv.h"
#include "pci.h"

static int read_hex(const char *path, unsigned long *v)
{
	char buf[32];
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -errno;
	ok = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	if (!ok)
		return -EIO;
	*v = strtoul(buf, NULL, 16);
	return 0;
}

/* span.window=GPA,SIZE on the L1's command line: the guest's size. */
static int window__size(const char *sysroot, uint64_t *size)
{
	char path[256], line[2048], *p;
	FILE *f;

	snprintf(path, sizeof(path), "%s/proc/cmdline", sysroot);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	if (!p || !(p = strstr(line, "span.window=")) || !(p = strchr(p, ',')))
		return -ENOENT;
	*size = strtoull(p + 1, NULL, 0);
	return *size ? 0 : -EINVAL;
}

int spanfv__param(const char *name, char *buf, size_t len)
{
	char line[2048], *p, *end;
	size_t n = strlen(name);
	FILE *f = fopen("/proc/cmdline", "r");

	p = f ? fgets(line, sizeof(line), f) : NULL;
	if (f)
		fclose(f);
	for (; p && (p = strstr(p, name)); p += n) {
		if ((p != line && p[-1] != ' ') || p[n] != '=')
			continue;
		p += n + 1;
		end = p + strcspn(p, " \n");
		snprintf(buf, len, "%.*s", (int)(end - p), p);
		return 0;
	}
	return -ENOENT;
}

int spanfv__open(struct spanfv_window *w, const char *sysroot)
{
	char dir[128], path[512];
	unsigned long vendor, device;
	struct dirent *de;
	struct stat st;
	void *m;
	DIR *d;
	int fd, err;

	memset(w, 0, sizeof(*w));
	w->cfg_fd = -1;
	err = window__size(sysroot, &w->size);
	if (err) {
		fprintf(stderr, "libspanfv: no span.window= on the command line\n");
		return err;
	}
	snprintf(dir, sizeof(dir), "%s/sys/bus/pci/devices", sysroot);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/vendor", dir, de->d_name);
		if (read_hex(path, &vendor) || vendor != SPAN_WINDOW_VENDOR)
			continue;
		snprintf(path, sizeof(path), "%s/%s/device", dir, de->d_name);
		if (read_hex(path, &device) || device != SPAN_WINDOW_DEVICE)
			continue;
		if (snprintf(w->dev, sizeof(w->dev), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(w->dev))
			w->dev[0] = 0;
		break;
	}
	if (d)
		closedir(d);
	if (!w->dev[0]) {
		fprintf(stderr, "libspanfv: no span window device in %s\n", dir);
		return -ENODEV;
	}
	snprintf(path, sizeof(path), "%s/config", w->dev);
	w->cfg_fd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/resource%d", w->dev, SPAN_WINDOW_BAR);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || w->cfg_fd < 0) {
		err = -errno;
		fprintf(stderr, "libspanfv: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		spanfv__close(w);
		return err;
	}
	w->bar_size = st.st_size;
	if (w->size > w->bar_size)
		w->size = w->bar_size;
	m = mmap(NULL, w->bar_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	err = -errno;
	close(fd);
	if (m == MAP_FAILED) {
		fprintf(stderr, "libspanfv: mmap %s: %s\n", path, strerror(-err));
		spanfv__close(w);
		return err;
	}
	w->mem = m;
	return 0;
}

void spanfv__close(struct spanfv_window *w)
{
	if (w->mem)
		munmap((void *)w->mem, w->bar_size);
	if (w->cfg_fd >= 0)
		close(w->cfg_fd);
	w->mem = NULL;
	w->cfg_fd = -1;
}

int spanfv__state(struct spanfv_window *w)
{
	uint32_t v;

	if (pread(w->cfg_fd, &v, sizeof(v), SPAN_WINDOW_STATE_REG) != sizeof(v))
		return -EIO;
	return v;
}

uint64_t spanfv__cr3(struct spanfv_window *w)
{
	uint32_t v[2];

	if (pread(w->cfg_fd, v, sizeof(v), SPAN_WINDOW_CR3_REG) != sizeof(v))
		return 0;
	return (uint64_t)v[1] << 32 | v[0];
}

static int range__ok(struct spanfv_window *w, uint64_t gpa, size_t len)
{
	return gpa < w->size && len <= w->size - gpa;
}

int spanfv__read(struct spanfv_window *w, uint64_t gpa, void *buf, size_t len)
{
	volatile const uint8_t *s = w->mem + gpa;
	uint8_t *d = buf;
	uint64_t v;

	if (!range__ok(w, gpa, len))
		return -ERANGE;
	/*
	 * Aligned 8-byte loads where it can: a pointer the guest is changing
	 * is read whole, and a scan of all guest memory goes 8 times faster.
	 */
	for (; len && ((uintptr_t)s & 7); len--)
		*d++ = *s++;
	for (; len >= 8; len -= 8, s += 8, d += 8) {
		v = *(volatile const uint64_t *)s;
		memcpy(d, &v, 8);
	}
	while (len--)
		*d++ = *s++;
	return 0;
}

int spanfv__write(struct spanfv_window *w, uint64_t gpa, const void *buf, size_t len)
{
	size_t i;

	if (!range__ok(w, gpa, len))
		return -ERANGE;
	for (i = 0; i < len; i++)
		w->mem[gpa + i] = ((const uint8_t *)buf)[i];
	return 0;
}

int spanfv__read_phys(void *window, uint64_t gpa, void *buf, size_t len)
{
	return spanfv__read(window, gpa, buf, len);
}

int64_t spanfv__find_page(struct spanfv_window *w, uint64_t from, const void *needle,
			  size_t len)
{
	uint64_t gpa;

	for (gpa = (from + 4095) & ~4095ULL; gpa + len <= w->size; gpa += 4096)
		if (!memcmp((const void *)(w->mem + gpa), needle, len))
			return gpa;
	return -ENOENT;
}

#define PTE_P		(1ULL << 0)
#define PTE_PS		(1ULL << 7)
#define PTE_ADDR	0x000ffffffffff000ULL

int spanfv__translate(spanfv_read_fn read_phys, void *ctx, uint64_t cr3, uint64_t va,
		      uint64_t *gpa)
{
	uint64_t table = cr3 & PTE_ADDR, pte = 0;
	int level, shift, err;

	for (level = 4; level >= 1; level--) {
		shift = 12 + 9 * (level - 1);
		err = read_phys(ctx, table + ((va >> shift) & 511) * 8, &pte, sizeof(pte));
		if (err)
			return err;
		if (!(pte & PTE_P))
			return -EFAULT;
		/* A 1 GiB (level 3) or 2 MiB (level 2) page ends the walk. */
		if ((level == 3 || level == 2) && (pte & PTE_PS)) {
			uint64_t mask = (1ULL << shift) - 1;

			*gpa = ((pte & PTE_ADDR) & ~mask) | (va & mask);
			return 0;
		}
		table = pte & PTE_ADDR;
	}
	*gpa = table | (va & 4095);
	return 0;
}

int spanfv__direct_map(spanfv_read_fn read_phys, void *ctx, uint64_t cr3, uint64_t *base)
{
	uint64_t pml4e, pdpte, va, gpa;
	int i, j;

	/* The kernel half: PML4 entries 256..511, then each 1 GiB below them. */
	for (i = 256; i < 512; i++) {
		if (read_phys(ctx, (cr3 & PTE_ADDR) + i * 8, &pml4e, 8) || !(pml4e & PTE_P))
			continue;
		for (j = 0; j < 512; j++) {
			if (read_phys(ctx, (pml4e & PTE_ADDR) + j * 8, &pdpte, 8) ||
			    !(pdpte & PTE_P))
				continue;
			va = 0xffff000000000000ULL | (uint64_t)i << 39 | (uint64_t)j << 30;
			if (!spanfv__translate(read_phys, ctx, cr3, va, &gpa) && gpa == 0) {
				*base = va;
				return 0;
			}
		}
	}
	return -ENOENT;
}

/* ---- memory events ----------------------------------------------------------- */

#define RB_BUSY		(1U << 31)
#define RB_DISCARD	(1U << 30)
#define RB_HDR		8

static volatile void *bar__map(struct spanfv_window *w, int bar, uint64_t *size)
{
	char path[512];
	struct stat st;
	void *m;
	int fd;

	snprintf(path, sizeof(path), "%s/resource%d", w->dev, bar);
	fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "libspanfv: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	*size = st.st_size;
	m = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		fprintf(stderr, "libspanfv: mmap %s: %s\n", path, strerror(errno));
	close(fd);
	return m == MAP_FAILED ? NULL : m;
}

int spanfv__events_open(struct spanfv_window *w, struct spanfv_events *e)
{
	memset(e, 0, sizeof(*e));
	e->regs = bar__map(w, SPAN_REGS_BAR, &e->regs_size);
	e->area = bar__map(w, SPAN_AREA_BAR, &e->area_size);
	if (!e->regs || !e->area || e->area_size < SPANFV_AREA_RING) {
		spanfv__events_close(e);
		fprintf(stderr, "libspanfv: no event area (a controller without memory events?)\n");
		return -ENODEV;
	}
	e->info = (volatile struct spanfv_area_info *)(e->area + SPANFV_AREA_INFO);
	e->req = (volatile struct spanfv_request *)(e->area + SPANFV_AREA_REQ);
	return 0;
}

void spanfv__events_close(struct spanfv_events *e)
{
	if (e->regs)
		munmap((void *)e->regs, e->regs_size);
	if (e->area)
		munmap((void *)e->area, e->area_size);
	e->regs = NULL;
	e->area = NULL;
}

/* An offset and length the info page gives, inside the area. */
static int area__ok(struct spanfv_events *e, uint64_t off, uint64_t len)
{
	return off < e->area_size && len <= e->area_size - off;
}

int spanfv__events_ready(struct spanfv_events *e)
{
	volatile struct spanfv_area_info *in = e->info;
	uint64_t ring, words;
	uint32_t gen;

	if (!in || in->magic != SPANFV_AREA_MAGIC || in->version != SPANFV_AREA_VERSION ||
	    in->attached != 1)
		return 0;
	gen = in->generation;
	if (gen == e->generation && e->data)
		return 1;
	ring = in->ring_size;
	words = in->dirty_words;
	if (!ring || ring & (ring - 1) || !area__ok(e, in->ring_cons, 4096) ||
	    !area__ok(e, in->ring_prod, 4096 + 2 * ring) || !area__ok(e, in->dirty, words * 8))
		return 0;
	e->cons_pos = (volatile uint64_t *)(e->area + in->ring_cons);
	e->prod_pos = (volatile uint64_t *)(e->area + in->ring_prod);
	e->data = e->area + in->ring_prod + 4096;
	e->mask = ring - 1;
	e->dirty = (volatile uint64_t *)(e->area + in->dirty);
	e->dirty_words = words;
	e->guest_pages = in->guest_bytes >> 12;
	e->generation = gen;
	e->received = e->last_seq = e->last_dseq = e->seq_gaps = e->dseq_gaps = 0;
	return 1;
}

/* The request in the page is complete: ring, and read the result back. */
static int doorbell(struct spanfv_events *e)
{
	uint32_t gen = e->generation;
	int32_t res;

	e->req->result = -EINPROGRESS;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* Exits to the controller; it answers before this write completes. */
	e->regs[SPANFV_REG_DOORBELL / 4] = SPANFV_DOORBELL_GO;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	res = e->req->result;
	/* Detached meanwhile: the page reads all-ones; the register says why. */
	if (res == -EINPROGRESS || res == -1 || e->info->generation != gen)
		res = (int32_t)e->regs[SPANFV_REG_RESULT / 4];
	for (unsigned int i = 0; i < 8; i++)
		e->stats[i] = e->req->stats[i];
	return res;
}

int spanfv__set_access(struct spanfv_events *e, const struct spanfv_range *r,
		       unsigned int nr, unsigned int *done)
{
	unsigned int i, n, did = 0;
	int err = 0;

	if (!spanfv__events_ready(e))
		return -ENOTCONN;
	while (did < nr && !err) {
		n = nr - did;
		if (n > SPANFV_REQ_MAX_RANGES)
			n = SPANFV_REQ_MAX_RANGES;
		e->req->op = SPANFV_OP_SET_ACCESS;
		e->req->nr = n;
		for (i = 0; i < n; i++) {
			e->req->ranges[i].gpa = r[did + i].gpa;
			e->req->ranges[i].size = r[did + i].size;
			e->req->ranges[i].access = r[did + i].access;
			e->req->ranges[i].flags = r[did + i].flags;
		}
		err = doorbell(e);
		did += err ? e->req->done : n;
	}
	if (done)
		*done = did;
	return err;
}

int spanfv__reply(struct spanfv_events *e, uint32_t vcpu, uint64_t seq, uint32_t action)
{
	if (!spanfv__events_ready(e))
		return -ENOTCONN;
	e->req->op = SPANFV_OP_REPLY;
	e->req->vcpu = vcpu;
	e->req->seq = seq;
	e->req->action = action;
	return doorbell(e);
}

int spanfv__nop(struct spanfv_events *e)
{
	if (!spanfv__events_ready(e))
		return -ENOTCONN;
	e->req->op = SPANFV_OP_NOP;
	return doorbell(e);
}

int spanfv__next_event(struct spanfv_events *e, struct span_fv_event *ev)
{
	uint64_t cons, prod;
	uint32_t len;
	volatile uint8_t *hdr;

	if (!spanfv__events_ready(e))
		return 0;
	for (;;) {
		cons = __atomic_load_n(e->cons_pos, __ATOMIC_ACQUIRE);
		prod = __atomic_load_n(e->prod_pos, __ATOMIC_ACQUIRE);
		if (cons >= prod)
			return 0;
		hdr = e->data + (cons & e->mask);
		len = __atomic_load_n((volatile uint32_t *)hdr, __ATOMIC_ACQUIRE);
		if (len & RB_BUSY)
			return 0;	/* reserved, not committed yet */
		cons += ((len & ~(RB_BUSY | RB_DISCARD)) + RB_HDR + 7) & ~7ULL;
		if (!(len & RB_DISCARD) && (len & ~RB_DISCARD) >= sizeof(*ev)) {
			/* The data is mapped twice: a record never wraps. */
			memcpy(ev, (const void *)(hdr + RB_HDR), sizeof(*ev));
			__atomic_store_n(e->cons_pos, cons, __ATOMIC_RELEASE);
			e->received++;
			if (e->last_seq && ev->seq > e->last_seq + 1)
				e->seq_gaps += ev->seq - e->last_seq - 1;
			if (ev->seq > e->last_seq)
				e->last_seq = ev->seq;
			if (ev->dseq > e->last_dseq + 1)
				e->dseq_gaps += ev->dseq - e->last_dseq - 1;
			if (ev->dseq > e->last_dseq)
				e->last_dseq = ev->dseq;
			return 1;
		}
		__atomic_store_n(e->cons_pos, cons, __ATOMIC_RELEASE);
	}
}

void spanfv__skip_events(struct spanfv_events *e)
{
	if (spanfv__events_ready(e))
		__atomic_store_n(e->cons_pos, __atomic_load_n(e->prod_pos, __ATOMIC_ACQUIRE),
				 __ATOMIC_RELEASE);
}

long spanfv__harvest(struct spanfv_events *e, uint64_t *out, size_t words)
{
	size_t i, n;
	long bits = 0;
	uint64_t w;

	if (!spanfv__events_ready(e))
		return -ENOTCONN;
	n = words < e->dirty_words ? words : e->dirty_words;
	for (i = 0; i < n; i++) {
		/* A plain read first: most words are clear and stay unwritten. */
		if (!__atomic_load_n(&e->dirty[i], __ATOMIC_RELAXED))
			continue;
		w = __atomic_exchange_n(&e->dirty[i], 0, __ATOMIC_ACQ_REL);
		out[i] |= w;
		bits += __builtin_popcountll(w);
	}
	return bits;
}

int spanfv__paused(struct spanfv_events *e, uint32_t *count)
{
	if (!spanfv__events_ready(e))
		return 0;
	if (count)
		*count = e->info->pause_count;
	return e->info->paused == 1;
}

void spanfv__watchdog(struct spanfv_events *e, uint32_t timeout_ms)
{
	e->regs[SPANFV_REG_WATCHDOG / 4] = timeout_ms;
}

void spanfv__heartbeat(struct spanfv_events *e)
{
	e->regs[SPANFV_REG_HEARTBEAT / 4] = 1;
}
