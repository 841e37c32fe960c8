// SPDX-License-Identifier: GPL-2.0
/*
 * A 16550A UART (see serial.h).  Register names as in <linux/serial_reg.h>.
 */
#include <linux/serial_reg.h>
#include <string.h>

#include "serial.h"

static unsigned int rx__count(const struct serial8250 *s)
{
	return s->rx_head - s->rx_tail;
}

static void serial__update_irq(struct serial8250 *s)
{
	int level = ((s->ier & UART_IER_RDI) && rx__count(s)) ||
		    ((s->ier & UART_IER_THRI) && s->thri);

	if (level != s->irq_level) {
		s->irq_level = level;
		if (s->irq)
			s->irq(s->ctx, level);
	}
}

void serial8250__init(struct serial8250 *s, void (*tx)(void *, char),
		      void (*irq)(void *, int), void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->tx = tx;
	s->irq = irq;
	s->ctx = ctx;
	s->mcr = UART_MCR_OUT2;
	s->thri = 1;
}

static uint8_t serial__msr(const struct serial8250 *s)
{
	if (s->mcr & UART_MCR_LOOP)
		return ((s->mcr & UART_MCR_DTR) ? UART_MSR_DSR : 0) |
		       ((s->mcr & UART_MCR_RTS) ? UART_MSR_CTS : 0) |
		       ((s->mcr & UART_MCR_OUT1) ? UART_MSR_RI : 0) |
		       ((s->mcr & UART_MCR_OUT2) ? UART_MSR_DCD : 0);
	return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
}

uint8_t serial8250__in(struct serial8250 *s, unsigned int off)
{
	uint8_t v = 0;

	switch (off) {
	case UART_RX:
		if (s->lcr & UART_LCR_DLAB)
			return s->dll;
		if (rx__count(s))
			v = s->rx[s->rx_tail++ % SERIAL_RX_FIFO];
		break;
	case UART_IER:
		return (s->lcr & UART_LCR_DLAB) ? s->dlm : s->ier;
	case UART_IIR:
		if ((s->ier & UART_IER_RDI) && rx__count(s)) {
			v = UART_IIR_RDI;
		} else if ((s->ier & UART_IER_THRI) && s->thri) {
			v = UART_IIR_THRI;
			s->thri = 0;	/* reading IIR clears THR-empty */
		} else {
			v = UART_IIR_NO_INT;
		}
		if (s->fcr & UART_FCR_ENABLE_FIFO)
			v |= 0xc0;
		break;
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		v = UART_LSR_TEMT | UART_LSR_THRE;
		if (rx__count(s))
			v |= UART_LSR_DR;
		return v;
	case UART_MSR:
		return serial__msr(s);
	case UART_SCR:
		return s->scr;
	}
	serial__update_irq(s);
	return v;
}

void serial8250__out(struct serial8250 *s, unsigned int off, uint8_t v)
{
	switch (off) {
	case UART_TX:
		if (s->lcr & UART_LCR_DLAB) {
			s->dll = v;
			return;
		}
		if (s->mcr & UART_MCR_LOOP) {
			serial8250__rx(s, (char *)&v, 1);
		} else {
			s->tx_bytes++;
			if (s->tx)
				s->tx(s->ctx, v);
		}
		s->thri = 1;	/* sent at once: THR empty again */
		break;
	case UART_IER:
		if (s->lcr & UART_LCR_DLAB) {
			s->dlm = v;
			return;
		}
		/* Enabling THR-empty while the THR is empty raises it. */
		if ((v & UART_IER_THRI) && !(s->ier & UART_IER_THRI))
			s->thri = 1;
		s->ier = v & 0x0f;
		break;
	case UART_FCR:
		s->fcr = v & (UART_FCR_ENABLE_FIFO | 0xc0);
		if (v & UART_FCR_CLEAR_RCVR)
			s->rx_tail = s->rx_head;
		break;
	case UART_LCR:
		s->lcr = v;
		return;
	case UART_MCR:
		s->mcr = v & 0x1f;
		break;
	case UART_SCR:
		s->scr = v;
		return;
	default:
		return;
	}
	serial__update_irq(s);
}

size_t serial8250__rx(struct serial8250 *s, const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len && rx__count(s) < SERIAL_RX_FIFO; i++)
		s->rx[s->rx_head++ % SERIAL_RX_FIFO] = buf[i];
	serial__update_irq(s);
	return i;
}
