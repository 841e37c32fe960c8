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
