/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An Intel MultiProcessor Specification 1.4 table: how a guest without ACPI
 * tables finds its CPUs, its I/O APIC and how the ISA IRQs reach it.
 */
#ifndef __SPANCTL_MPTABLE_H
#define __SPANCTL_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

#define MPTABLE_LAPIC_ADDR	0xfee00000U
#define MPTABLE_IOAPIC_ADDR	0xfec00000U
#define MPTABLE_ISA_IRQS	16

/* Bytes a table for ncpus needs. */
size_t mptable__size(unsigned int ncpus);
/*
 * Write the floating pointer and the table at buf, which the guest sees
 * at gpa; room is what buf holds.  Returns the bytes written or -ENOSPC.
 */
long mptable__write(void *buf, uint32_t gpa, size_t room, unsigned int ncpus);

#endif /* __SPANCTL_MPTABLE_H */
