// SPDX-License-Identifier: GPL-2.0
/*
 * spanmon profile: where the VMs' threads spend host CPU.  perf_event_open
 * CPU-clock sampling on every CPU (PERF_SAMPLE_TID|TIME|CALLCHAIN) for -d
 * seconds; a sample counts for a VM when its process holds a KVM vCPU fd
 * (anon_inode:kvm-vcpu in /proc/PID/fd, checked at the pid's first sample
 * and again a second later while it has none).  Per VM: samples in guest
 * mode (the timer interrupt that took the sample arrived in the guest: KVM
 * tells perf, PERF_RECORD_MISC_GUEST_*), in the host kernel, in the VMM's
 * user space; host-kernel samples by the exit being handled, which is the
 * SVM/VMX exit handler on the sample's kernel stack (fold.c).  --folded
 * writes every VM sample as a folded stack.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "span/util.h"
#include "builtin.h"
#include "fold.h"

#define RING_PAGES	64	/* data pages per CPU: 256 KiB, drained every 100 ms */
#define MAX_PIDS	4096

struct prof_pid {
	uint32_t pid;
	bool vm;
	uint64_t checked_ns;	/* not a VM when last checked: check again later */
	char comm[SPANMON_COMM_LEN + 1];
	uint64_t start;		/* /proc/PID/stat starttime: orders VMs of a comm */
	uint64_t mode[SPAN_PROF_MODE_NR];
	struct span_counts reasons;
};

struct prof {
	struct span_ksyms ksyms;
	struct span_counts folded;
	struct prof_pid *pids;
	size_t nr_pids;
	uint64_t samples, vm_samples, lost;
	int *fds;
	void **rings;
	int nr_cpus;
	size_t ring_size;
	char *buf;		/* a record that wraps the ring, copied whole */
};

static bool has_vcpu_fd(uint32_t pid)
{
	char path[64], link[64];
	struct dirent *d;
	bool found = false;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%u/fd", pid);
	dir = opendir(path);
	if (!dir)
		return false;
	while (!found && (d = readdir(dir))) {
		char fd[320];
		ssize_t n;

		snprintf(fd, sizeof(fd), "%s/%s", path, d->d_name);
		n = readlink(fd, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		found = !strncmp(link, "anon_inode:kvm-vcpu", 19);
	}
	closedir(dir);
	return found;
}

static void read_proc_info(struct prof_pid *p)
{
	char path[64], line[1024], *rp;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/stat", p->pid);
	f = fopen(path, "r");
	if (!f)
		return;
	/* "pid (comm) state ppid ...": comm may hold spaces and ')'. */
	if (fgets(line, sizeof(line), f) && (rp = strrchr(line, ')'))) {
		char *lp = strchr(line, '(');
		unsigned long long start = 0;
		int i;

		if (lp && rp > lp) {
			*rp = '\0';
			snprintf(p->comm, sizeof(p->comm), "%s", lp + 1);
		}
		/* starttime is field 22; rp + 2 is field 3. */
		rp += 2;
		for (i = 3; i < 22 && rp; i++) {
			rp = strchr(rp, ' ');
			if (rp)
				rp++;
		}
		if (rp && sscanf(rp, "%llu", &start) == 1)
			p->start = start;
	}
	fclose(f);
}

static struct prof_pid *pid_of(struct prof *pr, uint32_t pid)
{
	struct prof_pid *p = NULL;
	uint64_t now = span_now_ns();
	size_t i;

	for (i = 0; i < pr->nr_pids; i++)
		if (pr->pids[i].pid == pid) {
			p = &pr->pids[i];
			break;
		}
	if (!p) {
		if (pr->nr_pids == MAX_PIDS)
			return NULL;
		p = &pr->pids[pr->nr_pids++];
		memset(p, 0, sizeof(*p));
		p->pid = pid;
	} else if (p->vm || now - p->checked_ns < 1000000000ull) {
		return p;
	}
	p->checked_ns = now;
	p->vm = has_vcpu_fd(pid);
	if (p->vm)
		read_proc_info(p);
	return p;
}

static void thread_comm(uint32_t pid, uint32_t tid, char *comm, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/task/%u/comm", pid, tid);
	comm[0] = '\0';
	f = fopen(path, "r");
	if (f) {
		if (fgets(comm, len, f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	if (!comm[0])
		snprintf(comm, len, "[%u]", tid);
}

static int on_sample(struct prof *pr, const void *rec, size_t len)
{
	static char stack[8192];
	struct span_prof_sample s;
	struct prof_pid *p;
	const char *reason;
	char comm[32];

	if (span_prof_parse_sample(rec, len, &s))
		return 0;
	pr->samples++;
	p = pid_of(pr, s.pid);
	if (!p || !p->vm)
		return 0;
	pr->vm_samples++;
	p->mode[s.mode]++;
	if (s.mode == SPAN_PROF_HOST_KERNEL) {
		reason = span_prof_exit_reason(&s, &pr->ksyms);
		if (span_counts_add(&p->reasons, reason ? reason : "-", 1))
			return -ENOMEM;
	}
	if (!env.folded)
		return 0;
	/* The thread's own name: QEMU's "CPU 0/KVM" says more than "qemu". */
	thread_comm(s.pid, s.tid, comm, sizeof(comm));
	span_prof_fold(stack, sizeof(stack), comm, &s, &pr->ksyms);
	return span_counts_add(&pr->folded, stack, 1);
}

static int drain(struct prof *pr, int cpu)
{
	struct perf_event_mmap_page *meta = pr->rings[cpu];
	char *data = (char *)meta + meta->data_offset;
	uint64_t size = meta->data_size;
	uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = meta->data_tail;
	int err = 0;

	while (tail < head && !err) {
		struct perf_event_header *h = (void *)(data + tail % size);
		size_t off = tail % size;

		if (h->size < sizeof(*h))
			break;
		if (off + h->size > size) {
			/* Wraps: copy the two halves into one. */
			memcpy(pr->buf, data + off, size - off);
			memcpy(pr->buf + size - off, data, h->size - (size - off));
			h = (void *)pr->buf;
		}
		if (h->type == PERF_RECORD_SAMPLE)
			err = on_sample(pr, h, h->size);
		else if (h->type == PERF_RECORD_LOST)
			pr->lost += ((const uint64_t *)(h + 1))[1];
		tail += h->size;
	}
	__atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
	return err;
}

static int open_events(struct prof *pr)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.freq = 1,
		.sample_freq = env.freq,
		.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CALLCHAIN,
		.disabled = 1,
	};
	long page = sysconf(_SC_PAGESIZE);
	int cpu, opened = 0;

	pr->nr_cpus = sysconf(_SC_NPROCESSORS_CONF);
	pr->ring_size = (1 + RING_PAGES) * page;
	pr->fds = calloc(pr->nr_cpus, sizeof(*pr->fds));
	pr->rings = calloc(pr->nr_cpus, sizeof(*pr->rings));
	pr->buf = malloc(RING_PAGES * page);
	if (!pr->fds || !pr->rings || !pr->buf) {
		fprintf(stderr, "spanmon: out of memory\n");
		return -ENOMEM;
	}
	for (cpu = 0; cpu < pr->nr_cpus; cpu++)
		pr->fds[cpu] = -1;
	for (cpu = 0; cpu < pr->nr_cpus; cpu++) {
		pr->fds[cpu] = syscall(SYS_perf_event_open, &attr, -1, cpu, -1,
				       PERF_FLAG_FD_CLOEXEC);
		if (pr->fds[cpu] < 0) {
			/* An offline CPU: fine.  Anything else: say so. */
			if (errno == ENODEV)
				continue;
			fprintf(stderr, "spanmon: perf_event_open on CPU %d: %s%s\n", cpu,
				strerror(errno), errno == ENOENT || errno == EOPNOTSUPP ?
				" (a kernel without CONFIG_PERF_EVENTS?)" : "");
			return -errno;
		}
		pr->rings[cpu] = mmap(NULL, pr->ring_size, PROT_READ | PROT_WRITE,
				      MAP_SHARED, pr->fds[cpu], 0);
		if (pr->rings[cpu] == MAP_FAILED) {
			pr->rings[cpu] = NULL;
			fprintf(stderr, "spanmon: mmap of the perf ring: %s\n", strerror(errno));
			return -errno;
		}
		opened++;
	}
	if (!opened)
		fprintf(stderr, "spanmon: no CPU to sample\n");
	return opened ? 0 : -ENODEV;
}

static void close_events(struct prof *pr)
{
	int cpu;

	for (cpu = 0; pr->fds && cpu < pr->nr_cpus; cpu++) {
		if (pr->rings[cpu])
			munmap(pr->rings[cpu], pr->ring_size);
		if (pr->fds[cpu] >= 0)
			close(pr->fds[cpu]);
	}
	free(pr->fds);
	free(pr->rings);
	free(pr->buf);
}

static void set_enabled(struct prof *pr, bool on)
{
	int cpu;

	for (cpu = 0; cpu < pr->nr_cpus; cpu++)
		if (pr->rings[cpu])
			ioctl(pr->fds[cpu], on ? PERF_EVENT_IOC_ENABLE : PERF_EVENT_IOC_DISABLE, 0);
}

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * a / b : 0.0;
}

static void print_report(struct prof *pr, uint64_t seconds)
{
	struct spanmon_snapshot s = {};
	size_t i, j, nr = 0;

	/* VM labels as spanmon's other views make them: COMM-N by start. */
	s.vms = calloc(pr->nr_pids ? pr->nr_pids : 1, sizeof(*s.vms));
	for (i = 0; s.vms && i < pr->nr_pids; i++) {
		if (!pr->pids[i].vm)
			continue;
		s.vms[nr].tgid = pr->pids[i].pid;
		memcpy(s.vms[nr].vm.comm, pr->pids[i].comm, SPANMON_COMM_LEN);
		s.vms[nr].vm.first_ns = pr->pids[i].start;
		nr++;
	}
	s.nr_vms = nr;
	if (s.vms)
		spanmon_label_vms(&s);

	printf("%" PRIu64 " s at %" PRIu64 " Hz: %" PRIu64 " samples, %" PRIu64
	       " of KVM VMs, %" PRIu64 " lost\n\n", seconds, env.freq, pr->samples,
	       pr->vm_samples, pr->lost);
	printf("%-24s %9s %8s %8s %8s\n", "VM", "SAMPLES", "GUEST", "KERNEL", "VMM");
	for (i = 0; i < pr->nr_pids; i++) {
		struct prof_pid *p = &pr->pids[i];
		uint64_t n = p->mode[0] + p->mode[1] + p->mode[2];

		if (!p->vm || !n)
			continue;
		printf("%-24s %9" PRIu64 " %7.1f%% %7.1f%% %7.1f%%\n",
		       spanmon_vm_label(&s, p->pid), n,
		       pct(p->mode[SPAN_PROF_GUEST], n),
		       pct(p->mode[SPAN_PROF_HOST_KERNEL], n),
		       pct(p->mode[SPAN_PROF_HOST_USER], n));
	}
	printf("\nKERNEL samples by exit reason (the exit handler on the stack;"
	       "\n\"-\": none, i.e. entry/exit path, interrupts, other syscalls):\n");
	printf("%-24s %-20s %9s %8s\n", "VM", "REASON", "SAMPLES", "SHARE");
	for (i = 0; i < pr->nr_pids; i++) {
		struct prof_pid *p = &pr->pids[i];

		for (j = 0; j < p->reasons.cap; j++)
			if (p->reasons.keys[j])
				printf("%-24s %-20s %9" PRIu64 " %7.1f%%\n",
				       spanmon_vm_label(&s, p->pid), p->reasons.keys[j],
				       p->reasons.counts[j],
				       pct(p->reasons.counts[j], p->mode[SPAN_PROF_HOST_KERNEL]));
	}
	free(s.vms);
}

static int write_folded(struct prof *pr)
{
	FILE *f = strcmp(env.folded, "-") ? fopen(env.folded, "w") : stdout;
	int err;

	if (!f) {
		fprintf(stderr, "spanmon: cannot write %s: %s\n", env.folded, strerror(errno));
		return -errno;
	}
	err = span_counts_write(f, &pr->folded);
	if (f != stdout && fclose(f))
		err = -errno;
	if (err)
		fprintf(stderr, "spanmon: writing %s: %s\n", env.folded, strerror(-err));
	return err;
}

int cmd_profile(void)
{
	struct prof pr = {};
	uint64_t end;
	int cpu, ret = 1;
	FILE *f;

	if (geteuid() != 0) {
		fprintf(stderr, "spanmon: need root (CAP_PERFMON) to sample every CPU\n");
		return 1;
	}
	f = fopen("/proc/kallsyms", "r");
	if (!f || span_ksyms_load(&pr.ksyms, f)) {
		fprintf(stderr, "spanmon: no kernel symbols in /proc/kallsyms%s\n",
			f ? "" : ": cannot open it");
		if (f)
			fclose(f);
		return 1;
	}
	fclose(f);
	pr.pids = calloc(MAX_PIDS, sizeof(*pr.pids));
	if (!pr.pids) {
		fprintf(stderr, "spanmon: out of memory\n");
		goto out;
	}
	if (open_events(&pr))
		goto out;

	set_enabled(&pr, true);
	end = span_now_ns() + env.duration * 1000000000ull;
	while (!spanmon_exiting && span_now_ns() < end) {
		struct timespec ts = { 0, 100000000 };

		nanosleep(&ts, NULL);
		for (cpu = 0; cpu < pr.nr_cpus; cpu++)
			if (pr.rings[cpu] && drain(&pr, cpu))
				goto out;
	}
	set_enabled(&pr, false);
	for (cpu = 0; cpu < pr.nr_cpus; cpu++)
		if (pr.rings[cpu] && drain(&pr, cpu))
			goto out;

	print_report(&pr, env.duration);
	if (env.folded && write_folded(&pr))
		goto out;
	ret = 0;
out:
	close_events(&pr);
	for (size_t i = 0; pr.pids && i < pr.nr_pids; i++)
		span_counts_free(&pr.pids[i].reasons);
	free(pr.pids);
	span_counts_free(&pr.folded);
	span_ksyms_free(&pr.ksyms);
	return ret;
}
