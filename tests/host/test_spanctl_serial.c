// SPDX-License-Identifier: GPL-2.0
/*
 * spanctl's 16550A (controller/serial.c) as Linux's 8250 driver drives it,
 * and its option tables (controller/options.c).
 */
#include <errno.h>
#include <linux/serial_reg.h>
#include <string.h>

#include "harness.h"
#include "options.h"
#include "serial.h"

struct uart_sink {
	char out[64];
	int n;
	int level, edges;
};

static void sink_tx(void *ctx, char c)
{
	struct uart_sink *k = ctx;

	if (k->n < (int)sizeof(k->out))
		k->out[k->n++] = c;
}

static void sink_irq(void *ctx, int level)
{
	struct uart_sink *k = ctx;

	k->edges += level && !k->level;
	k->level = level;
}

TEST(serial_probe_sees_a_16550a)
{
	struct uart_sink k = { 0 };
	struct serial8250 s;

	serial8250__init(&s, sink_tx, sink_irq, &k);
	/* The scratch register holds what is written. */
	serial8250__out(&s, UART_SCR, 0xa5);
	EXPECT_EQ(serial8250__in(&s, UART_SCR), 0xa5);
	/* IER keeps its four bits (autoconfig writes 0x0f, reads back 0x0f). */
	serial8250__out(&s, UART_IER, 0x0f);
	EXPECT_EQ(serial8250__in(&s, UART_IER), 0x0f);
	serial8250__out(&s, UART_IER, 0);
	/* FIFOs on: IIR's top bits say 16550A. */
	serial8250__out(&s, UART_FCR, UART_FCR_ENABLE_FIFO);
	EXPECT_EQ(serial8250__in(&s, UART_IIR) & 0xc0, 0xc0);
	/* Loopback: MCR's outputs come back as MSR's inputs (0x90 for 0x1a). */
	serial8250__out(&s, UART_MCR, UART_MCR_LOOP | 0x0a);
	EXPECT_EQ(serial8250__in(&s, UART_MSR) & 0xf0, 0x90);
	serial8250__out(&s, UART_MCR, UART_MCR_OUT2);
	/* The divisor latch does not disturb THR and IER. */
	serial8250__out(&s, UART_LCR, UART_LCR_DLAB);
	serial8250__out(&s, UART_DLL, 1);
	serial8250__out(&s, UART_DLM, 0);
	EXPECT_EQ(serial8250__in(&s, UART_DLL), 1);
	serial8250__out(&s, UART_LCR, UART_LCR_WLEN8);
	EXPECT_EQ(k.n, 0);
	EXPECT_EQ(serial8250__in(&s, UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT),
		  UART_LSR_THRE | UART_LSR_TEMT);
}

TEST(serial_thr_empty_interrupt_follows_the_chip)
{
	struct uart_sink k = { 0 };
	struct serial8250 s;

	serial8250__init(&s, sink_tx, sink_irq, &k);
	/* Enabling THRI with an empty THR raises the line. */
	serial8250__out(&s, UART_IER, UART_IER_THRI);
	EXPECT_EQ(k.level, 1);
	/* Reading IIR reports THRI once and clears it. */
	EXPECT_EQ(serial8250__in(&s, UART_IIR) & 0x0f, UART_IIR_THRI);
	EXPECT_EQ(k.level, 0);
	EXPECT_EQ(serial8250__in(&s, UART_IIR) & 0x0f, UART_IIR_NO_INT);
	/* Each write is sent at once and raises the line again: a new edge. */
	serial8250__out(&s, UART_TX, 'o');
	serial8250__out(&s, UART_TX, 'k');
	EXPECT_EQ(k.level, 1);
	EXPECT_EQ(k.edges, 2);
	EXPECT_EQ(k.n, 2);
	EXPECT_EQ(memcmp(k.out, "ok", 2), 0);
	EXPECT_EQ(s.tx_bytes, 2);
	/* The driver stops transmitting: the line drops. */
	serial8250__out(&s, UART_IER, 0);
	EXPECT_EQ(k.level, 0);
}

TEST(serial_receive_raises_data_ready)
{
	struct uart_sink k = { 0 };
	struct serial8250 s;
	char big[SERIAL_RX_FIFO + 10];

	serial8250__init(&s, sink_tx, sink_irq, &k);
	serial8250__out(&s, UART_IER, UART_IER_RDI);
	EXPECT_EQ(serial8250__rx(&s, "hi", 2), 2);
	EXPECT_EQ(k.level, 1);
	EXPECT_TRUE(serial8250__in(&s, UART_LSR) & UART_LSR_DR);
	EXPECT_EQ(serial8250__in(&s, UART_IIR) & 0x0f, UART_IIR_RDI);
	EXPECT_EQ(serial8250__in(&s, UART_RX), 'h');
	EXPECT_EQ(serial8250__in(&s, UART_RX), 'i');
	EXPECT_EQ(k.level, 0);
	EXPECT_TRUE(!(serial8250__in(&s, UART_LSR) & UART_LSR_DR));
	/* The FIFO takes what fits and says so. */
	memset(big, 'x', sizeof(big));
	EXPECT_EQ(serial8250__rx(&s, big, sizeof(big)), SERIAL_RX_FIFO);
	serial8250__out(&s, UART_FCR, UART_FCR_CLEAR_RCVR);
	EXPECT_TRUE(!(serial8250__in(&s, UART_LSR) & UART_LSR_DR));
}

TEST(options_parse_tables)
{
	const char *kernel = NULL;
	uint64_t mem = 7, cpus = 1;
	int flag = 0, npos, help;
	char *pos[OPT_MAX_POS];
	const struct opt opts[] = {
		OPT_STR('k', "kernel", &kernel, "FILE", "kernel"),
		OPT_SIZE('m', "mem", &mem, 16 << 20, 3ULL << 30, "SIZE", "memory"),
		OPT_U64('c', "cpus", &cpus, 1, 8, "N", "cpus"),
		OPT_FLAG(0, "flag", &flag, "a flag"),
		OPT_END(),
	};
	char *ok[] = { "g1", "--kernel", "bz", "-m", "1G", "--cpus=4", "--flag", "--", "-x" };
	char *bad1[] = { "--mem", "12x" };
	char *bad2[] = { "--cpus", "9" };
	char *bad3[] = { "--frob" };
	char *bad4[] = { "--kernel" };
	char *bad5[] = { "--flag=1" };
	char *help1[] = { "g1", "-h" };

	EXPECT_EQ(opts__parse("t", opts, 9, ok, pos, OPT_MAX_POS, &npos, &help), 0);
	EXPECT_EQ(npos, 2);
	EXPECT_STREQ(pos[0], "g1");
	EXPECT_STREQ(pos[1], "-x");
	EXPECT_STREQ(kernel, "bz");
	EXPECT_TRUE(mem == 1ULL << 30);
	EXPECT_EQ(cpus, 4);
	EXPECT_EQ(flag, 1);
	EXPECT_EQ(opts__parse("t", opts, 2, bad1, pos, OPT_MAX_POS, &npos, &help), -1);
	EXPECT_EQ(opts__parse("t", opts, 2, bad2, pos, OPT_MAX_POS, &npos, &help), -1);
	EXPECT_EQ(opts__parse("t", opts, 1, bad3, pos, OPT_MAX_POS, &npos, &help), -1);
	EXPECT_EQ(opts__parse("t", opts, 1, bad4, pos, OPT_MAX_POS, &npos, &help), -1);
	EXPECT_EQ(opts__parse("t", opts, 1, bad5, pos, OPT_MAX_POS, &npos, &help), -1);
	EXPECT_EQ(opts__parse("t", opts, 2, help1, pos, OPT_MAX_POS, &npos, &help), 0);
	EXPECT_EQ(help, 1);
	EXPECT_EQ(opts__parse("t", opts, 9, ok, pos, 1, &npos, &help), -1);
}

TEST(options_sizes)
{
	uint64_t v = 0;

	EXPECT_EQ(opts__parse_size("256M", 0, UINT64_MAX, &v), 0);
	EXPECT_TRUE(v == 256ULL << 20);
	EXPECT_EQ(opts__parse_size("3g", 0, UINT64_MAX, &v), 0);
	EXPECT_TRUE(v == 3ULL << 30);
	EXPECT_EQ(opts__parse_size("4096", 0, UINT64_MAX, &v), 0);
	EXPECT_EQ(v, 4096);
	EXPECT_EQ(opts__parse_size("M", 0, UINT64_MAX, &v), -EINVAL);
	EXPECT_EQ(opts__parse_size("1.5G", 0, UINT64_MAX, &v), -EINVAL);
	EXPECT_EQ(opts__parse_size("-1M", 0, UINT64_MAX, &v), -EINVAL);
	EXPECT_EQ(opts__parse_size("99999999999G", 0, UINT64_MAX, &v), -ERANGE);
	EXPECT_EQ(opts__parse_size("4G", 0, 3ULL << 30, &v), -ERANGE);
}
