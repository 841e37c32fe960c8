/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libspanfv: what a featurevisor program (an ordinary Linux program in its
 * L1) needs to serve a span guest: open the window the controller gave its
 * L1 (a PCI BAR, mapped through sysfs: no driver, no /dev/mem), see whether
 * it is attached, read and write guest-physical memory, and translate a
 * guest-virtual address through the guest's x86-64 page tables.
 */
#ifndef __LIBSPANFV_H
#define __LIBSPANFV_H

#include <stddef.h>
#include <stdint.h>

struct spanfv_window {
	volatile uint8_t *mem;	/* guest-physical 0 .. size */
	uint64_t size;		/* the guest's memory (span.window=) */
	uint64_t bar_size;	/* the mapping */
	int cfg_fd;		/* the device's config space: attach state */
	char dev[400];		/* its sysfs directory */
};

/*
 * Find the window device under sysroot ("" normally) and map it.  0, or
 * -errno with a reason on stderr.
 */
int spanfv__open(struct spanfv_window *w, const char *sysroot);
void spanfv__close(struct spanfv_window *w);
/* SPAN_WINDOW_DETACHED, _ATTACHED or _READONLY (controller/pci.h), or -errno. */
int spanfv__state(struct spanfv_window *w);

/* A CR3 of the guest's (controller/pci.h), 0 if none. */
uint64_t spanfv__cr3(struct spanfv_window *w);

/* Copy guest-physical memory; -ERANGE outside the guest. */
int spanfv__read(struct spanfv_window *w, uint64_t gpa, void *buf, size_t len);
int spanfv__write(struct spanfv_window *w, uint64_t gpa, const void *buf, size_t len);

/*
 * The first page-aligned guest-physical address at or after from whose
 * page starts with needle; -ENOENT if none.
 */
int64_t spanfv__find_page(struct spanfv_window *w, uint64_t from, const void *needle,
			  size_t len);

/*
 * Translate va through the 4-level page tables at cr3 (4 KiB, 2 MiB and
 * 1 GiB pages): 0 and *gpa, -EFAULT for an unmapped address, -ERANGE if a
 * table lies outside the guest.  read_phys lets it run on any memory.
 */
typedef int (*spanfv_read_fn)(void *ctx, uint64_t gpa, void *buf, size_t len);
int spanfv__translate(spanfv_read_fn read_phys, void *ctx, uint64_t cr3, uint64_t va,
		      uint64_t *gpa);
/*
 * The base of the guest kernel's direct map: the lowest 1 GiB-aligned
 * kernel address whose page walk from cr3 lands on guest-physical 0
 * (0xffff888000000000 with 4 levels, random with RANDOMIZE_MEMORY, which
 * puts the direct map first).  0, or -ENOENT.
 */
int spanfv__direct_map(spanfv_read_fn read_phys, void *ctx, uint64_t cr3, uint64_t *base);
/* A spanfv_read_fn over a window (ctx: the struct spanfv_window). */
int spanfv__read_phys(void *window, uint64_t gpa, void *buf, size_t len);

#endif /* __LIBSPANFV_H */
