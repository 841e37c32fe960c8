// SPDX-License-Identifier: GPL-2.0
/*
 * The MP table (see mptable.h): the floating pointer, then the
 * configuration table with one processor entry per vCPU (APIC ID = vCPU
 * id, the first the BSP), the ISA bus, KVM's in-kernel I/O APIC (ID
 * ncpus), the 16 ISA IRQs identity-mapped to its pins (as KVM routes
 * them), and ExtINT/NMI on every local APIC's LINT0/LINT1.
 */
#include <errno.h>
#include <string.h>

#include "mptable.h"

struct mpf {			/* floating pointer */
	char signature[4];	/* "_MP_" */
	uint32_t physptr;
	uint8_t length;		/* in 16-byte units: 1 */
	uint8_t specification;	/* 4: version 1.4 */
	uint8_t checksum;
	uint8_t feature[5];	/* feature[0] == 0: a table follows */
} __attribute__((packed));

struct mpc {			/* configuration table header */
	char signature[4];	/* "PCMP" */
	uint16_t length;
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount;	/* entries */
	uint32_t lapic;
	uint32_t reserved;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type;		/* 0 */
	uint8_t apicid;
	uint8_t apicver;
	uint8_t cpuflag;	/* 1 enabled, 2 boot processor */
	uint32_t cpufeature;
	uint32_t featureflag;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type;		/* 1 */
	uint8_t busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type;		/* 2 */
	uint8_t apicid;
	uint8_t apicver;
	uint8_t flags;		/* 1 enabled */
	uint32_t apicaddr;
} __attribute__((packed));

struct mpc_intsrc {
	uint8_t type;		/* 3 I/O interrupt, 4 local interrupt */
	uint8_t irqtype;	/* 0 INT, 1 NMI, 3 ExtINT */
	uint16_t irqflag;	/* 0: conforms to the bus */
	uint8_t srcbus;
	uint8_t srcbusirq;
	uint8_t dstapic;	/* 0xff: every local APIC */
	uint8_t dstirq;
} __attribute__((packed));

_Static_assert(sizeof(struct mpf) == 16, "mpf");
_Static_assert(sizeof(struct mpc) == 44, "mpc");
_Static_assert(sizeof(struct mpc_cpu) == 20, "mpc_cpu");
_Static_assert(sizeof(struct mpc_intsrc) == 8, "mpc_intsrc");

static uint8_t checksum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (n--)
		sum += *b++;
	return (uint8_t)-sum;
}

size_t mptable__size(unsigned int ncpus)
{
	return sizeof(struct mpf) + sizeof(struct mpc) + ncpus * sizeof(struct mpc_cpu) +
	       sizeof(struct mpc_bus) + sizeof(struct mpc_ioapic) +
	       (MPTABLE_ISA_IRQS + 2) * sizeof(struct mpc_intsrc);
}

long mptable__write(void *buf, uint32_t gpa, size_t room, unsigned int ncpus)
{
	size_t size = mptable__size(ncpus);
	uint8_t *p = buf, *e;
	struct mpf *mpf = buf;
	struct mpc *mpc = (struct mpc *)(p + sizeof(*mpf));
	uint8_t ioapic_id = ncpus;
	unsigned int i;

	if (ncpus == 0 || ncpus > 254 || size > room)
		return -ENOSPC;
	memset(buf, 0, size);
	e = (uint8_t *)(mpc + 1);
	for (i = 0; i < ncpus; i++, e += sizeof(struct mpc_cpu)) {
		struct mpc_cpu c = {
			.type = 0, .apicid = i, .apicver = 0x14,
			.cpuflag = 1 | (i == 0 ? 2 : 0),
			.cpufeature = 0x600,	/* family 6: any modern CPU */
			.featureflag = 0x201,	/* FPU, APIC */
		};
		memcpy(e, &c, sizeof(c));
	}
	memcpy(e, &(struct mpc_bus){ .type = 1, .busid = 0, .bustype = "ISA   " },
	       sizeof(struct mpc_bus));
	e += sizeof(struct mpc_bus);
	memcpy(e, &(struct mpc_ioapic){ .type = 2, .apicid = ioapic_id, .apicver = 0x11,
					.flags = 1, .apicaddr = MPTABLE_IOAPIC_ADDR },
	       sizeof(struct mpc_ioapic));
	e += sizeof(struct mpc_ioapic);
	for (i = 0; i < MPTABLE_ISA_IRQS; i++, e += sizeof(struct mpc_intsrc)) {
		struct mpc_intsrc s = {
			.type = 3, .irqtype = 0, .srcbus = 0, .srcbusirq = i,
			.dstapic = ioapic_id, .dstirq = i,
		};
		memcpy(e, &s, sizeof(s));
	}
	memcpy(e, &(struct mpc_intsrc){ .type = 4, .irqtype = 3, .dstapic = 0xff, .dstirq = 0 },
	       sizeof(struct mpc_intsrc));
	e += sizeof(struct mpc_intsrc);
	memcpy(e, &(struct mpc_intsrc){ .type = 4, .irqtype = 1, .dstapic = 0xff, .dstirq = 1 },
	       sizeof(struct mpc_intsrc));
	e += sizeof(struct mpc_intsrc);

	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = e - (uint8_t *)mpc;
	mpc->spec = 4;
	memcpy(mpc->oem, "SPAN    ", 8);
	memcpy(mpc->productid, "SPANCTL     ", 12);
	mpc->oemcount = ncpus + 1 + 1 + MPTABLE_ISA_IRQS + 2;
	mpc->lapic = MPTABLE_LAPIC_ADDR;
	mpc->checksum = checksum(mpc, mpc->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = gpa + sizeof(*mpf);
	mpf->length = 1;
	mpf->specification = 4;
	mpf->checksum = checksum(mpf, sizeof(*mpf));
	return e - p;
}
