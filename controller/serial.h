/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A 16550A UART as Linux's 8250 driver sees it: transmit is instant, receive
 * is a small FIFO fed by `spanctl console`, the interrupt line follows the
 * chip's rules (THR-empty cleared by reading IIR or writing THR), loopback
 * for the driver's probe.  The caller serialises access.
 */
#ifndef __SPANCTL_SERIAL_H
#define __SPANCTL_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#define SERIAL_RX_FIFO 256

struct serial8250 {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	int thri;		/* THR-empty interrupt pending */
	int irq_level;
	char rx[SERIAL_RX_FIFO];
	unsigned int rx_head, rx_tail;
	uint64_t tx_bytes;
	void (*tx)(void *ctx, char c);
	void (*irq)(void *ctx, int level);
	void *ctx;
};

void serial8250__init(struct serial8250 *s, void (*tx)(void *, char),
		      void (*irq)(void *, int), void *ctx);
uint8_t serial8250__in(struct serial8250 *s, unsigned int off);
void serial8250__out(struct serial8250 *s, unsigned int off, uint8_t v);
/* Queue input for the guest; returns how many bytes fitted. */
size_t serial8250__rx(struct serial8250 *s, const char *buf, size_t len);

#endif /* __SPANCTL_SERIAL_H */
