// SPDX-License-Identifier: GPL-2.0
/*
 * spanev: span memory events end to end on L0, with no L1 needed: a span
 * guest (one vCPU, 32-bit flat protected mode, no paging) writes its pages;
 * views of it (VMs attached with KVM_SPAN_ATTACH, as featurevisors' L1s
 * are, but with no vCPU) subscribe with KVM_SPAN_SET_ACCESS; each view's
 * events reach it through its own BPF dispatcher on span:span_mem_event
 * (lib/spanevents.c), and a thread per view replies with KVM_SPAN_REPLY.
 *
 *   spanev check -f DIR   the delivery test (tests/lab/spanev.sh): two views
 *                         with their own filters (DIR/range.bpf.o) each get
 *                         exactly their events, in sequence, and reply; the
 *                         dirty bitmap holds every write notification even
 *                         where the filter or a full ring dropped the
 *                         record; a filter calling bpf_probe_read_kernel is
 *                         refused with its reason.
 *   spanev bench          the cost of one guest write that faults, as a
 *                         plain fault, a write notification and a
 *                         synchronous event (delivery, reply, access done),
 *                         side by side in one run, with the ratios.
 *   spanev mirror         a guest writing random memory, not mirrored, and
 *                         mirrored in L0 every P ms by write notifications
 *                         or by KVM_GET_DIRTY_LOG; its write rate each way,
 *                         and every page of each mirror compared with the
 *                         paused guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kvm_span.h"
#include "span/spanevents.h"
#include "span/util.h"

#define PAGE		((uint64_t)4096)
#define CODE_GPA	0x1000
#define BASE_GPA	0x100000ULL	/* the pages the guest writes */
#define WINDOW_GPA	(1ULL << 32)	/* each view's window */
#define IO_PORT		0x10

/* The guest's data page (guest-physical, flat). */
#define D_T0		0x500	/* TSC at a round's start */
#define D_T1		0x508
#define D_PAGES		0x510	/* pages to write per round */
#define D_BASE		0x514
#define D_COUNT		0x518	/* random writes so far */
#define D_MASK		0x51c	/* bytes - 1, 4-aligned */
#define D_VALUE		0x520	/* the byte a round writes */

/*
 * The guest: "pages" writes one byte into each of D_PAGES pages from
 * D_BASE, then exits with an OUT and starts again; "mirror" writes an ever
 * growing counter to random 4-byte words of [D_BASE, D_BASE + D_MASK]
 * (xorshift32) and never exits.
 */
extern const char spanev_code[], spanev_pages[], spanev_mirror[], spanev_code_end[];
asm(".pushsection .rodata\n"
    ".globl spanev_code, spanev_pages, spanev_mirror, spanev_code_end\n"
    "spanev_code:\n"
    ".code32\n"
    "spanev_pages:\n"
    "	rdtsc\n"
    "	mov %eax, 0x500\n"
    "	mov %edx, 0x504\n"
    "	mov 0x510, %ecx\n"
    "	mov 0x514, %edi\n"
    "	mov 0x520, %eax\n"
    "1:	movb %al, (%edi)\n"
    "	add $4096, %edi\n"
    "	dec %ecx\n"
    "	jnz 1b\n"
    "	rdtsc\n"
    "	mov %eax, 0x508\n"
    "	mov %edx, 0x50c\n"
    "	out %al, $0x10\n"
    "	jmp spanev_pages\n"
    "spanev_mirror:\n"
    "	mov $2463534242, %ebx\n"
    "2:	mov %ebx, %eax\n"
    "	shl $13, %eax\n"
    "	xor %eax, %ebx\n"
    "	mov %ebx, %eax\n"
    "	shr $17, %eax\n"
    "	xor %eax, %ebx\n"
    "	mov %ebx, %eax\n"
    "	shl $5, %eax\n"
    "	xor %eax, %ebx\n"
    "	mov %ebx, %eax\n"
    "	and 0x51c, %eax\n"
    "	add 0x514, %eax\n"
    "	mov 0x518, %edx\n"
    "	inc %edx\n"
    "	mov %edx, 0x518\n"
    "	mov %edx, (%eax)\n"
    "	jmp 2b\n"
    ".code64\n"
    "spanev_code_end:\n"
    ".popsection\n");

static const char *prog = "spanev";

#define die(...) do { fprintf(stderr, "spanev: " __VA_ARGS__); fputc('\n', stderr); \
		      exit(1); } while (0)
#define die_errno(what) die("%s: %s", what, strerror(errno))

/* A failed check: the run fails, the rest still runs. */
static int failures;
#define check(cond, ...) do { if (!(cond)) { failures++; \
		fprintf(stderr, "FAIL: " __VA_ARGS__); fputc('\n', stderr); } } while (0)

struct guest {
	int kvm, vm, vcpu;
	struct kvm_run *run;
	uint8_t *mem;
	uint64_t mem_bytes, pages;	/* pages written: [BASE_GPA, +pages) */
	uint32_t id;			/* span id (tracepoints) */
};

struct view {
	struct guest *g;
	int vm;				/* the "L1": a VM with a window */
	uint32_t index;
	struct span_fv_dispatcher *d;
	struct span_fv_consumer *c;
	pthread_t thread;
	volatile bool stop;
	uint32_t reply;			/* KVM_SPAN_REPLY_* for sync events */
	/* What it received. */
	uint64_t got, sync, async, last_seq, replied, reply_errors;
	uint64_t lo, hi;		/* its range, in gfns (check) */
	uint64_t outside;		/* events outside it */
	uint64_t seq_back;		/* seq not increasing */
	uint8_t *seen;			/* per guest page: events received */
};

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ULL + t.tv_nsec;
}

static void guest_create(struct guest *g, uint64_t pages, bool dirty_log)
{
	struct kvm_userspace_memory_region r;
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPAN };
	struct kvm_sregs s;
	struct kvm_segment seg = {
		.base = 0, .limit = 0xffffffff, .present = 1, .dpl = 0, .db = 1,
		.s = 1, .l = 0, .g = 1,
	};
	int sz;

	g->pages = pages;
	g->mem_bytes = BASE_GPA + pages * PAGE;
	g->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (g->kvm < 0)
		die_errno("open /dev/kvm");
	g->vm = ioctl(g->kvm, KVM_CREATE_VM, 0);
	if (g->vm < 0)
		die_errno("KVM_CREATE_VM");
	if (ioctl(g->vm, KVM_ENABLE_CAP, &cap))
		die_errno("KVM_ENABLE_CAP(KVM_CAP_SPAN) (not a span kernel?)");
	g->mem = mmap(NULL, g->mem_bytes, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g->mem == MAP_FAILED)
		die_errno("mmap");
	/* One 4 KiB fault per page, in every mode: no huge pages. */
	madvise(g->mem, g->mem_bytes, MADV_NOHUGEPAGE);
	memcpy(g->mem + CODE_GPA, spanev_code, spanev_code_end - spanev_code);
	r = (struct kvm_userspace_memory_region){
		.slot = 0, .guest_phys_addr = 0, .memory_size = g->mem_bytes,
		.userspace_addr = (uintptr_t)g->mem,
		.flags = dirty_log ? KVM_MEM_LOG_DIRTY_PAGES : 0,
	};
	if (ioctl(g->vm, KVM_SET_USER_MEMORY_REGION, &r))
		die_errno("KVM_SET_USER_MEMORY_REGION");
	g->vcpu = ioctl(g->vm, KVM_CREATE_VCPU, 0);
	if (g->vcpu < 0)
		die_errno("KVM_CREATE_VCPU");
	sz = ioctl(g->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	g->run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, g->vcpu, 0);
	if (g->run == MAP_FAILED)
		die_errno("mmap vcpu");

	/* 32-bit flat protected mode, no paging: guest-virtual = physical. */
	if (ioctl(g->vcpu, KVM_GET_SREGS, &s))
		die_errno("KVM_GET_SREGS");
	seg.type = 11;
	seg.selector = 8;
	s.cs = seg;
	seg.type = 3;
	seg.selector = 16;
	s.ds = s.es = s.ss = s.fs = s.gs = seg;
	s.cr0 |= 1;
	if (ioctl(g->vcpu, KVM_SET_SREGS, &s))
		die_errno("KVM_SET_SREGS");
	*(uint32_t *)(g->mem + D_PAGES) = pages;
	*(uint32_t *)(g->mem + D_BASE) = BASE_GPA;
}

static void guest_entry(struct guest *g, const char *label)
{
	struct kvm_regs regs = {
		.rip = CODE_GPA + (label - spanev_code), .rflags = 2,
	};

	if (ioctl(g->vcpu, KVM_SET_REGS, &regs))
		die_errno("KVM_SET_REGS");
}

/* Run the guest to its next OUT. */
static void guest_round(struct guest *g)
{
	for (;;) {
		if (ioctl(g->vcpu, KVM_RUN, 0)) {
			if (errno == EINTR)
				continue;
			die("KVM_RUN: %s (exit %u)", strerror(errno), g->run->exit_reason);
		}
		if (g->run->exit_reason == KVM_EXIT_IO && g->run->io.port == IO_PORT)
			return;
		die("unexpected exit %u", g->run->exit_reason);
	}
}

static int set_access(int vm, struct guest *g, uint64_t gfn, uint64_t n,
		      uint32_t access, uint32_t flags)
{
	struct kvm_span_access a = {
		.span_fd = g->vm, .flags = flags, .guest_gpa = gfn * PAGE,
		.size = n * PAGE, .access = access,
	};

	return ioctl(vm, KVM_SPAN_SET_ACCESS, &a);
}

#define RX	(KVM_SPAN_ACCESS_READ | KVM_SPAN_ACCESS_EXEC)
#define ALL	(KVM_SPAN_ACCESS_READ | KVM_SPAN_ACCESS_WRITE | KVM_SPAN_ACCESS_EXEC)
#define FIRST	(BASE_GPA / PAGE)	/* the first page the guest writes */

static void arm(struct view *v, uint64_t gfn, uint64_t n, uint32_t flags)
{
	if (set_access(v->vm, v->g, gfn, n, flags ? RX : ALL, flags))
		die("KVM_SPAN_SET_ACCESS(view %u, gfn 0x%" PRIx64 " +%" PRIu64 ", %u): %s",
		    v->index, gfn, n, flags, strerror(errno));
}

static int on_event(void *ctx, const struct span_fv_event *ev)
{
	struct view *v = ctx;
	struct kvm_span_reply rep = {
		.span_fd = v->g->vm, .vcpu_id = ev->vcpu, .seq = ev->seq,
		.action = v->reply,
	};

	v->got++;
	if (ev->seq <= v->last_seq)
		v->seq_back++;
	v->last_seq = ev->seq;
	if (ev->gfn < v->lo || ev->gfn >= v->hi)
		v->outside++;
	if (v->seen && ev->gfn < v->g->mem_bytes / PAGE)
		v->seen[ev->gfn]++;
	if (ev->flags & SPAN_FV_EVENT_NOTIFY) {
		v->async++;
		return 0;
	}
	v->sync++;
	if (ioctl(v->vm, KVM_SPAN_REPLY, &rep))
		v->reply_errors++;
	else
		v->replied++;
	return 0;
}

/* The view's consumer: busy-polls its ring (a waiting vCPU waits on it). */
static void *consumer(void *arg)
{
	struct view *v = arg;

	while (!v->stop)
		if (span_fv_consumer_consume(v->c) == 0)
			sched_yield();
	span_fv_consumer_consume(v->c);
	return NULL;
}

static void view_create(struct view *v, struct guest *g, uint32_t ring_bytes,
			bool consume)
{
	struct kvm_span_attach at = {
		.span_fd = g->vm, .window_gpa = WINDOW_GPA, .guest_gpa = 0,
		.size = g->mem_bytes,
	};
	uint8_t entry;
	struct kvm_span_access_get ga = {
		.span_fd = g->vm, .guest_gpa = 0, .size = PAGE,
		.entries = (uintptr_t)&entry,
	};
	struct span_fv_opts o = { .attach = true };
	char why[256];
	int r;

	memset(v, 0, sizeof(*v));
	v->g = g;
	v->hi = ~0ULL;
	v->vm = ioctl(g->kvm, KVM_CREATE_VM, 0);
	if (v->vm < 0)
		die_errno("KVM_CREATE_VM (view)");
	if (ioctl(v->vm, KVM_SPAN_ATTACH, &at))
		die_errno("KVM_SPAN_ATTACH");
	if (ioctl(v->vm, KVM_SPAN_GET_ACCESS, &ga))
		die_errno("KVM_SPAN_GET_ACCESS");
	v->index = ga.view;
	g->id = ga.guest_id;
	o.guest_id = ga.guest_id;
	o.view = ga.view;
	o.guest_pages = g->mem_bytes / PAGE;
	o.ring_bytes = ring_bytes;
	/* Notifications wake the consumer in batches (sync records at once). */
	o.wake_bytes = 64 * 1024;
	r = span_fv_open(&v->d, &o, why, sizeof(why));
	if (r)
		die("view %u: dispatcher: %s", v->index, why);
	v->seen = calloc(g->mem_bytes / PAGE, 1);
	if (!consume)
		return;
	r = span_fv_consumer_new(&v->c, v->d, on_event, v, why, sizeof(why));
	if (r)
		die("view %u: consumer: %s", v->index, why);
	if (pthread_create(&v->thread, NULL, consumer, v))
		die("pthread_create");
}

static void view_stop(struct view *v)
{
	if (v->c) {
		v->stop = true;
		pthread_join(v->thread, NULL);
	}
}

static void view_free(struct view *v)
{
	view_stop(v);
	if (v->c)
		span_fv_consumer_free(v->c);
	span_fv_close(v->d);
	close(v->vm);
	free(v->seen);
}

static uint64_t harvest(struct view *v, uint64_t **bits)
{
	size_t words = span_fv_dirty_words(v->d);

	*bits = calloc(words, sizeof(uint64_t));
	return span_fv_dirty_harvest(v->d, (__u64 *)*bits, words);
}

static bool bit(const uint64_t *b, uint64_t i)
{
	return b[i / 64] >> (i % 64) & 1;
}

/* Wait (at most 10 s) until a view's consumer has received n records. */
static void wait_got(struct view *v, uint64_t n)
{
	uint64_t end = now_ns() + 10000000000ULL;

	while (__atomic_load_n(&v->got, __ATOMIC_ACQUIRE) < n && now_ns() < end)
		usleep(1000);
}

static void filter_range(struct view *v, const char *dir, uint64_t lo, uint64_t hi)
{
	struct { uint64_t lo, hi, tag; } range = { lo, hi, 0x5000 + v->index };
	char path[512], why[256];
	struct bpf_object *obj;
	uint32_t zero = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/range.bpf.o", dir);
	if (span_fv_filter_load(v->d, path, why, sizeof(why)))
		die("view %u: filter %s: %s", v->index, path, why);
	obj = span_fv_filter_object(v->d);
	fd = obj ? bpf_object__find_map_fd_by_name(obj, "range") : -1;
	if (fd < 0 || bpf_map_update_elem(fd, &zero, &range, 0))
		die("view %u: cannot set the range filter's range", v->index);
	v->lo = lo;
	v->hi = hi;
	printf("view %u: filter range, gfns [0x%" PRIx64 ", 0x%" PRIx64 ")\n", v->index, lo, hi);
}

static int cmd_check(const char *dir, uint64_t pages)
{
	uint64_t half = pages / 2, i, n, *bits;
	__u64 st[SPAN_FV_STAT_NR];
	struct view a, b, c;
	struct guest g;
	char path[512], why[256];
	int round, r;

	guest_create(&g, pages, false);
	guest_entry(&g, spanev_pages);
	view_create(&a, &g, 0, true);
	view_create(&b, &g, 0, true);
	/* c never reads its one-page ring: it fills. */
	view_create(&c, &g, 4096, false);
	printf("guest %u: views %u, %u and %u; %" PRIu64 " pages\n", g.id, a.index,
	       b.index, c.index, pages);
	check(a.index != b.index && b.index != c.index, "views share an index");

	/* Each view's filter delivers only its half. */
	filter_range(&a, dir, FIRST, FIRST + half);
	filter_range(&b, dir, FIRST + half, FIRST + pages);

	for (round = 1; round <= 3; round++) {
		/*
		 * a subscribes to writes on its half and is notified of the
		 * other's; b the reverse; c is notified of all.  The guest
		 * writes every page once; a allows once in round 1, then
		 * unsubscribes; b unsubscribes.
		 */
		a.reply = round == 1 ? KVM_SPAN_REPLY_ALLOW : KVM_SPAN_REPLY_UNSUBSCRIBE;
		b.reply = KVM_SPAN_REPLY_UNSUBSCRIBE;
		arm(&a, FIRST, half, KVM_SPAN_ACCESS_SUBSCRIBE);
		arm(&a, FIRST + half, pages - half, KVM_SPAN_ACCESS_NOTIFY);
		arm(&b, FIRST + half, pages - half, KVM_SPAN_ACCESS_SUBSCRIBE);
		arm(&b, FIRST, half, KVM_SPAN_ACCESS_NOTIFY);
		arm(&c, FIRST, pages, KVM_SPAN_ACCESS_NOTIFY);
		*(uint32_t *)(g.mem + D_VALUE) = round;
		guest_round(&g);
		for (i = 0; i < pages; i++)
			check(g.mem[BASE_GPA + i * PAGE] == round,
			      "round %d: page %" PRIu64 " not written", round, i);
		wait_got(&a, half * round);
		wait_got(&b, (pages - half) * round);

		/* Exactly their own: every page of their half, once a round. */
		for (i = FIRST; i < FIRST + pages; i++) {
			bool in_a = i < FIRST + half;

			check(a.seen[i] == (in_a ? round : 0),
			      "round %d: view a saw gfn 0x%" PRIx64 " %u times", round, i, a.seen[i]);
			check(b.seen[i] == (in_a ? 0 : round),
			      "round %d: view b saw gfn 0x%" PRIx64 " %u times", round, i, b.seen[i]);
		}
		/* The bitmaps hold the notifications the filters dropped. */
		n = harvest(&a, &bits);
		check(n == pages - half, "round %d: a's bitmap has %" PRIu64 " pages", round, n);
		for (i = FIRST + half; i < FIRST + pages; i++)
			check(bit(bits, i), "round %d: a's bitmap lacks gfn 0x%" PRIx64, round, i);
		free(bits);
		n = harvest(&b, &bits);
		check(n == half, "round %d: b's bitmap has %" PRIu64 " pages", round, n);
		free(bits);
		n = harvest(&c, &bits);
		check(n == pages, "round %d: c's bitmap has %" PRIu64 " of %" PRIu64 " pages",
		      round, n, pages);
		free(bits);
		/* Allowed once, still subscribed; unsubscribed, not. */
		{
			uint8_t e;
			struct kvm_span_access_get ga = {
				.span_fd = g.vm, .guest_gpa = FIRST * PAGE, .size = PAGE,
				.entries = (uintptr_t)&e,
			};

			if (ioctl(a.vm, KVM_SPAN_GET_ACCESS, &ga))
				die_errno("KVM_SPAN_GET_ACCESS");
			check(e == (round == 1 ? (RX | KVM_SPAN_GET_SUBSCRIBED) : ALL),
			      "round %d: a's first page reads back 0x%x", round, e);
		}
	}
	view_stop(&a);
	view_stop(&b);

	check(a.sync == half * 3 && a.async == 0,
	      "a got %" PRIu64 " sync, %" PRIu64 " async events", a.sync, a.async);
	check(b.sync == (pages - half) * 3 && b.async == 0,
	      "b got %" PRIu64 " sync, %" PRIu64 " async events", b.sync, b.async);
	check(!a.outside && !b.outside, "events outside a view's filter range");
	check(!a.seq_back && !b.seq_back, "sequence numbers went back");
	check(!a.reply_errors && !b.reply_errors, "%" PRIu64 " + %" PRIu64 " replies failed",
	      a.reply_errors, b.reply_errors);
	check(!span_fv_consumer_lost(a.c) && !span_fv_consumer_lost(b.c),
	      "a or b lost records");
	/* Each view's kernel sequence counts its filtered events too. */
	check(a.last_seq == 2 * pages + half, "a's last seq %" PRIu64 ", wanted %" PRIu64,
	      a.last_seq, 2 * pages + half);
	span_fv_stats(a.d, st);
	printf("view a: seen %llu filtered %llu delivered %llu dropped %llu\n",
	       st[SPAN_FV_STAT_SEEN], st[SPAN_FV_STAT_FILTERED],
	       st[SPAN_FV_STAT_DELIVERED], st[SPAN_FV_STAT_DROPPED]);
	check(st[SPAN_FV_STAT_FILTERED] == (pages - half) * 3, "a: %llu filtered",
	      st[SPAN_FV_STAT_FILTERED]);
	span_fv_stats(c.d, st);
	printf("view c: seen %llu delivered %llu dropped %llu (one-page ring, never read)\n",
	       st[SPAN_FV_STAT_SEEN], st[SPAN_FV_STAT_DELIVERED], st[SPAN_FV_STAT_DROPPED]);
	check(st[SPAN_FV_STAT_DROPPED] > 0 &&
	      st[SPAN_FV_STAT_DELIVERED] + st[SPAN_FV_STAT_DROPPED] == pages * 3,
	      "c: a full ring must count its drops");
	printf("view a: %" PRIu64 " sync events, %" PRIu64 " replies; view b: %" PRIu64
	       " sync, %" PRIu64 " replies\n", a.sync, a.replied, b.sync, b.replied);

	/* A filter that could read kernel memory is refused, with the reason. */
	snprintf(path, sizeof(path), "%s/probe_read.bpf.o", dir);
	r = span_fv_filter_load(c.d, path, why, sizeof(why));
	printf("probe_read.bpf.o: %s\n", r ? why : "loaded");
	check(r == -EPERM && strstr(why, "bpf_probe_read_kernel"),
	      "probe_read.bpf.o: %d, %s", r, why);

	view_free(&a);
	view_free(&b);
	view_free(&c);
	if (failures) {
		fprintf(stderr, "spanev check: %d checks failed\n", failures);
		return 1;
	}
	printf("PASS: two views each got exactly their events through their own filters; "
	       "bitmaps complete; drops counted; bad filter refused\n");
	return 0;
}

/* A vCPU statistic of this process's VM from debugfs (SPANEV_DEBUG), or 0. */
static uint64_t vcpu_debugfs(struct guest *g, const char *stat)
{
	char path[256];
	uint64_t v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%d-%d/%s", getpid(), g->vm,
		 stat);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%" SCNu64, &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

enum { M_FAULT, M_NOTIFY, M_NOTIFY_NOBPF, M_SYNC, M_SYNC_NOPOLL, M_NR };

#define POLL_PARAM "/sys/module/kvm/parameters/span_reply_poll_ns"

#define PROVE_LOCKING "/proc/sys/kernel/prove_locking"

/* A number in a sysctl or parameter file: the old value, or -1; set it. */
static long knob(const char *path, long set)
{
	long old = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &old) != 1)
		old = -1;
	fclose(f);
	if (set >= 0 && (f = fopen(path, "w"))) {
		fprintf(f, "%ld\n", set);
		fclose(f);
	}
	return old;
}

static long poll_ns(long set)
{
	return knob(POLL_PARAM, set);
}

static int cmd_bench(uint64_t pages, int rounds, bool json)
{
	static const char *const names[M_NR] = {
		"plain fault (restricted, lifted)", "write notification (async)",
		"  the same, no BPF program attached", "synchronous event + reply",
		"  the same, vCPU not polling",
	};
	static const char *const keys[M_NR] = {
		"fault", "notify", "notify_nobpf", "sync", "sync_nopoll",
	};
	static const double target[M_NR] = { 0, 2, 2, 5, 5 };
	long poll = poll_ns(-1), lockdep;
	struct view bare;
	struct kvm_span_attach at;
	uint64_t *ns[M_NR], med[M_NR], t0, *bits, pf, faults[M_NR] = {};
	struct guest g;
	struct view v;
	int r, m;

	guest_create(&g, pages, false);
	guest_entry(&g, spanev_pages);
	view_create(&v, &g, 0, true);
	v.reply = KVM_SPAN_REPLY_UNSUBSCRIBE;
	/* A view with no dispatcher: the kernel's notification path alone. */
	memset(&bare, 0, sizeof(bare));
	bare.g = &g;
	bare.vm = ioctl(g.kvm, KVM_CREATE_VM, 0);
	at = (struct kvm_span_attach){ .span_fd = g.vm, .window_gpa = WINDOW_GPA,
				       .size = g.mem_bytes };
	if (bare.vm < 0 || ioctl(bare.vm, KVM_SPAN_ATTACH, &at))
		die_errno("the bare view");
	/* The lab kernel is a debug kernel: lockdep's validation off meanwhile. */
	lockdep = knob(PROVE_LOCKING, 0);
	for (m = 0; m < M_NR; m++)
		ns[m] = calloc(rounds, sizeof(uint64_t));
	/* Warm up: every page mapped once. */
	guest_round(&g);

	/* Interleaved, so that drift on a shared machine hits all alike. */
	for (r = 0; r < rounds; r++) {
		for (m = 0; m < M_NR; m++) {
			uint64_t got = v.got;

			if (m == M_FAULT) {
				/* Restricting zaps every view's mapping; lifting maps nothing. */
				arm(&v, FIRST, pages, KVM_SPAN_ACCESS_SUBSCRIBE);
				arm(&v, FIRST, pages, 0);
			} else if (m == M_NOTIFY_NOBPF) {
				arm(&bare, FIRST, pages, KVM_SPAN_ACCESS_NOTIFY);
			} else {
					arm(&v, FIRST, pages, m == M_NOTIFY ? KVM_SPAN_ACCESS_NOTIFY :
									KVM_SPAN_ACCESS_SUBSCRIBE);
			}
			*(uint32_t *)(g.mem + D_VALUE) = r * M_NR + m;
			if (m == M_SYNC_NOPOLL)
				poll_ns(0);
			pf = vcpu_debugfs(&g, "pf_taken");
			t0 = now_ns();
			guest_round(&g);
			ns[m][r] = now_ns() - t0;
			if (m == M_SYNC_NOPOLL)
				poll_ns(poll);
			faults[m] += vcpu_debugfs(&g, "pf_taken") - pf;
			if (m != M_FAULT && m != M_NOTIFY_NOBPF)
				wait_got(&v, got + pages);
			check(v.got == got + (m == M_FAULT || m == M_NOTIFY_NOBPF ? 0 : pages),
			      "%s: %" PRIu64 " events for %" PRIu64 " writes", keys[m],
			      v.got - got, pages);
			if (m == M_NOTIFY) {
				uint64_t n = harvest(&v, &bits);

				check(n == pages, "notify: %" PRIu64 " dirty bits for %" PRIu64 " pages",
				      n, pages);
				free(bits);
			}
		}
	}
	view_stop(&v);
	if (lockdep >= 0)
		knob(PROVE_LOCKING, lockdep);
	close(bare.vm);
	for (m = 0; m < M_NR; m++) {
		qsort(ns[m], rounds, sizeof(uint64_t), cmp_u64);
		med[m] = ns[m][rounds / 2];
	}
	if (json) {
		printf("{\"pages\":%" PRIu64 ",\"rounds\":%d", pages, rounds);
		for (m = 0; m < M_NR; m++)
			printf(",\"%s_ns\":%.1f", keys[m], (double)med[m] / pages);
		printf("}\n");
	} else {
		printf("span memory events, one guest write each (%" PRIu64 " pages x %d rounds,"
		       " median round; L0 consumer busy-polling its ring)\n", pages, rounds);
		printf("%-36s %12s %9s %13s %s\n", "path", "us/write", "ratio", "faults/write",
		       "target");
		for (m = 0; m < M_NR; m++) {
			double ratio = (double)med[m] / med[M_FAULT];

			printf("%-36s %12.2f %8.2fx %13.2f %s\n", names[m], med[m] / 1000.0 / pages,
			       ratio, (double)faults[m] / pages / rounds,
			       !target[m] ? "(baseline)" :
			       ratio <= target[m] ? (target[m] == 5 ? "<= 5x: met" : "<= 2x: met") :
			       (target[m] == 5 ? "<= 5x: NOT met" : "<= 2x: NOT met"));
		}
		if (poll >= 0)
			printf("(vCPU reply polling: kvm.span_reply_poll_ns=%ld)\n", poll);
		if (lockdep >= 0)
			printf("(the lab's debug kernel, with lockdep's validation off for the"
			       " measurement: kernel.prove_locking=0)\n");
		printf("%-36s %12s %8.1fx\n", "Span (2019): event vs shadow fault", "103.5 vs 4.1",
		       103.5 / 4.1);
		printf("(faults/write from debugfs kvm/*/pf_taken; 0 if debugfs is not mounted)\n");
	}
	view_free(&v);
	return failures ? 1 : 0;
}

/* ---- mirror ------------------------------------------------------------- */

static volatile bool mirror_stop;
static struct guest *mg;

static void *mirror_vcpu(void *arg)
{
	(void)arg;
	while (!mirror_stop) {
		if (ioctl(mg->vcpu, KVM_RUN, 0) && errno != EINTR)
			die("KVM_RUN: %s", strerror(errno));
		if (mg->run->immediate_exit)
			break;
	}
	return NULL;
}

static void on_sigusr1(int sig)
{
	(void)sig;
}

enum { MIR_NONE, MIR_NOTIFY, MIR_DIRTY_LOG };

/*
 * One measurement: the guest writes random words for secs; a mirror in
 * L0, every period_ms, copies what changed (by write notifications, or by
 * KVM_GET_DIRTY_LOG) into its copy.  Then the guest is paused, a final
 * round is made, and every page of the copy is compared.  Returns the
 * guest's writes per second; *bad the pages that differ.
 */
static double mirror_run(int kind, uint64_t pages, int period_ms, double secs,
			 uint64_t *bad, uint64_t *rounds_out, uint64_t *copied_out)
{
	struct guest g;
	struct view v;
	uint8_t *copy = NULL;
	uint64_t *bits = NULL, words = 0, copied = 0, rounds = 0, t0, t1 = 0, c0, c1 = 0, i;
	pthread_t vt;
	struct sigaction sa = { .sa_handler = on_sigusr1 };
	uint64_t mem_pages;

	sigaction(SIGUSR1, &sa, NULL);
	guest_create(&g, pages, kind == MIR_DIRTY_LOG);
	mem_pages = g.mem_bytes / PAGE;
	*(uint32_t *)(g.mem + D_MASK) = (pages * PAGE - 1) & ~3u;
	guest_entry(&g, spanev_mirror);
	if (kind == MIR_NOTIFY) {
		view_create(&v, &g, 0, false);
		words = span_fv_dirty_words(v.d);
	} else {
		words = (mem_pages + 63) / 64;
	}
	bits = calloc(words, sizeof(uint64_t));
	copy = malloc(g.mem_bytes);
	/* Start: arm everything, then a full copy (a write after arming is caught). */
	if (kind == MIR_NOTIFY)
		arm(&v, 0, mem_pages, KVM_SPAN_ACCESS_NOTIFY);
	if (kind == MIR_DIRTY_LOG) {
		struct kvm_dirty_log dl = { .slot = 0, .dirty_bitmap = bits };

		ioctl(g.vm, KVM_GET_DIRTY_LOG, &dl);
	}
	memcpy(copy, g.mem, g.mem_bytes);

	mg = &g;
	mirror_stop = false;
	g.run->immediate_exit = 0;
	pthread_create(&vt, NULL, mirror_vcpu, NULL);
	c0 = __atomic_load_n((uint32_t *)(g.mem + D_COUNT), __ATOMIC_RELAXED);
	t0 = now_ns();
	for (;;) {
		uint64_t next = now_ns() + period_ms * 1000000ULL;
		bool last = (now_ns() - t0) >= secs * 1e9;

		if (last) {
			/* Pause the guest, then the final round. */
			c1 = __atomic_load_n((uint32_t *)(g.mem + D_COUNT), __ATOMIC_RELAXED);
			t1 = now_ns();
			g.run->immediate_exit = 1;
			mirror_stop = true;
			pthread_kill(vt, SIGUSR1);
			pthread_join(vt, NULL);
		}
		if (kind == MIR_NONE) {
			if (last)
				break;
			usleep(period_ms * 1000);
			continue;
		}
		memset(bits, 0, words * 8);
		if (kind == MIR_NOTIFY) {
			span_fv_dirty_harvest(v.d, (__u64 *)bits, words);
			/* Re-arm before copying: a later write notifies again. */
			for (i = 0; i < mem_pages; i++) {
				uint64_t j = i;

				if (!bit(bits, i))
					continue;
				while (j + 1 < mem_pages && bit(bits, j + 1))
					j++;
				arm(&v, i, j - i + 1, KVM_SPAN_ACCESS_NOTIFY);
				i = j;
			}
		} else {
			struct kvm_dirty_log dl = { .slot = 0, .dirty_bitmap = bits };

			if (ioctl(g.vm, KVM_GET_DIRTY_LOG, &dl))
				die_errno("KVM_GET_DIRTY_LOG");
		}
		for (i = 0; i < mem_pages; i++)
			if (bit(bits, i)) {
				memcpy(copy + i * PAGE, g.mem + i * PAGE, PAGE);
				copied++;
			}
		rounds++;
		if (last)
			break;
		while (now_ns() < next)
			usleep(1000);
	}
	*bad = 0;
	if (kind != MIR_NONE)
		for (i = 0; i < mem_pages; i++)
			if (memcmp(copy + i * PAGE, g.mem + i * PAGE, PAGE))
				(*bad)++;
	*rounds_out = rounds;
	*copied_out = copied;
	if (kind == MIR_NOTIFY)
		view_free(&v);
	free(bits);
	free(copy);
	munmap(g.mem, g.mem_bytes);
	close(g.vcpu);
	close(g.vm);
	close(g.kvm);
	return (double)(c1 - c0) / ((t1 - t0) / 1e9);
}

static int cmd_mirror(uint64_t pages, double secs, int reps)
{
	static const int periods[] = { 1000, 100, 25 };
	static const char *const kinds[] = { "not mirrored", "write notifications",
					     "KVM_GET_DIRTY_LOG" };
	double base = 0, rate;
	uint64_t bad, rounds, copied;
	int p, k, rep;

	printf("guest writing random words over %" PRIu64 " MiB; mirror in L0; %.0f s each,"
	       " best of %d\n", pages * PAGE >> 20, secs, reps);
	printf("%-22s %8s %14s %8s %8s %10s %s\n", "mirror", "period", "writes/s", "vs none",
	       "rounds", "pages", "verify");
	for (rep = 0, base = 0; rep < reps; rep++) {
		rate = mirror_run(MIR_NONE, pages, 100, secs, &bad, &rounds, &copied);
		if (rate > base)
			base = rate;
	}
	printf("%-22s %8s %14.0f %8s %8s %10s %s\n", kinds[0], "-", base, "1.000", "-", "-", "-");
	for (p = 0; p < 3; p++)
		for (k = MIR_NOTIFY; k <= MIR_DIRTY_LOG; k++) {
			double best = 0;
			uint64_t worst_bad = 0;

			for (rep = 0; rep < reps; rep++) {
				rate = mirror_run(k, pages, periods[p], secs, &bad, &rounds, &copied);
				if (rate > best)
					best = rate;
				if (bad > worst_bad)
					worst_bad = bad;
			}
			check(!worst_bad, "%s at %d ms: %" PRIu64 " pages differ", kinds[k],
			      periods[p], worst_bad);
			printf("%-22s %6d ms %14.0f %8.3f %8" PRIu64 " %10" PRIu64 " %s\n", kinds[k],
			       periods[p], best, best / base, rounds, copied,
			       worst_bad ? "PAGES DIFFER" : "byte-exact");
		}
	return failures ? 1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: spanev check -f DIR [-n PAGES]\n"
"       spanev bench [-n PAGES] [-r ROUNDS] [-j]\n"
"       spanev mirror [-n PAGES] [-s SECONDS] [-r REPEATS]\n"
"Span memory events on L0: a span guest, views with their own BPF\n"
"dispatchers (lib/spanevents.c), a replying consumer per view.\n"
"\n"
"  -f DIR      where range.bpf.o and probe_read.bpf.o are (check)\n"
"  -n PAGES    guest pages written (check 64, bench 256, mirror 16384)\n"
"  -r N        bench: rounds per path (default 20); mirror: repeats (3)\n"
"  -s SECONDS  mirror: each measurement (default 3)\n"
"  -j          bench: one JSON object\n");
}

int main(int argc, char **argv)
{
	uint64_t pages = 0, rounds = 0, secs = 3;
	const char *dir = NULL, *cmd;
	bool json = false;
	int opt;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? SPAN_EXIT_USAGE : 0;
	}
	cmd = argv[1];
	if (strcmp(cmd, "check") && strcmp(cmd, "bench") && strcmp(cmd, "mirror")) {
		fprintf(stderr, "%s: unknown command '%s' (check, bench, mirror; see -h)\n", prog, cmd);
		return SPAN_EXIT_USAGE;
	}
	optind = 2;
	opterr = 0;
	while ((opt = getopt(argc, argv, ":f:n:r:s:jh")) != -1) {
		switch (opt) {
		case 'f':
			dir = optarg;
			break;
		case 'n':
			if (span_parse_u64(optarg, 2, 1 << 20, &pages)) {
				fprintf(stderr, "%s: invalid page count '%s': want 2..1048576\n", prog,
					optarg);
				return SPAN_EXIT_USAGE;
			}
			break;
		case 'r':
			if (span_parse_u64(optarg, 1, 100000, &rounds)) {
				fprintf(stderr, "%s: invalid count '%s': want 1..100000\n", prog, optarg);
				return SPAN_EXIT_USAGE;
			}
			break;
		case 's':
			if (span_parse_u64(optarg, 1, 3600, &secs)) {
				fprintf(stderr, "%s: invalid seconds '%s': want 1..3600\n", prog, optarg);
				return SPAN_EXIT_USAGE;
			}
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "%s: option -%c needs an argument (see -h)\n", prog, optopt);
			return SPAN_EXIT_USAGE;
		default:
			fprintf(stderr, "%s: unknown option -%c (see -h)\n", prog, optopt);
			return SPAN_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument '%s' (see -h)\n", prog, argv[optind]);
		return SPAN_EXIT_USAGE;
	}
	if (!strcmp(cmd, "check")) {
		if (!dir) {
			fprintf(stderr, "%s: check needs -f DIR (the filters)\n", prog);
			return SPAN_EXIT_USAGE;
		}
		return cmd_check(dir, pages ? pages : 64);
	}
	if (!strcmp(cmd, "bench"))
		return cmd_bench(pages ? pages : 256, rounds ? rounds : 20, json);
	return cmd_mirror(pages ? pages : 16384, secs, rounds ? rounds : 3);
}
