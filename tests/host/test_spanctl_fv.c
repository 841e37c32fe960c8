// SPDX-License-Identifier: GPL-2.0
/*
 * The featurevisor side: the PCI bus a featurevisor's L1 probes
 * (controller/pci.c), and libspanfv (controller/fv/libspanfv.c) on a fake
 * sysfs and on page tables built here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fv/libspanfv.h"
#include "harness.h"
#include "pci.h"

static uint32_t cfg_read(struct pci_bus *p, int dev, int reg, int size)
{
	uint32_t addr = 0x80000000U | dev << 11 | (reg & 0xfc), v = 0;

	pci__io(p, PCI_CONF_ADDR, 1, (uint8_t *)&addr, 4);
	pci__io(p, PCI_CONF_DATA + (reg & 3), 0, (uint8_t *)&v, size);
	return v;
}

static void cfg_write(struct pci_bus *p, int dev, int reg, uint32_t v, int size)
{
	uint32_t addr = 0x80000000U | dev << 11 | (reg & 0xfc);

	pci__io(p, PCI_CONF_ADDR, 1, (uint8_t *)&addr, 4);
	pci__io(p, PCI_CONF_DATA + (reg & 3), 1, (uint8_t *)&v, size);
}

TEST(pci_bus_as_linux_probes_it)
{
	struct pci_bus p;
	uint32_t v = 0x80000000U;
	uint8_t b;

	pci__init(&p, 4ULL << 30, 100 << 20);
	EXPECT_TRUE(p.bar_size == 128 << 20);	/* a power of two */
	/* pci_check_type1(): CONFIG_ADDRESS reads back. */
	pci__io(&p, PCI_CONF_ADDR, 1, (uint8_t *)&v, 4);
	v = 0;
	pci__io(&p, PCI_CONF_ADDR, 0, (uint8_t *)&v, 4);
	EXPECT_EQ(v, 0x80000000U);
	/* pci_sanity_check(): a host bridge at 00:00.0. */
	EXPECT_EQ(cfg_read(&p, 0, 0x0a, 2), 0x0600);
	EXPECT_EQ(cfg_read(&p, 0, 0x00, 2), 0x8086);
	/* The window device at 00:01.0, ivshmem's IDs; nothing at 00:02.0. */
	EXPECT_EQ(cfg_read(&p, 1, 0x00, 4), 0x11101af4);
	EXPECT_EQ(cfg_read(&p, 2, 0x00, 4), 0xffffffffU);
	EXPECT_EQ(cfg_read(&p, 1, 0x0b, 1), 0x05);	/* memory controller */
	/* Byte-wide access to 0xcf8 is not configuration space. */
	pci__io(&p, PCI_CONF_ADDR + 3, 0, &b, 1);
	EXPECT_EQ(b, 0xff);
	/* BAR2/3: 64-bit prefetchable memory at 4 GiB, then sizing. */
	EXPECT_EQ(cfg_read(&p, 1, 0x18, 4), 0x0000000c);
	EXPECT_EQ(cfg_read(&p, 1, 0x1c, 4), 1);
	cfg_write(&p, 1, 0x18, 0xffffffff, 4);
	cfg_write(&p, 1, 0x1c, 0xffffffff, 4);
	EXPECT_EQ(cfg_read(&p, 1, 0x18, 4), 0xf800000c);
	EXPECT_EQ(cfg_read(&p, 1, 0x1c, 4), 0xffffffffU);
	/* Linux writes the address back (or moves it): attach follows it. */
	cfg_write(&p, 1, 0x18, 0x10000000, 4);
	cfg_write(&p, 1, 0x1c, 2, 4);
	EXPECT_TRUE(p.bar == 0x210000000ULL);
	EXPECT_EQ(cfg_read(&p, 1, 0x18, 4), 0x1000000c);
	/* Other BARs are unimplemented. */
	cfg_write(&p, 1, 0x10, 0xffffffff, 4);
	EXPECT_EQ(cfg_read(&p, 1, 0x10, 4), 0);
	/* The command register keeps memory decode; the state register is the controller's. */
	cfg_write(&p, 1, 0x04, 0x0006, 2);
	EXPECT_EQ(cfg_read(&p, 1, 0x04, 2), 0x0006);
	p.state = SPAN_WINDOW_READONLY;
	EXPECT_EQ(cfg_read(&p, 1, SPAN_WINDOW_STATE_REG, 4), SPAN_WINDOW_READONLY);
	cfg_write(&p, 1, SPAN_WINDOW_STATE_REG, 0, 4);
	EXPECT_EQ(p.state, SPAN_WINDOW_READONLY);
	p.cr3 = 0x123456789000ULL;
	EXPECT_EQ(cfg_read(&p, 1, SPAN_WINDOW_CR3_REG, 4), 0x56789000);
	EXPECT_EQ(cfg_read(&p, 1, SPAN_WINDOW_CR3_REG + 4, 4), 0x1234);
	/* With memory events: BAR0 registers (32-bit), BAR4/5 the event area. */
	pci__set_events(&p, 0xfe000000U, 4096, 0x220000000ULL, 600 << 10);
	EXPECT_TRUE(p.area_size == 1 << 20);
	EXPECT_EQ(cfg_read(&p, 1, 0x10, 4), 0xfe000000U);
	cfg_write(&p, 1, 0x10, 0xffffffff, 4);
	EXPECT_EQ(cfg_read(&p, 1, 0x10, 4), 0xfffff000U);
	cfg_write(&p, 1, 0x10, 0xfd000000U, 4);
	EXPECT_EQ(p.regs, 0xfd000000U);
	EXPECT_EQ(cfg_read(&p, 1, 0x20, 4), 0x2000000c);
	EXPECT_EQ(cfg_read(&p, 1, 0x24, 4), 2);
	cfg_write(&p, 1, 0x20, 0xffffffff, 4);
	cfg_write(&p, 1, 0x24, 0xffffffff, 4);
	EXPECT_EQ(cfg_read(&p, 1, 0x20, 4), 0xfff0000c);
	EXPECT_EQ(cfg_read(&p, 1, 0x24, 4), 0xffffffffU);
	cfg_write(&p, 1, 0x20, 0x30000000, 4);
	cfg_write(&p, 1, 0x24, 2, 4);
	EXPECT_TRUE(p.area == 0x230000000ULL);
	EXPECT_TRUE(p.bar == 0x210000000ULL);	/* the window did not move */
	/* Ports around it are not PCI's. */
	EXPECT_EQ(pci__io(&p, 0xcf7, 0, &b, 1), 0);
	EXPECT_EQ(pci__io(&p, 0xd00, 0, &b, 1), 0);
}

/* ---- libspanfv on a fake sysfs ------------------------------------------- */

static void put(const char *root, const char *path, const void *data, size_t len)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", root, path);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, data, len) != (ssize_t)len)
			perror(p);
		close(fd);
	}
}

TEST(libspanfv_opens_a_window_through_sysfs)
{
	char root[] = "/tmp/spanfv-test.XXXXXX", cmd[512];
	const char *dev = "sys/bus/pci/devices/0000:00:01.0";
	static uint8_t mem[1 << 20], config[256];
	const char marker[] = "SPAN-WORKLOAD-MARKER pid=7";
	struct spanfv_window w;
	uint64_t v;
	char buf[32];

	ASSERT_TRUE(mkdtemp(root) != NULL);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/proc %s/%s %s/sys/bus/pci/devices/0000:00:00.0",
		 root, root, dev, root);
	ASSERT_EQ(system(cmd), 0);
	put(root, "proc/cmdline", "console=ttyS0 span.window=0x100000000,0x80000 quiet\n", 52);
	/* A host bridge first, which is not the window. */
	put(root, "sys/bus/pci/devices/0000:00:00.0/vendor", "0x8086\n", 7);
	put(root, "sys/bus/pci/devices/0000:00:00.0/device", "0x1237\n", 7);
	snprintf(cmd, sizeof(cmd), "%s/vendor", dev);
	put(root, cmd, "0x1af4\n", 7);
	snprintf(cmd, sizeof(cmd), "%s/device", dev);
	put(root, cmd, "0x1110\n", 7);
	memcpy(mem + 0x3000, marker, sizeof(marker));
	memcpy(mem + 0x2000 + 5, marker, sizeof(marker));	/* not page-aligned */
	v = 41;
	memcpy(mem + 0x3000 + 64, &v, 8);
	snprintf(cmd, sizeof(cmd), "%s/resource2", dev);
	put(root, cmd, mem, sizeof(mem));
	config[SPAN_WINDOW_STATE_REG] = SPAN_WINDOW_ATTACHED;
	config[SPAN_WINDOW_CR3_REG + 1] = 0x50;		/* CR3 0x5000 */
	snprintf(cmd, sizeof(cmd), "%s/config", dev);
	put(root, cmd, config, sizeof(config));

	ASSERT_EQ(spanfv__open(&w, root), 0);
	EXPECT_TRUE(strstr(w.dev, "0000:00:01.0") != NULL);
	EXPECT_EQ(w.size, 0x80000);		/* the guest, from span.window= */
	EXPECT_EQ(w.bar_size, sizeof(mem));	/* the mapping */
	EXPECT_EQ(spanfv__state(&w), SPAN_WINDOW_ATTACHED);
	EXPECT_TRUE(spanfv__cr3(&w) == 0x5000);
	EXPECT_EQ(spanfv__find_page(&w, 0, "SPAN-WORKLOAD-MARKER pid=", 25), 0x3000);
	EXPECT_EQ(spanfv__find_page(&w, 0x3001, "SPAN-WORKLOAD-MARKER pid=", 25), -ENOENT);
	EXPECT_EQ(spanfv__read(&w, 0x3000 + 64, &v, 8), 0);
	EXPECT_EQ(v, 41);
	v = 42;
	EXPECT_EQ(spanfv__write(&w, 0x3000 + 64, &v, 8), 0);
	EXPECT_EQ(w.mem[0x3000 + 64], 42);
	/* Nothing past the guest's end, even inside the BAR. */
	EXPECT_EQ(spanfv__read(&w, 0x80000 - 4, buf, 8), -ERANGE);
	EXPECT_EQ(spanfv__read(&w, ~0ULL - 2, buf, 8), -ERANGE);
	spanfv__close(&w);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	EXPECT_EQ(system(cmd), 0);
}

TEST(libspanfv_refuses_without_a_window)
{
	char root[] = "/tmp/spanfv-test.XXXXXX", cmd[256];
	struct spanfv_window w;

	ASSERT_TRUE(mkdtemp(root) != NULL);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/proc %s/sys/bus/pci/devices", root, root);
	ASSERT_EQ(system(cmd), 0);
	put(root, "proc/cmdline", "console=ttyS0\n", 14);
	EXPECT_EQ(spanfv__open(&w, root), -ENOENT);
	put(root, "proc/cmdline", "span.window=0x100000000,0x80000\n", 32);
	EXPECT_EQ(spanfv__open(&w, root), -ENODEV);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	EXPECT_EQ(system(cmd), 0);
}

/* ---- page-table walks ------------------------------------------------------ */

static uint8_t phys[64 * 4096];

static int phys_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	if (gpa >= sizeof(phys) || len > sizeof(phys) - gpa)
		return -ERANGE;
	memcpy(buf, phys + gpa, len);
	return 0;
}

static void pte_set(uint64_t table, unsigned int idx, uint64_t val)
{
	memcpy(phys + table + idx * 8, &val, 8);
}

TEST(libspanfv_walks_four_level_page_tables)
{
	uint64_t va4k = 0x00007f1234567abcULL, va2m = 0xffff888000345678ULL;
	uint64_t va1g = 0xffff888040001234ULL, gpa = 0;
	const uint64_t P = 1, RW = 2, PS = 0x80, NX = 1ULL << 63;

	memset(phys, 0, sizeof(phys));
	/* CR3 at 0x1000; a 4 KiB page through PML4 0x2000... */
	pte_set(0x1000, (va4k >> 39) & 511, 0x2000 | P | RW);
	pte_set(0x2000, (va4k >> 30) & 511, 0x3000 | P | RW);
	pte_set(0x3000, (va4k >> 21) & 511, 0x4000 | P | RW);
	pte_set(0x4000, (va4k >> 12) & 511, 0x9000 | P | NX);
	/* ...a 2 MiB page and a 1 GiB page in the kernel half. */
	pte_set(0x1000, (va2m >> 39) & 511, 0x5000 | P | RW);
	pte_set(0x5000, (va2m >> 30) & 511, 0x6000 | P | RW);
	pte_set(0x6000, (va2m >> 21) & 511, 0x00200000 | P | PS);
	pte_set(0x5000, (va1g >> 30) & 511, 0x40000000 | P | PS);

	EXPECT_EQ(spanfv__translate(phys_read, NULL, 0x1000 | 0x18, va4k, &gpa), 0);
	EXPECT_TRUE(gpa == 0x9abc);
	EXPECT_EQ(spanfv__translate(phys_read, NULL, 0x1000, va2m, &gpa), 0);
	EXPECT_TRUE(gpa == 0x00345678);
	EXPECT_EQ(spanfv__translate(phys_read, NULL, 0x1000, va1g, &gpa), 0);
	EXPECT_TRUE(gpa == 0x40001234);
	/* Not present at each level. */
	EXPECT_EQ(spanfv__translate(phys_read, NULL, 0x1000, 0x1000, &gpa), -EFAULT);
	EXPECT_EQ(spanfv__translate(phys_read, NULL, 0x1000, va4k + 0x1000, &gpa), -EFAULT);
	/* A table outside the guest. */
	pte_set(0x4000, ((va4k >> 12) & 511) + 2, 0x9000 | P);
	pte_set(0x3000, ((va4k >> 21) & 511) + 1, 0x7fff0000 | P);
	EXPECT_EQ(spanfv__translate(phys_read, NULL, 0x1000, va4k + (1 << 21), &gpa), -ERANGE);
}

TEST(libspanfv_finds_a_randomized_direct_map)
{
	const uint64_t P = 1, PS = 0x80, dmap = 0xffff9e0a40000000ULL;
	uint64_t base = 0;

	memset(phys, 0, sizeof(phys));
	/* Lower in the kernel half, a 1 GiB page of something else... */
	pte_set(0x1000, (0xffff888000000000ULL >> 39) & 511, 0x2000 | P);
	pte_set(0x2000, 0, 0x40000000 | P | PS);
	EXPECT_EQ(spanfv__direct_map(phys_read, NULL, 0x1000, &base), -ENOENT);
	/* ...then the direct map, in 2 MiB pages from guest-physical 0. */
	pte_set(0x1000, (dmap >> 39) & 511, 0x3000 | P);
	pte_set(0x3000, (dmap >> 30) & 511, 0x4000 | P);
	pte_set(0x4000, 0, 0 | P | PS);
	pte_set(0x4000, 1, 0x200000 | P | PS);
	EXPECT_EQ(spanfv__direct_map(phys_read, NULL, 0x1000, &base), 0);
	EXPECT_TRUE(base == dmap);
	/* User addresses are never it. */
	pte_set(0x1000, 0, 0x3000 | P);
	EXPECT_EQ(spanfv__direct_map(phys_read, NULL, 0x1000, &base), 0);
	EXPECT_TRUE(base == dmap);
}
