/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PCI bus a featurevisor's L1 sees (configuration mechanism #1, ports
 * 0xcf8/0xcfc): a host bridge at 00:00.0 (Linux probes for one) and the
 * span window at 00:01.0, laid out like QEMU's ivshmem-plain: its shared
 * memory is BAR2 (64-bit, prefetchable), which the L1's user space maps
 * through sysfs (/sys/bus/pci/devices/0000:00:01.0/resource2) with no
 * driver and no /dev/mem.  Config register 0x40 says whether the window is
 * attached (SPAN_WINDOW_*), so a featurevisor never reads an empty window;
 * 0x44 and 0x48 a CR3 of the guest's.
 *
 * With memory events (pci__set_events(), span/spanfv_area.h), as ivshmem's
 * doorbell variant has its registers: BAR0, 32-bit memory, 4 KiB of
 * registers whose accesses exit to the controller (the doorbell), and
 * BAR4, 64-bit prefetchable, the event area the controller fills with
 * memslots at attach.
 */
#ifndef __SPANCTL_PCI_H
#define __SPANCTL_PCI_H

#include <stdint.h>

#define PCI_CONF_ADDR		0xcf8
#define PCI_CONF_DATA		0xcfc
#define SPAN_WINDOW_VENDOR	0x1af4	/* ivshmem's IDs: the same layout */
#define SPAN_WINDOW_DEVICE	0x1110
#define SPAN_WINDOW_BAR		2
#define SPAN_REGS_BAR		0
#define SPAN_AREA_BAR		4
#define SPAN_WINDOW_STATE_REG	0x40
/* A CR3 of the guest's vCPU 0 when it was attached (its kernel half maps
 * the same in every process): for libspanfv's page walks. */
#define SPAN_WINDOW_CR3_REG	0x44	/* low 32 bits; high at 0x48 */
#define SPAN_WINDOW_DETACHED	0
#define SPAN_WINDOW_ATTACHED	1
#define SPAN_WINDOW_READONLY	2

struct pci_bus {
	uint32_t addr;		/* the last CONFIG_ADDRESS written */
	uint16_t command[2];	/* per device */
	uint64_t bar;		/* the window BAR's address */
	uint64_t bar_size;	/* a power of two */
	int sizing_lo, sizing_hi;
	uint32_t state;		/* SPAN_WINDOW_* */
	uint64_t cr3;		/* SPAN_WINDOW_CR3_REG */
	/* The event BARs (0: none): BAR0 32-bit registers, BAR4 64-bit area. */
	uint32_t regs, regs_size;
	uint64_t area, area_size;
	int sizing_regs, sizing_area_lo, sizing_area_hi;
};

/* bar_size is rounded up to a power of two. */
void pci__init(struct pci_bus *p, uint64_t bar, uint64_t size);
/*
 * Add the event BARs: registers (regs_size bytes, 32-bit) and the event
 * area (a power of two of at least area_size bytes).
 */
void pci__set_events(struct pci_bus *p, uint32_t regs, uint32_t regs_size, uint64_t area,
		     uint64_t area_size);
/* Port I/O on 0xcf8..0xcff; returns 0 if the port is not PCI's. */
int pci__io(struct pci_bus *p, uint16_t port, int out, uint8_t *data, int size);

#endif /* __SPANCTL_PCI_H */
