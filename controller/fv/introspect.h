/* SPDX-License-Identifier: GPL-2.0 */
/*
 * introspect: a Linux guest's processes, read from its physical memory.
 *
 * Structure offsets come from the guest kernel's BTF (libbpf's BTF API),
 * symbol addresses from its System.map, slid by the KASLR offset found in
 * the guest's own memory: the kernel image is the first thing mapped in
 * its page tables above __START_KERNEL_map, proved by linux_banner (or
 * init_task's name) being where the slid symbol says; page_offset_base
 * (the randomized direct map) is read at its symbol.  Every kernel virtual
 * address is translated through the guest's page tables.
 *
 * Two views: the list (init_task.tasks, what the kernel's own walkers
 * see) and a scan of all physical memory for task_structs (Volatility's
 * psscan: a sched_class pointer at the BTF offset equal to one of the
 * *_sched_class addresses, plus sanity checks).  A live task the scan
 * finds and the list lacks is hidden.
 *
 * Everything reads through a spanfv_read_fn, so the same code runs on a
 * featurevisor's window and on a memory image in a host test.
 */
#ifndef __SPAN_INTROSPECT_H
#define __SPAN_INTROSPECT_H

#include <stdint.h>
#include <stdio.h>

#include "libspanfv.h"

struct btf;

/* Byte offsets and sizes, all from BTF. */
struct intro_offsets {
	uint32_t task_size;
	uint32_t tasks;			/* struct list_head */
	uint32_t pid, tgid;		/* pid_t */
	uint32_t comm, comm_len;
	uint32_t state, state_size;	/* __state (5.14+) or state */
	uint32_t exit_state;
	uint32_t usage, usage_size;	/* usage.refs.counter */
	uint32_t real_parent, cred, sched_class;
	uint32_t thread_pid;		/* struct pid * */
	uint32_t pid_links;		/* struct hlist_node[PIDTYPE_MAX] */
	uint32_t hlist_node_size;
	uint32_t cred_uid;		/* cred.uid.val */
	uint32_t pid_tasks;		/* struct pid: hlist_head tasks[] */
	uint32_t hlist_head_size;
	uint32_t pid_nr;		/* struct pid: numbers[0].nr */
	uint32_t list_next, list_prev;	/* struct list_head */
	uint32_t hnode_next, hnode_pprev; /* struct hlist_node */
	int pidtype_pid, pidtype_tgid, pidtype_pgid; /* enum pid_type */
};

/*
 * The offsets above from btf; 0, or -ENOENT with the missing member named
 * in err.
 */
int intro__offsets(const struct btf *btf, struct intro_offsets *o, char *err, size_t errlen);

/*
 * A member's byte offset in a struct or union, following a dotted path
 * ("uid.val") through typedefs, qualifiers and anonymous members.
 * *type_id (may be NULL) gets the member's type; -ENOENT if absent.
 */
int intro__member(const struct btf *btf, uint32_t type_id, const char *path,
		  uint32_t *off, uint32_t *type_id_out);

#define INTRO_MAX_SCHED_CLASS 8

/* Link-time addresses from System.map (no KASLR applied). */
struct intro_symbols {
	uint64_t text, init_task, page_offset_base, linux_banner;
	uint64_t sched_class[INTRO_MAX_SCHED_CLASS];
	int nr_sched_class;
};

/* 0, or -ENOENT/-EINVAL (err says which symbol or line). */
int intro__symbols(FILE *map, struct intro_symbols *s, char *err, size_t errlen);

enum intro_kind {
	INTRO_LISTED,	/* in init_task.tasks */
	INTRO_HIDDEN,	/* alive, but not in the list */
	INTRO_EXITED,	/* released: unlinked by the kernel, or EXIT_DEAD */
	INTRO_STALE,	/* a leftover: nothing alive points at it */
	INTRO_IDLE,	/* pid 0: a CPU's idle task, never in the list */
};

struct intro_task {
	uint64_t va, pa;
	int32_t pid, tgid, ppid;
	uint32_t uid;
	uint64_t state;
	int32_t exit_state;
	char comm[17];
	enum intro_kind kind;
};

#define X86_START_KERNEL_MAP	0xffffffff80000000ULL
#define X86_KERNEL_IMAGE_SIZE	0x40000000ULL	/* 1 GiB with KASLR */
#define X86_PAGE_OFFSET_DEFAULT	0xffff888000000000ULL	/* 4 levels, no RANDOMIZE_MEMORY */
#define INTRO_MAX_TASKS		32768

struct introspect {
	spanfv_read_fn read_phys;
	void *ctx;
	uint64_t mem_size;	/* guest-physical 0 .. mem_size */
	uint64_t cr3;
	struct intro_offsets off;
	struct intro_symbols sym;
	uint64_t kaslr;		/* virtual slide of the kernel image */
	uint64_t kernel_phys;	/* where _text is in guest-physical memory */
	uint64_t page_offset;	/* the direct map's base */
	uint8_t *buf;		/* one task_struct */
	char err[160];
};

int intro__init(struct introspect *in, const struct btf *btf, FILE *sysmap,
		spanfv_read_fn read_phys, void *ctx, uint64_t mem_size, uint64_t cr3);
void intro__exit(struct introspect *in);

/* Find kaslr, kernel_phys and page_offset; 0, or -errno with in->err. */
int intro__locate_kernel(struct introspect *in);

/* Copy len bytes at kernel virtual address va, page by page. */
int intro__read_kva(struct introspect *in, uint64_t va, void *buf, size_t len);

/*
 * Walk init_task.tasks: *tasks (malloc'd, caller frees) gets every task in
 * the list, init_task first; returns the number, or -errno with in->err.
 */
int intro__list(struct introspect *in, struct intro_task **tasks);

/*
 * Scan all of guest-physical memory for task_structs and classify each
 * against the list (listed, nlisted): *found (malloc'd) gets every one.
 * Returns the number, or -errno with in->err.
 */
int intro__scan(struct introspect *in, const struct intro_task *listed, int nlisted,
		struct intro_task **found);

/* ps's letter for a task's state (R S D T t I Z X). */
char intro__state_char(const struct intro_task *t);
const char *intro__kind_name(enum intro_kind k);

#endif /* __SPAN_INTROSPECT_H */
