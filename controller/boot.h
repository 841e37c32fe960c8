/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Linux/x86 boot protocol, 32-bit entry (Documentation/arch/x86/boot.rst):
 * lay a bzImage, its initrd, command line, boot_params and e820 map into a
 * guest's memory so that a vCPU in flat protected mode at `entry` with
 * RSI = boot_params boots it.  Pure memory work, unit-tested on real bytes.
 */
#ifndef __SPANCTL_BOOT_H
#define __SPANCTL_BOOT_H

#include <stddef.h>
#include <stdint.h>

/* Where things go in guest-physical memory (all below the kernel). */
#define BOOT_PARAMS_GPA		0x10000ULL
#define BOOT_CMDLINE_GPA	0x20000ULL
#define BOOT_CMDLINE_MAX	0x10000ULL	/* up to the next page we use */
#define BOOT_EBDA_GPA		0x9fc00ULL	/* end of low RAM; MP table lives here */
#define BOOT_BIOS_GPA		0xf0000ULL	/* reserved up to 1 MiB */
#define BOOT_KERNEL_GPA		0x100000ULL
/* Guest RAM stays below the 32-bit hole (TSS and identity map at the top). */
#define BOOT_MEM_MIN		(16ULL << 20)
#define BOOT_MEM_MAX		(3ULL << 30)

struct boot_info {
	uint64_t entry;		/* RIP: the protected-mode kernel */
	uint64_t boot_params;	/* RSI */
	uint64_t kernel_end;	/* first byte the kernel will not use (init_size) */
	uint64_t initrd_gpa;
	uint64_t initrd_size;
	uint16_t version;	/* boot protocol, e.g. 0x020f */
	uint32_t setup_bytes;	/* real-mode part of the image, skipped */
};

/*
 * Check that img is a bzImage this loader can boot; 0, or -ENOEXEC with
 * a one-line reason in why.
 */
int boot__check_bzimage(const void *img, size_t len, char *why, size_t whylen);

/*
 * Lay everything out in mem (mem_size bytes of guest-physical memory from
 * address 0).  The initrd goes as high as initrd_addr_max and the memory
 * allow, above the kernel's init_size.  0, or -ENOEXEC (bad image), -E2BIG
 * (command line too long) or -ENOMEM (does not fit) with the reason in why.
 */
int boot__setup(void *mem, uint64_t mem_size, const void *kernel, size_t klen,
		const void *initrd, size_t ilen, const char *cmdline,
		struct boot_info *info, char *why, size_t whylen);

#endif /* __SPANCTL_BOOT_H */
