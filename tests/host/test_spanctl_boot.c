// SPDX-License-Identifier: GPL-2.0
/*
 * spanctl's boot-protocol set-up (controller/boot.c) on real bytes: a
 * bzImage built here field by field, and the lab's own bzImage when it has
 * been built ($O/kernel/bzImage).
 */
#include <asm/bootparam.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "boot.h"
#include "harness.h"
#include "mptable.h"

#define MIB (1ULL << 20)
#define SETUP_END 0x26c		/* the header's end in 6.x kernels */

struct img {
	uint8_t *buf;
	size_t len;
	uint32_t setup;		/* bytes before the protected-mode kernel */
};

static struct setup_header *hdr(struct img *im)
{
	return (struct setup_header *)(im->buf + 0x1f1);
}

/* A bzImage as the kernel's build writes one, with a patterned payload. */
static struct img make_img(unsigned int setup_sects, size_t pm_len, uint32_t init_size)
{
	struct img im;
	struct setup_header *h;
	size_t i;

	im.setup = ((setup_sects ? setup_sects : 4) + 1) * 512;
	im.len = im.setup + pm_len;
	im.buf = calloc(1, im.len);
	im.buf[0x200] = 0xeb;			/* jmp start_of_setup */
	im.buf[0x201] = SETUP_END - 0x202;
	h = hdr(&im);
	h->setup_sects = setup_sects;
	h->boot_flag = 0xaa55;
	h->header = 0x53726448;
	h->version = 0x020f;
	h->loadflags = LOADED_HIGH;
	h->initrd_addr_max = 0x7fffffff;
	h->cmdline_size = 2047;
	h->init_size = init_size;
	h->syssize = pm_len / 16;
	h->kernel_alignment = 0x200000;
	for (i = im.setup; i < im.len; i++)
		im.buf[i] = (uint8_t)(i * 7 + 3);
	return im;
}

static struct boot_params *bp_of(uint8_t *mem)
{
	return (struct boot_params *)(mem + BOOT_PARAMS_GPA);
}

TEST(boot_lays_out_kernel_cmdline_initrd_e820)
{
	struct img im = make_img(27, 64 * 1024, 4 * MIB);
	uint64_t mem_size = 64 * MIB;
	uint8_t *mem = calloc(1, mem_size);
	uint8_t initrd[10000];
	const char *cmd = "console=ttyS0 panic=1";
	struct boot_params *bp = bp_of(mem);
	struct boot_info bi;
	char why[160] = "";
	uint64_t ram = 0;
	int i;

	for (i = 0; i < (int)sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i ^ 0xa5);
	ASSERT_EQ(boot__setup(mem, mem_size, im.buf, im.len, initrd, sizeof(initrd),
			      cmd, &bi, why, sizeof(why)), 0);
	EXPECT_EQ(bi.entry, 0x100000);
	EXPECT_EQ(bi.boot_params, BOOT_PARAMS_GPA);
	EXPECT_EQ(bi.setup_bytes, 28 * 512);
	EXPECT_EQ(bi.version, 0x020f);
	/* The protected-mode kernel, byte for byte, at 1 MiB. */
	EXPECT_EQ(memcmp(mem + 0x100000, im.buf + 28 * 512, im.len - 28 * 512), 0);
	/* The setup header is the image's, with the loader's fields set. */
	EXPECT_EQ(bp->hdr.boot_flag, 0xaa55);
	EXPECT_EQ(bp->hdr.header, 0x53726448);
	EXPECT_EQ(bp->hdr.init_size, 4 * MIB);
	EXPECT_EQ(bp->hdr.setup_sects, 27);
	EXPECT_EQ(bp->hdr.type_of_loader, 0xff);
	EXPECT_EQ(bp->hdr.loadflags, LOADED_HIGH | CAN_USE_HEAP | KEEP_SEGMENTS);
	EXPECT_EQ(bp->hdr.code32_start, 0x100000);
	EXPECT_EQ(bp->hdr.vid_mode, 0xffff);
	EXPECT_EQ(bp->hdr.cmd_line_ptr, BOOT_CMDLINE_GPA);
	EXPECT_STREQ((char *)mem + BOOT_CMDLINE_GPA, cmd);
	/* The initrd: page aligned, at the top of memory, after the kernel's init_size. */
	EXPECT_EQ(bp->hdr.ramdisk_image, bi.initrd_gpa);
	EXPECT_EQ(bp->hdr.ramdisk_size, sizeof(initrd));
	EXPECT_EQ(bi.initrd_gpa % 4096, 0);
	EXPECT_LE(bi.initrd_gpa + sizeof(initrd), mem_size);
	EXPECT_GE(bi.initrd_gpa + sizeof(initrd) + 4096, mem_size);
	EXPECT_GE(bi.initrd_gpa, 0x100000 + 4 * MIB);
	EXPECT_EQ(memcmp(mem + bi.initrd_gpa, initrd, sizeof(initrd)), 0);
	/* e820: low RAM, the EBDA and BIOS reserved, RAM from 1 MiB to the end. */
	ASSERT_EQ(bp->e820_entries, 4);
	for (i = 0; i < bp->e820_entries; i++) {
		struct boot_e820_entry *e = &bp->e820_table[i];

		if (e->type == 1)
			ram += e->size;
		if (i)
			EXPECT_LE(bp->e820_table[i - 1].addr + bp->e820_table[i - 1].size, e->addr);
	}
	EXPECT_EQ(bp->e820_table[3].addr, 0x100000);
	EXPECT_EQ(bp->e820_table[3].addr + bp->e820_table[3].size, mem_size);
	EXPECT_EQ(bp->e820_table[0].size, BOOT_EBDA_GPA);
	EXPECT_EQ(ram, mem_size - (0x100000 - BOOT_EBDA_GPA));
	/* boot_params itself lies in low RAM, clear of the command line. */
	EXPECT_LE(BOOT_PARAMS_GPA + sizeof(*bp), BOOT_CMDLINE_GPA);
	free(mem);
	free(im.buf);
}

TEST(boot_setup_sects_zero_means_four)
{
	struct img im = make_img(0, 8192, 0);
	uint8_t *mem = calloc(1, 32 * MIB);
	struct boot_info bi;
	char why[160];

	ASSERT_EQ(boot__setup(mem, 32 * MIB, im.buf, im.len, NULL, 0, "", &bi, why,
			      sizeof(why)), 0);
	EXPECT_EQ(bi.setup_bytes, 5 * 512);
	EXPECT_EQ(memcmp(mem + 0x100000, im.buf + 5 * 512, 8192), 0);
	/* No initrd: nothing in the header says there is one. */
	EXPECT_EQ(bp_of(mem)->hdr.ramdisk_image, 0);
	EXPECT_EQ(bp_of(mem)->hdr.ramdisk_size, 0);
	free(mem);
	free(im.buf);
}

TEST(boot_initrd_stays_below_initrd_addr_max)
{
	struct img im = make_img(4, 8192, 2 * MIB);
	uint8_t *mem = calloc(1, 64 * MIB);
	uint8_t initrd[5000] = { 1 };
	struct boot_info bi;
	char why[160];

	hdr(&im)->initrd_addr_max = 32 * MIB - 1;
	ASSERT_EQ(boot__setup(mem, 64 * MIB, im.buf, im.len, initrd, sizeof(initrd), "x",
			      &bi, why, sizeof(why)), 0);
	EXPECT_LE(bi.initrd_gpa + sizeof(initrd), 32 * MIB);
	EXPECT_GE(bi.initrd_gpa + sizeof(initrd) + 4096, 32 * MIB);
	EXPECT_EQ(bi.initrd_gpa % 4096, 0);
	free(mem);
	free(im.buf);
}

/* Each bad image is refused with -ENOEXEC and a reason naming the fault. */
static void expect_refused(struct img *im, size_t len, const char *word)
{
	char why[160] = "";

	EXPECT_EQ(boot__check_bzimage(im->buf, len, why, sizeof(why)), -ENOEXEC);
	EXPECT_TRUE(strstr(why, word) != NULL);
	if (!strstr(why, word))
		printf("# reason was: %s (wanted '%s')\n", why, word);
}

TEST(boot_refuses_bad_bzimages)
{
	struct img im = make_img(4, 8192, 0);

	expect_refused(&im, 512, "too small");
	hdr(&im)->boot_flag = 0;
	expect_refused(&im, im.len, "0xAA55");
	hdr(&im)->boot_flag = 0xaa55;
	hdr(&im)->header = 0x12345678;
	expect_refused(&im, im.len, "HdrS");
	hdr(&im)->header = 0x53726448;
	hdr(&im)->version = 0x0204;
	expect_refused(&im, im.len, "2.04 is too old");
	hdr(&im)->version = 0x020f;
	hdr(&im)->loadflags = 0;
	expect_refused(&im, im.len, "zImage");
	hdr(&im)->loadflags = LOADED_HIGH;
	/* Cut short: the payload syssize promises is not all there. */
	expect_refused(&im, im.len - 16, "truncated");
	hdr(&im)->setup_sects = 200;
	expect_refused(&im, im.len, "setup bytes");
	hdr(&im)->setup_sects = 4;
	{
		char why[160];

		EXPECT_EQ(boot__check_bzimage(im.buf, im.len, why, sizeof(why)), 0);
	}
	free(im.buf);
}

TEST(boot_refuses_what_does_not_fit_and_writes_nothing)
{
	struct img im = make_img(4, 8192, 40 * MIB);
	uint8_t *mem = calloc(1, 64 * MIB);
	static uint8_t initrd[32 << 20];
	char cmd[3000], why[160];
	struct boot_info bi;
	size_t i;

	/* init_size 40 MiB from 1 MiB: a 32 MiB guest is too small. */
	EXPECT_EQ(boot__setup(mem, 32 * MIB, im.buf, im.len, NULL, 0, "", &bi, why,
			      sizeof(why)), -ENOMEM);
	EXPECT_TRUE(strstr(why, "the kernel needs") != NULL);
	/* It runs from its pref_address (16 MiB): 40 MiB more do not fit in 48. */
	hdr(&im)->pref_address = 16 * MIB;
	EXPECT_EQ(boot__setup(mem, 48 * MIB, im.buf, im.len, NULL, 0, "", &bi, why,
			      sizeof(why)), -ENOMEM);
	EXPECT_TRUE(strstr(why, "the kernel needs 40 MiB from 16 MiB") != NULL);
	hdr(&im)->pref_address = 0;
	/* The initrd cannot go between the kernel (to 41 MiB) and 64 MiB. */
	EXPECT_EQ(boot__setup(mem, 64 * MIB, im.buf, im.len, initrd, sizeof(initrd), "",
			      &bi, why, sizeof(why)), -ENOMEM);
	EXPECT_TRUE(strstr(why, "initrd") != NULL);
	/* A command line longer than cmdline_size. */
	memset(cmd, 'a', sizeof(cmd) - 1);
	cmd[sizeof(cmd) - 1] = 0;
	EXPECT_EQ(boot__setup(mem, 64 * MIB, im.buf, im.len, NULL, 0, cmd, &bi, why,
			      sizeof(why)), -E2BIG);
	EXPECT_EQ(boot__setup(mem, 8 * MIB, im.buf, im.len, NULL, 0, "", &bi, why,
			      sizeof(why)), -ENOMEM);
	EXPECT_EQ(boot__setup(mem, 4ULL << 30, im.buf, im.len, NULL, 0, "", &bi, why,
			      sizeof(why)), -ENOMEM);
	/* A bad image is refused by setup too. */
	hdr(&im)->header = 0;
	EXPECT_EQ(boot__setup(mem, 64 * MIB, im.buf, im.len, NULL, 0, "", &bi, why,
			      sizeof(why)), -ENOEXEC);
	for (i = 0; i < 64 * MIB; i += 4096)
		if (mem[i])
			break;
	EXPECT_EQ(i, 64 * MIB);
	free(mem);
	free(im.buf);
}

/* The lab's bzImage, once `make kernel` has built it. */
TEST(boot_real_bzimage_when_built)
{
	const char *o = getenv("O") ? getenv("O") : "out";
	char path[512], why[160] = "";
	struct boot_info bi;
	struct stat st;
	uint8_t *img, *mem;
	FILE *f;

	snprintf(path, sizeof(path), "%s/kernel/bzImage", o);
	if (stat(path, &st) || !(f = fopen(path, "rb"))) {
		printf("# %s not built: only the synthetic images were checked\n", path);
		return;
	}
	img = malloc(st.st_size);
	ASSERT_TRUE(fread(img, 1, st.st_size, f) == (size_t)st.st_size);
	fclose(f);
	EXPECT_EQ(boot__check_bzimage(img, st.st_size, why, sizeof(why)), 0);
	mem = calloc(1, 256 * MIB);
	EXPECT_EQ(boot__setup(mem, 256 * MIB, img, st.st_size, "initrd", 6,
			      "console=ttyS0", &bi, why, sizeof(why)), 0);
	if (why[0])
		printf("# %s\n", why);
	EXPECT_GE(bi.version, 0x020c);
	EXPECT_EQ(memcmp(mem + 0x100000, img + bi.setup_bytes, st.st_size - bi.setup_bytes), 0);
	/* 64-bit kernels: XLF_KERNEL_64 and a 64-bit entry 512 bytes in. */
	EXPECT_TRUE(bp_of(mem)->hdr.xloadflags & XLF_KERNEL_64);
	EXPECT_GE(bi.initrd_gpa, bi.kernel_end);
	printf("# %s: protocol %x, setup %u bytes, init_size %u KiB\n", path,
	       bi.version, bi.setup_bytes, bp_of(mem)->hdr.init_size >> 10);
	free(mem);
	free(img);
}

/* The MP table as Linux's mpparse reads it. */
TEST(mptable_for_two_cpus)
{
	uint8_t buf[1024];
	uint8_t *mpc, sum = 0;
	uint16_t len, count;
	uint32_t ptr;
	long n;
	int i, cpus = 0, bsp = 0, ints = 0, ioapic = -1;

	memset(buf, 0xee, sizeof(buf));
	n = mptable__write(buf, 0x9fc00, sizeof(buf), 2);
	ASSERT_TRUE(n > 0);
	EXPECT_EQ(n, mptable__size(2));
	/* The floating pointer: signature, checksum, pointer to the table. */
	EXPECT_EQ(memcmp(buf, "_MP_", 4), 0);
	for (i = 0; i < 16; i++)
		sum += buf[i];
	EXPECT_EQ(sum, 0);
	memcpy(&ptr, buf + 4, 4);
	EXPECT_EQ(ptr, 0x9fc00 + 16);
	EXPECT_EQ(buf[8], 1);		/* 16 bytes */
	EXPECT_EQ(buf[9], 4);		/* MP 1.4 */
	EXPECT_EQ(buf[11], 0);		/* a table follows, no default config */
	mpc = buf + 16;
	EXPECT_EQ(memcmp(mpc, "PCMP", 4), 0);
	memcpy(&len, mpc + 4, 2);
	memcpy(&count, mpc + 34, 2);
	EXPECT_EQ(len + 16, n);
	for (sum = 0, i = 0; i < len; i++)
		sum += mpc[i];
	EXPECT_EQ(sum, 0);
	/* Walk the entries as mpparse does, by type. */
	for (i = 44; i < len;) {
		switch (mpc[i]) {
		case 0:
			cpus++;
			bsp += !!(mpc[i + 3] & 2);
			EXPECT_EQ(mpc[i + 1], cpus - 1);	/* APIC ID = vCPU id */
			i += 20;
			break;
		case 2:
			ioapic = mpc[i + 1];
			i += 8;
			break;
		case 3:
			EXPECT_EQ(mpc[i + 5], mpc[i + 7]);	/* IRQ n on pin n */
			ints++;
			i += 8;
			break;
		default:
			i += 8;
		}
		count--;
	}
	EXPECT_EQ(i, len);
	EXPECT_EQ(count, 0);
	EXPECT_EQ(cpus, 2);
	EXPECT_EQ(bsp, 1);
	EXPECT_EQ(ioapic, 2);
	EXPECT_EQ(ints, 16);
	/* Nothing written past the table. */
	EXPECT_EQ(buf[n], 0xee);
	EXPECT_EQ(mptable__write(buf, 0x9fc00, 100, 2), -ENOSPC);
}
