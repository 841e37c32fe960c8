// SPDX-License-Identifier: GPL-2.0
/*
 * A two-device PCI bus (see pci.h).
 */
#include <linux/pci_regs.h>
#include <string.h>

#include "pci.h"

static uint64_t pow2_up(uint64_t size)
{
	uint64_t s = 4096;

	while (s < size)
		s <<= 1;
	return s;
}

void pci__init(struct pci_bus *p, uint64_t bar, uint64_t size)
{
	memset(p, 0, sizeof(*p));
	p->bar = bar;
	p->bar_size = pow2_up(size);
}

void pci__set_events(struct pci_bus *p, uint32_t regs, uint32_t regs_size, uint64_t area,
		     uint64_t area_size)
{
	p->regs = regs;
	p->regs_size = pow2_up(regs_size);
	p->area = area;
	p->area_size = pow2_up(area_size);
}

static uint32_t cfg__read(struct pci_bus *p, unsigned int dev, unsigned int reg)
{
	uint32_t bar_flags = PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH;

	switch (reg) {
	case PCI_VENDOR_ID:
		return dev == 0 ? 0x12378086 :	/* Intel 440FX host bridge */
		       SPAN_WINDOW_DEVICE << 16 | SPAN_WINDOW_VENDOR;
	case PCI_COMMAND:
		return p->command[dev];
	case PCI_CLASS_REVISION:
		return dev == 0 ? 0x06000000 : 0x05000001;	/* host bridge; RAM, rev 1 */
	case PCI_HEADER_TYPE & ~3:
		return 0;
	case PCI_SUBSYSTEM_VENDOR_ID:
		return dev == 1 ? 0x11001af4 : 0;
	}
	if (dev == 1 && reg == PCI_BASE_ADDRESS_0 + 4 * SPAN_WINDOW_BAR)
		return p->sizing_lo ? (uint32_t)~(p->bar_size - 1) | bar_flags :
				      (uint32_t)p->bar | bar_flags;
	if (dev == 1 && reg == PCI_BASE_ADDRESS_0 + 4 * SPAN_WINDOW_BAR + 4)
		return p->sizing_hi ? (uint32_t)(~(p->bar_size - 1) >> 32) :
				      (uint32_t)(p->bar >> 32);
	if (dev == 1 && p->regs_size && reg == PCI_BASE_ADDRESS_0 + 4 * SPAN_REGS_BAR)
		return p->sizing_regs ? ~(p->regs_size - 1) : p->regs;
	if (dev == 1 && p->area_size && reg == PCI_BASE_ADDRESS_0 + 4 * SPAN_AREA_BAR)
		return p->sizing_area_lo ? (uint32_t)~(p->area_size - 1) | bar_flags :
					   (uint32_t)p->area | bar_flags;
	if (dev == 1 && p->area_size && reg == PCI_BASE_ADDRESS_0 + 4 * SPAN_AREA_BAR + 4)
		return p->sizing_area_hi ? (uint32_t)(~(p->area_size - 1) >> 32) :
					   (uint32_t)(p->area >> 32);
	if (dev == 1 && reg == SPAN_WINDOW_STATE_REG)
		return p->state;
	if (dev == 1 && reg == SPAN_WINDOW_CR3_REG)
		return (uint32_t)p->cr3;
	if (dev == 1 && reg == SPAN_WINDOW_CR3_REG + 4)
		return (uint32_t)(p->cr3 >> 32);
	return 0;
}

static void cfg__write(struct pci_bus *p, unsigned int dev, unsigned int reg, uint32_t v)
{
	if (reg == PCI_COMMAND) {
		p->command[dev] = v & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
		return;
	}
	if (dev != 1)
		return;
	/* Sizing writes all ones; anything else moves the BAR. */
	if (reg == PCI_BASE_ADDRESS_0 + 4 * SPAN_WINDOW_BAR) {
		p->sizing_lo = v == 0xffffffff;
		if (!p->sizing_lo)
			p->bar = (p->bar & ~0xffffffffULL) | (v & ~(uint32_t)(p->bar_size - 1) & ~0xfU);
	} else if (reg == PCI_BASE_ADDRESS_0 + 4 * SPAN_WINDOW_BAR + 4) {
		p->sizing_hi = v == 0xffffffff;
		if (!p->sizing_hi)
			p->bar = (p->bar & 0xffffffffULL) | (uint64_t)v << 32;
	} else if (p->regs_size && reg == PCI_BASE_ADDRESS_0 + 4 * SPAN_REGS_BAR) {
		p->sizing_regs = v == 0xffffffff;
		if (!p->sizing_regs)
			p->regs = v & ~(p->regs_size - 1) & ~0xfU;
	} else if (p->area_size && reg == PCI_BASE_ADDRESS_0 + 4 * SPAN_AREA_BAR) {
		p->sizing_area_lo = v == 0xffffffff;
		if (!p->sizing_area_lo)
			p->area = (p->area & ~0xffffffffULL) |
				  (v & ~(uint32_t)(p->area_size - 1) & ~0xfU);
	} else if (p->area_size && reg == PCI_BASE_ADDRESS_0 + 4 * SPAN_AREA_BAR + 4) {
		p->sizing_area_hi = v == 0xffffffff;
		if (!p->sizing_area_hi)
			p->area = (p->area & 0xffffffffULL) | (uint64_t)v << 32;
	}
}

int pci__io(struct pci_bus *p, uint16_t port, int out, uint8_t *data, int size)
{
	unsigned int bus, dev, fn, reg, shift;
	uint32_t v;

	if (port >= PCI_CONF_ADDR && port < PCI_CONF_ADDR + 4) {
		if (port != PCI_CONF_ADDR || size != 4) {
			/* Byte access to 0xcf8..0xcfb is not config space. */
			if (!out)
				memset(data, 0xff, size);
			return 1;
		}
		if (out)
			memcpy(&p->addr, data, 4);
		else
			memcpy(data, &p->addr, 4);
		return 1;
	}
	if (port < PCI_CONF_DATA || port >= PCI_CONF_DATA + 4)
		return 0;
	bus = (p->addr >> 16) & 0xff;
	dev = (p->addr >> 11) & 0x1f;
	fn = (p->addr >> 8) & 7;
	reg = p->addr & 0xfc;
	shift = 8 * (port - PCI_CONF_DATA);
	if (!(p->addr & 0x80000000U) || bus || dev > 1 || fn || shift + 8 * size > 32) {
		if (!out)
			memset(data, 0xff, size);	/* no device */
		return 1;
	}
	if (out) {
		uint32_t mask = (size == 4 ? 0xffffffffU : ((1U << (8 * size)) - 1)) << shift;

		v = 0;
		memcpy(&v, data, size);
		cfg__write(p, dev, reg, (cfg__read(p, dev, reg) & ~mask) | ((v << shift) & mask));
	} else {
		v = cfg__read(p, dev, reg) >> shift;
		memcpy(data, &v, size);
	}
	return 1;
}
