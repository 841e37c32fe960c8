// SPDX-License-Identifier: GPL-2.0
/*
 * The introspection core (controller/fv/introspect.c) on synthetic guest
 * memory built here from a kernel's BTF: task_structs, creds and pids laid
 * out at that kernel's offsets (which the compiler takes from its
 * vmlinux.h, introspect_vmlinux.c, not from the code under test), a
 * 4-level page table mapping a KASLR-slid kernel image (4 KiB pages) and a
 * randomized direct map (2 MiB pages), a System.map.  One task is hidden
 * the way the lab's rootkit hides one, one has exited, one is a stale
 * leftover, one is a thread, one an idle task, and decoy sched_class
 * values lie in noise.  Run for two kernels with different layouts: the
 * host's BTF, and the lab kernel's when it is built.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "fv/introspect.h"
#include "harness.h"
#include "introspect_vmlinux.h"

#define IMG_SIZE	(64ULL << 20)
#define PTE_P		1ULL
#define PTE_RW		2ULL
#define PTE_PS		0x80ULL
#define PTE_ADDR	0x000ffffffffff000ULL

/* Link-time addresses of the synthetic kernel (its System.map). */
#define SYM_TEXT	0xffffffff81000000ULL
#define SYM_BANNER	(SYM_TEXT + 0x100000)
#define SYM_STOP	(SYM_TEXT + 0x180000)
#define SYM_DL		(SYM_TEXT + 0x180100)
#define SYM_RT		(SYM_TEXT + 0x180200)
#define SYM_FAIR	(SYM_TEXT + 0x180300)
#define SYM_IDLE	(SYM_TEXT + 0x180400)
#define SYM_INIT_TASK	(SYM_TEXT + 0x200000)
#define SYM_POB		(SYM_TEXT + 0x300000)
#define SYM_INIT_CRED	(SYM_TEXT + 0x300100)
#define SYM_INIT_PID	(SYM_TEXT + 0x300400)
#define IMAGE_SIZE	(4ULL << 20)

struct img {
	uint8_t *m;
	uint64_t cr3, pt_next, obj_next;
	uint64_t kaslr, phys_text, pob;
	const struct span_vmlinux_offsets *o;
	char map[1024];
};

static int img_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct img *im = ctx;

	if (gpa >= IMG_SIZE || len > IMG_SIZE - gpa)
		return -ERANGE;
	memcpy(buf, im->m + gpa, len);
	return 0;
}

static void put(struct img *im, uint64_t pa, uint64_t v, int size)
{
	memcpy(im->m + pa, &v, size);
}

static uint64_t get64(struct img *im, uint64_t pa)
{
	uint64_t v;

	memcpy(&v, im->m + pa, 8);
	return v;
}

/* Map one page of 4 KiB (level 1) or 2 MiB (level 2). */
static void map(struct img *im, uint64_t va, uint64_t pa, int level)
{
	uint64_t table = im->cr3, e;
	int l, idx;

	for (l = 4; l > level; l--) {
		idx = (va >> (12 + 9 * (l - 1))) & 511;
		e = get64(im, table + idx * 8);
		if (!(e & PTE_P)) {
			e = im->pt_next | PTE_P | PTE_RW;
			im->pt_next += 4096;
			put(im, table + idx * 8, e, 8);
		}
		table = e & PTE_ADDR;
	}
	idx = (va >> (12 + 9 * (level - 1))) & 511;
	put(im, table + idx * 8, pa | PTE_P | PTE_RW | (level == 2 ? PTE_PS : 0), 8);
}

static uint64_t ipa(struct img *im, uint64_t sym)	/* image symbol -> pa */
{
	return im->phys_text + (sym - SYM_TEXT);
}

static uint64_t iva(struct img *im, uint64_t sym)	/* image symbol -> slid va */
{
	return sym + im->kaslr;
}

static uint64_t dm(struct img *im, uint64_t pa)		/* direct map */
{
	return im->pob + pa;
}

static uint64_t alloc(struct img *im, uint64_t size)
{
	uint64_t pa = im->obj_next;

	/* Slab-like: 64-byte aligned, with gaps so offsets vary. */
	im->obj_next = (im->obj_next + size + 64 + 0x240 + 63) & ~63ULL;
	return pa;
}

/* A task at pa (whose va is va) with a cred and a struct pid of its own. */
static void task(struct img *im, uint64_t pa, uint64_t va, int pid, int tgid, const char *comm,
		 uint32_t state, uint32_t uid, uint64_t parent_va, uint64_t sched)
{
	const struct span_vmlinux_offsets *o = im->o;
	uint64_t cred = alloc(im, o->cred_size), spid = alloc(im, o->pid_size + 64);

	memset(im->m + pa, 0, o->task_size);
	put(im, pa + o->pid, pid, 4);
	put(im, pa + o->tgid, tgid, 4);
	strncpy((char *)im->m + pa + o->comm, comm, 15);
	put(im, pa + o->state, state, 4);
	put(im, pa + o->usage, 2, 4);
	put(im, pa + o->real_parent, parent_va, 8);
	put(im, pa + o->sched_class, iva(im, sched), 8);
	put(im, cred + o->cred_uid, uid, 4);
	put(im, pa + o->cred, dm(im, cred), 8);
	/* Its struct pid: the pid hash leads back to it. */
	put(im, spid + o->pid_nr, pid, 4);
	put(im, spid + o->pid_tasks + o->pidtype_pid * o->hlist_head_size,
	    va + o->pid_links + o->pidtype_pid * o->hlist_node_size, 8);
	put(im, pa + o->thread_pid, dm(im, spid), 8);
}

static void set_list(struct img *im, uint64_t pa, uint64_t next_va, uint64_t prev_va)
{
	put(im, pa + im->o->tasks, next_va, 8);
	put(im, pa + im->o->tasks + 8, prev_va, 8);
}

struct expect {
	int pid, tgid, ppid;
	uint32_t uid;
	const char *comm;
	char state;
	enum intro_kind kind;
};

/* The synthetic guest: what each task is, and what the core must say. */
static const struct expect want[] = {
	{ 0, 0, 0, 0, "swapper/0", 'R', INTRO_LISTED },
	{ 1, 1, 0, 0, "init", 'S', INTRO_LISTED },
	{ 2, 2, 0, 0, "kthreadd", 'S', INTRO_LISTED },
	{ 3, 3, 2, 0, "kworker/0:0", 'I', INTRO_LISTED },
	{ 50, 50, 1, 0, "sh", 'S', INTRO_LISTED },
	{ 60, 60, 50, 1000, "workload", 'R', INTRO_LISTED },
	/* not in the list: */
	{ 61, 61, 50, 0, "evil", 'S', INTRO_HIDDEN },
	{ 62, 60, 50, 1000, "workload", 'S', INTRO_LISTED },	/* a thread */
	{ 70, 70, 50, ~0U, "gone", 'X', INTRO_EXITED },	/* cred freed: no uid */
	{ 72, 72, 50, 0, "reaped", 'S', INTRO_EXITED },
	{ 71, 71, 50, 0, "stale", 'S', INTRO_STALE },
	{ 0, 0, 0, 0, "swapper/1", 'R', INTRO_IDLE },
	{ 73, 73, 50, ~0U, "freed", 'S', INTRO_EXITED },	/* only its cred gone */
};
#define NLISTED 6
#define NTASKS ((int)(sizeof(want) / sizeof(want[0])))

static void build(struct img *im, const struct span_vmlinux_offsets *o, uint64_t kaslr,
		  uint64_t phys_text, uint64_t pob)
{
	uint64_t pa[NTASKS], va[NTASKS], x, seed = 0x1234567;
	uint32_t i;
	int t, j;

	memset(im, 0, sizeof(*im));
	im->m = calloc(1, IMG_SIZE);
	ASSERT_TRUE(im->m != NULL);
	im->o = o;
	im->kaslr = kaslr;
	im->phys_text = phys_text;
	im->pob = pob;
	im->cr3 = 0x1000;
	im->pt_next = 0x2000;
	im->obj_next = 0x400000;
	/* The image in 4 KiB pages, the direct map in 2 MiB pages. */
	for (x = 0; x < IMAGE_SIZE; x += 4096)
		map(im, iva(im, SYM_TEXT) + x, phys_text + x, 1);
	for (x = 0; x < IMG_SIZE; x += 2 << 20)
		map(im, pob + x, x, 2);
	memcpy(im->m + ipa(im, SYM_BANNER), "Linux version 6.x (synthetic)", 30);
	put(im, ipa(im, SYM_POB), pob, 8);
	put(im, ipa(im, SYM_INIT_CRED) + o->cred_uid, 0, 4);

	/* init_task in the image; the rest from the "slab", in the direct map. */
	for (t = 0; t < NTASKS; t++) {
		pa[t] = t ? alloc(im, o->task_size) : ipa(im, SYM_INIT_TASK);
		va[t] = t ? dm(im, pa[t]) : iva(im, SYM_INIT_TASK);
	}
	for (t = 0; t < NTASKS; t++) {
		const struct expect *w = &want[t];
		int parent = 0;
		uint32_t state = w->state == 'S' ? 1 : w->state == 'I' ? 0x402 : 0;

		for (j = 0; j < NTASKS; j++)
			if (want[j].pid == w->ppid && want[j].kind == INTRO_LISTED &&
			    want[j].pid == want[j].tgid)
				parent = j;
		task(im, pa[t], va[t], w->pid, w->tgid, w->comm, state, w->uid, va[parent],
		     t == 0 || w->kind == INTRO_IDLE ? SYM_IDLE : t == 3 ? SYM_RT : SYM_FAIR);
	}
	/* init_task's own: its cred and pid live in the image. */
	put(im, pa[0] + o->cred, iva(im, SYM_INIT_CRED), 8);
	put(im, pa[0] + o->thread_pid, iva(im, SYM_INIT_PID), 8);
	/* The list: init_task, then the listed ones, in a circle. */
	for (t = 0; t < NLISTED; t++)
		set_list(im, pa[t], va[(t + 1) % NLISTED] + o->tasks,
			 va[(t + NLISTED - 1) % NLISTED] + o->tasks);
	/* evil, hidden as the rootkit does: its node points at itself. */
	set_list(im, pa[6], va[6] + o->tasks, va[6] + o->tasks);
	/* A thread keeps a copy of its leader's node, not linked. */
	set_list(im, pa[7], va[0] + o->tasks, va[4] + o->tasks);
	/* Released: list_del_rcu() poisoned prev; EXIT_DEAD; its pid freed. */
	set_list(im, pa[8], va[2] + o->tasks, 0xdead000000000122ULL);
	put(im, pa[8] + o->exit_state, 0x10, 4);
	put(im, pa[8] + o->cred, 0, 8);		/* exit_creds() */
	/* Freed while its pid hash entry still led to it: usage 0. */
	set_list(im, pa[9], va[1] + o->tasks, va[0] + o->tasks);
	put(im, pa[9] + o->usage, 0, 4);
	/* A leftover: neighbours that do not point back, a reused pid. */
	set_list(im, pa[10], va[1] + o->tasks, va[3] + o->tasks);
	x = get64(im, pa[10] + o->thread_pid) - pob;
	put(im, x + o->pid_tasks + o->pidtype_pid * o->hlist_head_size,
	    va[5] + o->pid_links, 8);
	/* The idle task of CPU 1: a copy of init_task's node. */
	set_list(im, pa[11], va[1] + o->tasks, va[5] + o->tasks);
	/* Freed with nothing else to tell: exit_creds() left cred NULL. */
	set_list(im, pa[12], va[1] + o->tasks, va[0] + o->tasks);
	put(im, pa[12] + o->cred, 0, 8);
	/* Noise with sched_class values in it, which must not pass as tasks. */
	for (x = 0x2000000; x < 0x2100000; x += 8) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		put(im, x, seed, 8);
	}
	for (i = 0; i < 64; i++)
		put(im, 0x2000000 + i * 4096 + 8 * i, iva(im, SYM_FAIR), 8);

	snprintf(im->map, sizeof(im->map),
		 "%016llx T _text\n%016llx D linux_banner\n%016llx D stop_sched_class\n"
		 "%016llx D dl_sched_class\n%016llx D rt_sched_class\n"
		 "%016llx D fair_sched_class\n%016llx D idle_sched_class\n"
		 "%016llx D __sched_class_highest\n%016llx D init_task\n"
		 "%016llx D page_offset_base\n",
		 SYM_TEXT, SYM_BANNER, SYM_STOP, SYM_DL, SYM_RT, SYM_FAIR, SYM_IDLE, SYM_STOP,
		 SYM_INIT_TASK, SYM_POB);
}

static const struct expect *find_want(const struct intro_task *t)
{
	int i;

	for (i = 0; i < NTASKS; i++)
		if (want[i].pid == t->pid && !strcmp(want[i].comm, t->comm))
			return &want[i];
	return NULL;
}

/* Build a guest for the kernel o describes and run the core on it. */
static void run_on(const struct span_vmlinux_offsets *o, uint64_t kaslr, uint64_t phys_text,
		   uint64_t pob, struct intro_offsets *got)
{
	struct intro_task *list = NULL, *found = NULL;
	struct introspect in;
	struct btf *btf;
	struct img im;
	int n, nf, i, hidden = 0, seen[NTASKS] = { 0 };
	FILE *map;

	btf = btf__parse(o->btf, NULL);
	ASSERT_TRUE(btf != NULL);
	build(&im, o, kaslr, phys_text, pob);
	map = fmemopen(im.map, strlen(im.map), "r");
	ASSERT_TRUE(map != NULL);
	n = intro__init(&in, btf, map, img_read, &im, IMG_SIZE, im.cr3);
	fclose(map);
	if (n)
		printf("#   intro__init: %s\n", in.err);
	ASSERT_EQ(n, 0);
	*got = in.off;

	/* The offsets libbpf read agree with the compiler's. */
	EXPECT_EQ(in.off.task_size, o->task_size);
	EXPECT_EQ(in.off.tasks, o->tasks);
	EXPECT_EQ(in.off.pid, o->pid);
	EXPECT_EQ(in.off.tgid, o->tgid);
	EXPECT_EQ(in.off.comm, o->comm);
	EXPECT_EQ(in.off.state, o->state);
	EXPECT_EQ(in.off.exit_state, o->exit_state);
	EXPECT_EQ(in.off.usage, o->usage);
	EXPECT_EQ(in.off.real_parent, o->real_parent);
	EXPECT_EQ(in.off.cred, o->cred);
	EXPECT_EQ(in.off.sched_class, o->sched_class);
	EXPECT_EQ(in.off.thread_pid, o->thread_pid);
	EXPECT_EQ(in.off.pid_links, o->pid_links);
	EXPECT_EQ(in.off.cred_uid, o->cred_uid);
	EXPECT_EQ(in.off.pid_tasks, o->pid_tasks);
	EXPECT_EQ(in.off.pid_nr, o->pid_nr);
	EXPECT_EQ(in.off.pidtype_tgid, o->pidtype_tgid);
	EXPECT_EQ(in.sym.nr_sched_class, 5);	/* not __sched_class_highest */

	ASSERT_EQ(intro__locate_kernel(&in), 0);
	EXPECT_TRUE(in.kaslr == kaslr);
	EXPECT_TRUE(in.kernel_phys == phys_text);
	EXPECT_TRUE(in.page_offset == pob);

	n = intro__list(&in, &list);
	if (n < 0)
		printf("#   intro__list: %s\n", in.err);
	ASSERT_EQ(n, NLISTED);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(list[i].pid, want[i].pid);
		EXPECT_STREQ(list[i].comm, want[i].comm);
		EXPECT_EQ(list[i].ppid, want[i].ppid);
		EXPECT_EQ(list[i].uid, want[i].uid);
		EXPECT_EQ(intro__state_char(&list[i]), want[i].state);
	}

	nf = intro__scan(&in, list, n, &found);
	ASSERT_TRUE(nf > 0);
	for (i = 0; i < nf; i++) {
		const struct expect *w = find_want(&found[i]);

		if (!w) {
			EXPECT_TRUE(w != NULL);
			printf("#   scan found pid %d \"%s\" at %#llx\n", found[i].pid,
			       found[i].comm, (unsigned long long)found[i].pa);
			continue;
		}
		seen[w - want]++;
		EXPECT_EQ(found[i].kind, w->kind);
		EXPECT_EQ(found[i].ppid, w->ppid);
		EXPECT_EQ(found[i].uid, w->uid);
		hidden += found[i].kind == INTRO_HIDDEN;
	}
	for (i = 0; i < NTASKS; i++)
		EXPECT_EQ(seen[i], 1);	/* each task once, no decoys */
	EXPECT_EQ(hidden, 1);
	free(list);
	free(found);
	intro__exit(&in);
	btf__free(btf);
	free(im.m);
}

TEST(introspect_host_btf)
{
	struct intro_offsets got;

	if (!span_vmlinux_host.valid || access(span_vmlinux_host.btf, R_OK))
		SKIP("no host BTF (%s)", span_vmlinux_host.valid ? span_vmlinux_host.btf :
		     "vmlinux.h not generated");
	run_on(&span_vmlinux_host, 0x2c600000, 0x1600000, 0xffff9e0a40000000ULL, &got);
}

TEST(introspect_lab_btf_and_layouts_differ)
{
	struct intro_offsets host, lab;

	if (!span_vmlinux_lab.valid || access(span_vmlinux_lab.btf, R_OK))
		SKIP("the lab kernel is not built (make kernel): no out/kernel/vmlinux.btf");
	run_on(&span_vmlinux_lab, 0x0e200000, 0x2a00000, 0xffffa31c00000000ULL, &lab);
	if (!span_vmlinux_host.valid || access(span_vmlinux_host.btf, R_OK))
		SKIP("lab BTF passed; no host BTF to compare layouts with");
	run_on(&span_vmlinux_host, 0x2c600000, 0x1600000, 0xffff9e0a40000000ULL, &host);
	printf("#   task_struct: host %u bytes (tasks +%u, comm +%u, cred +%u), "
	       "lab %u bytes (tasks +%u, comm +%u, cred +%u)\n", host.task_size, host.tasks,
	       host.comm, host.cred, lab.task_size, lab.tasks, lab.comm, lab.cred);
	/* Two layouts, not one: the same code served both. */
	EXPECT_NE(host.task_size, lab.task_size);
	EXPECT_TRUE(host.tasks != lab.tasks || host.comm != lab.comm || host.cred != lab.cred);
}

TEST(introspect_refuses_what_it_cannot_use)
{
	char err[160], map1[] = "ffffffff81000000 T _text\n";
	struct intro_symbols s;
	struct intro_offsets o;
	struct btf *btf;
	uint32_t off;
	FILE *f;

	f = fmemopen(map1, strlen(map1), "r");
	ASSERT_TRUE(f != NULL);
	EXPECT_EQ(intro__symbols(f, &s, err, sizeof(err)), -ENOENT);
	EXPECT_STREQ(err, "System.map lacks init_task");
	fclose(f);
	/* A BTF without task_struct. */
	btf = btf__new_empty();
	ASSERT_TRUE(btf != NULL);
	btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	EXPECT_EQ(intro__offsets(btf, &o, err, sizeof(err)), -ENOENT);
	EXPECT_TRUE(strstr(err, "task_struct") != NULL);
	EXPECT_EQ(intro__member(btf, 1, "x", &off, NULL), -ENOENT);
	btf__free(btf);
}

/*
 * Member paths through what kernels have: anonymous structs and unions
 * (randomized_struct_fields_start, unions in task_struct), typedefs of
 * anonymous structs (kuid_t), const and arrays.
 */
TEST(introspect_member_paths)
{
	struct btf *btf = btf__new_empty();
	int i32, u32, anon_s, anon_u, kuid, kuid_t, cst, outer, arr;
	uint32_t off, id;

	ASSERT_TRUE(btf != NULL);
	i32 = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	u32 = btf__add_int(btf, "unsigned int", 4, 0);
	/* typedef struct { uid_t val; } kuid_t; */
	kuid = btf__add_struct(btf, NULL, 4);
	btf__add_field(btf, "val", u32, 0, 0);
	kuid_t = btf__add_typedef(btf, "kuid_t", kuid);
	cst = btf__add_const(btf, kuid_t);
	/* union { int a; struct { int b; const kuid_t uid; }; } at +8 */
	anon_s = btf__add_struct(btf, NULL, 8);
	btf__add_field(btf, "b", i32, 0, 0);
	btf__add_field(btf, "uid", cst, 32, 0);
	anon_u = btf__add_union(btf, NULL, 8);
	btf__add_field(btf, "a", i32, 0, 0);
	btf__add_field(btf, NULL, anon_s, 0, 0);
	arr = btf__add_array(btf, u32, u32, 4);
	outer = btf__add_struct(btf, "outer", 32);
	btf__add_field(btf, "x", i32, 0, 0);
	btf__add_field(btf, NULL, anon_u, 64, 0);
	btf__add_field(btf, "arr", arr, 128, 0);
	ASSERT_TRUE(outer > 0);

	EXPECT_EQ(intro__member(btf, outer, "x", &off, NULL), 0);
	EXPECT_EQ(off, 0);
	EXPECT_EQ(intro__member(btf, outer, "a", &off, NULL), 0);
	EXPECT_EQ(off, 8);
	EXPECT_EQ(intro__member(btf, outer, "b", &off, NULL), 0);
	EXPECT_EQ(off, 8);
	EXPECT_EQ(intro__member(btf, outer, "uid.val", &off, &id), 0);
	EXPECT_EQ(off, 12);
	EXPECT_EQ(id, u32);
	EXPECT_EQ(intro__member(btf, outer, "arr", &off, &id), 0);
	EXPECT_EQ(off, 16);
	EXPECT_EQ(id, arr);
	EXPECT_EQ(intro__member(btf, outer, "uid.nope", &off, NULL), -ENOENT);
	EXPECT_EQ(intro__member(btf, outer, "ui", &off, NULL), -ENOENT);
	EXPECT_EQ(intro__member(btf, outer, "x.y", &off, NULL), -ENOENT);
	btf__free(btf);
}
