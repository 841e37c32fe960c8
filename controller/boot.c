// SPDX-License-Identifier: GPL-2.0
/*
 * The Linux/x86 boot protocol's 32-bit entry (see boot.h).
 */
#include <asm/bootparam.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"

#define HDR_MAGIC	0x53726448	/* "HdrS" */
#define BOOT_FLAG	0xaa55
#define MIN_VERSION	0x0206		/* cmdline_size, initrd_addr_max */
#define LOADER_UNKNOWN	0xff
#define E820_RAM	1
#define E820_RESERVED	2
#define PAGE_SIZE	4096ULL

#define reason(...) snprintf(why, whylen, __VA_ARGS__)

/* The setup header's length: it ends at 0x202 + the byte at 0x201. */
static size_t hdr__len(const uint8_t *img)
{
	size_t end = 0x202 + img[0x201];
	size_t max = 0x1f1 + sizeof(struct setup_header);

	return (end < max ? end : max) - 0x1f1;
}

static uint32_t setup__bytes(const struct setup_header *h)
{
	/* "If this field is 0, the real value is 4." */
	return ((h->setup_sects ? h->setup_sects : 4) + 1) * 512;
}

int boot__check_bzimage(const void *img, size_t len, char *why, size_t whylen)
{
	const struct setup_header *h;
	uint32_t setup;

	if (len < 0x1f1 + sizeof(*h)) {
		reason("not a bzImage: %zu bytes is too small for a setup header", len);
		return -ENOEXEC;
	}
	h = (const struct setup_header *)((const uint8_t *)img + 0x1f1);
	if (h->boot_flag != BOOT_FLAG) {
		reason("not a bzImage: no 0xAA55 boot flag");
		return -ENOEXEC;
	}
	if (h->header != HDR_MAGIC) {
		reason("not a bzImage: no \"HdrS\" setup header");
		return -ENOEXEC;
	}
	if (h->version < MIN_VERSION) {
		reason("boot protocol %u.%02u is too old, need 2.06 or later",
		       h->version >> 8, h->version & 0xff);
		return -ENOEXEC;
	}
	if (!(h->loadflags & LOADED_HIGH)) {
		reason("a zImage (loaded low), not a bzImage");
		return -ENOEXEC;
	}
	setup = setup__bytes(h);
	if (setup >= len) {
		reason("truncated: %u setup bytes but the image has %zu", setup, len);
		return -ENOEXEC;
	}
	if ((uint64_t)h->syssize * 16 > len - setup) {
		reason("truncated: the kernel is %u bytes but the image holds %zu",
		       h->syssize * 16, len - setup);
		return -ENOEXEC;
	}
	return 0;
}

static void e820__add(struct boot_params *bp, uint64_t addr, uint64_t size, uint32_t type)
{
	struct boot_e820_entry *e = &bp->e820_table[bp->e820_entries++];

	e->addr = addr;
	e->size = size;
	e->type = type;
}

int boot__setup(void *mem, uint64_t mem_size, const void *kernel, size_t klen,
		const void *initrd, size_t ilen, const char *cmdline,
		struct boot_info *info, char *why, size_t whylen)
{
	uint8_t *m = mem;
	struct boot_params *bp = (struct boot_params *)(m + BOOT_PARAMS_GPA);
	const struct setup_header *kh;
	uint64_t pm_len, start, end, top, initrd_gpa = 0;
	size_t cmd_len = strlen(cmdline), cmd_max;
	int err;

	if (mem_size < BOOT_MEM_MIN || mem_size > BOOT_MEM_MAX) {
		reason("guest memory of %llu MiB is outside %llu MiB..%llu GiB",
		       (unsigned long long)(mem_size >> 20), BOOT_MEM_MIN >> 20,
		       BOOT_MEM_MAX >> 30);
		return -ENOMEM;
	}
	err = boot__check_bzimage(kernel, klen, why, whylen);
	if (err)
		return err;
	kh = (const struct setup_header *)((const uint8_t *)kernel + 0x1f1);

	memset(info, 0, sizeof(*info));
	info->setup_bytes = setup__bytes(kh);
	info->version = kh->version;
	pm_len = klen - info->setup_bytes;
	/*
	 * The kernel needs init_size bytes from where it runs: not below its
	 * pref_address (LOAD_PHYSICAL_ADDR, 16 MiB on x86-64), where the
	 * decompressor puts it even when it was loaded lower, relocatable or
	 * not (with KASLR, somewhere above that).
	 */
	start = kh->version >= 0x020a && kh->pref_address > BOOT_KERNEL_GPA ?
		kh->pref_address : BOOT_KERNEL_GPA;
	end = start + (kh->init_size > pm_len ? kh->init_size : pm_len);
	end = (end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	if (end > mem_size) {
		reason("the kernel needs %llu MiB from %llu MiB, the guest has %llu MiB",
		       (unsigned long long)((end - start) >> 20),
		       (unsigned long long)(start >> 20),
		       (unsigned long long)(mem_size >> 20));
		return -ENOMEM;
	}

	cmd_max = kh->cmdline_size < BOOT_CMDLINE_MAX - 1 ? kh->cmdline_size : BOOT_CMDLINE_MAX - 1;
	if (cmd_len > cmd_max) {
		reason("command line of %zu bytes, the kernel takes at most %zu",
		       cmd_len, cmd_max);
		return -E2BIG;
	}

	if (ilen) {
		top = (uint64_t)kh->initrd_addr_max + 1;
		if (top > mem_size)
			top = mem_size;
		if (ilen > top) {
			reason("initrd of %zu bytes does not fit below %#llx",
			       ilen, (unsigned long long)top);
			return -ENOMEM;
		}
		initrd_gpa = (top - ilen) & ~(PAGE_SIZE - 1);
		if (initrd_gpa < end) {
			reason("initrd of %zu KiB does not fit between the kernel (to %#llx) and %#llx",
			       ilen >> 10, (unsigned long long)end, (unsigned long long)top);
			return -ENOMEM;
		}
	}

	/* Everything fits: write it. */
	memset(bp, 0, sizeof(*bp));
	memcpy(&bp->hdr, kh, hdr__len(kernel));
	bp->hdr.type_of_loader = LOADER_UNKNOWN;
	bp->hdr.loadflags |= CAN_USE_HEAP | KEEP_SEGMENTS;
	bp->hdr.heap_end_ptr = 0xfe00;
	bp->hdr.vid_mode = 0xffff;		/* "normal" */
	bp->hdr.cmd_line_ptr = BOOT_CMDLINE_GPA;
	bp->hdr.code32_start = BOOT_KERNEL_GPA;
	bp->hdr.ramdisk_image = initrd_gpa;
	bp->hdr.ramdisk_size = ilen;
	memcpy(m + BOOT_CMDLINE_GPA, cmdline, cmd_len + 1);

	e820__add(bp, 0, BOOT_EBDA_GPA, E820_RAM);
	e820__add(bp, BOOT_EBDA_GPA, 0xa0000 - BOOT_EBDA_GPA, E820_RESERVED);
	e820__add(bp, BOOT_BIOS_GPA, BOOT_KERNEL_GPA - BOOT_BIOS_GPA, E820_RESERVED);
	e820__add(bp, BOOT_KERNEL_GPA, mem_size - BOOT_KERNEL_GPA, E820_RAM);

	memcpy(m + BOOT_KERNEL_GPA, (const uint8_t *)kernel + info->setup_bytes, pm_len);
	if (ilen)
		memcpy(m + initrd_gpa, initrd, ilen);

	info->entry = BOOT_KERNEL_GPA;
	info->boot_params = BOOT_PARAMS_GPA;
	info->kernel_end = end;
	info->initrd_gpa = initrd_gpa;
	info->initrd_size = ilen;
	return 0;
}
