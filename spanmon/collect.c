// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "span/bpfutil.h"
#include "span/util.h"
#include "collect.h"
#include "span/spanevents.h"
#include "spanmon.skel.h"

_Static_assert(sizeof(struct span_fv_hist) == sizeof(struct span_hist),
	       "a dispatcher's delivery histogram is not spanmon's");

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

const char *const spanmon_pinned_maps[] = {
	"hists", "hist_index", "hists_used", "vms", "drops", "op_counts", NULL
};

static bool verbose;

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* Pinning needs a bpf filesystem at /sys/fs/bpf; mount one if missing. */
static int ensure_bpffs(const char *pin_dir)
{
	struct statfs st;

	if (strncmp(pin_dir, "/sys/fs/bpf/", 12))
		return 0;
	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
		fprintf(stderr, "spanmon: /sys/fs/bpf is not a bpf filesystem and mounting one failed: %s\n",
			strerror(errno));
		return -errno;
	}
	return 0;
}

#define COLLECTOR_DIR "collector"

/*
 * The pin directory, made if missing, open and flock()ed with @how
 * (LOCK_SH, LOCK_EX | LOCK_NB).  A directory removed by a reset while we
 * waited for the lock is not it any more: open again.  An fd, or negative
 * errno (-EWOULDBLOCK: another spanmon holds it).
 */
static int lock_pin_dir(const char *pin_dir, int how)
{
	struct stat a, b;
	int fd, tries;

	for (tries = 0; tries < 10; tries++) {
		if (mkdir(pin_dir, 0700) && errno != EEXIST)
			return -errno;
		fd = open(pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (flock(fd, how)) {
			int err = -errno;

			close(fd);
			return err;
		}
		if (!fstat(fd, &a) && !stat(pin_dir, &b) && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev)
			return fd;
		close(fd);
	}
	return -EAGAIN;
}

/* Become the collector if nobody is: 1 if we are now, 0 if another is. */
static int take_collector(struct spanmon_collect *c)
{
	int fd;

	if (mkdirat(c->dir_fd, COLLECTOR_DIR, 0700) && errno != EEXIST)
		return -errno;
	fd = openat(c->dir_fd, COLLECTOR_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int err = errno;

		close(fd);
		return err == EWOULDBLOCK ? 0 : -err;
	}
	c->owner_fd = fd;
	return 1;
}

static int attach(struct spanmon_collect *c)
{
	/* Skips the programs not loaded; __destroy() detaches the rest. */
	int err = spanmon_bpf__attach(c->skel);

	if (err) {
		fprintf(stderr, "spanmon: cannot attach BPF programs: %s (-v shows which)\n",
			strerror(-err));
		return err;
	}
	c->collecting = true;
	return 0;
}

static bool btf_has_struct(const struct btf *btf, const char *name)
{
	return btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT) >= 0;
}

static struct bpf_map *map_by_name(struct spanmon_bpf *skel, const char *name)
{
	return bpf_object__find_map_by_name(skel->obj, name);
}

int spanmon_collect_open(struct spanmon_collect *c, const struct spanmon_collect_opts *o)
{
	struct spanmon_bpf *skel;
	struct bpf_program *prog;
	bool any_span = false;
	unsigned int i;
	int err;

	memset(c, 0, sizeof(*c));
	c->dir_fd = c->owner_fd = -1;
	c->verbose = o->verbose;
	verbose = o->verbose;
	libbpf_set_print(print_fn);

	if (geteuid() != 0) {
		fprintf(stderr, "spanmon: need root (CAP_BPF and CAP_PERFMON) to load BPF programs\n");
		return -EPERM;
	}
	c->vmlinux = btf__load_vmlinux_btf();
	if (!c->vmlinux) {
		fprintf(stderr, "spanmon: the kernel has no BTF (/sys/kernel/btf/vmlinux); "
			"it needs CONFIG_DEBUG_INFO_BTF=y\n");
		return -ENOENT;
	}
	if (o->attach && (!span_kernel_has_tp(c->vmlinux, "kvm_exit") ||
			  !span_kernel_has_tp(c->vmlinux, "kvm_entry"))) {
		fprintf(stderr, "spanmon: tracepoints kvm:kvm_exit/kvm_entry are absent: "
			"is KVM built in or its module loaded?\n");
		err = -ENOENT;
		goto fail;
	}

	skel = c->skel = spanmon_bpf__open();
	if (!skel) {
		err = -errno;
		fprintf(stderr, "spanmon: cannot open the BPF object: %s\n", strerror(errno));
		goto fail;
	}

	/* A program per tracepoint, named after it: keep those the kernel has. */
	bpf_object__for_each_program(prog, skel->obj) {
		const char *name = bpf_program__name(prog);
		bool have = span_kernel_has_tp(c->vmlinux, name);

		if (prog == skel->progs.sched_process_exit)
			continue;	/* below */
		if (!strncmp(name, "span_", 5))
			any_span |= have;
		else if (!have && o->attach && !o->quiet)
			fprintf(stderr, "spanmon: warning: tracepoint kvm:%s is absent; "
				"its histograms stay empty\n", name);
		if (!o->all_programs)
			bpf_program__set_autoload(prog, have);
	}
	/* Thread exits only matter for the span ops a thread leaves pending. */
	if (!o->all_programs)
		bpf_program__set_autoload(skel->progs.sched_process_exit, any_span);
	if (!any_span && o->attach && !o->quiet)
		fprintf(stderr, "spanmon: span tracepoints absent (a stock kernel): "
			"no span operation histograms\n");
	skel->rodata->have_span_ops = any_span || o->all_programs;
	/* Plain loads where the cast can name the type (core_fixes.bpf.h). */
	if (btf__find_by_name_kind(c->vmlinux, "bpf_rdonly_cast", BTF_KIND_FUNC) >= 0) {
		skel->rodata->direct_vcpu = btf_has_struct(c->vmlinux, "kvm_vcpu");
		skel->rodata->direct_svm = btf_has_struct(c->vmlinux, "vcpu_svm");
		skel->rodata->direct_vmx = btf_has_struct(c->vmlinux, "vcpu_vmx");
	}
	skel->rodata->use_fake_clock = o->fake_clock;
	skel->rodata->use_fake_running = o->fake_clock;

	if (o->pin_dir) {
		char path[256];

		err = ensure_bpffs(o->pin_dir);
		if (err)
			goto fail;
		c->dir_fd = lock_pin_dir(o->pin_dir, LOCK_SH);
		if (c->dir_fd < 0) {
			err = c->dir_fd;
			fprintf(stderr, "spanmon: cannot lock %s: %s\n", o->pin_dir, strerror(-err));
			goto fail;
		}
		for (i = 0; spanmon_pinned_maps[i]; i++) {
			snprintf(path, sizeof(path), "%s/%s", o->pin_dir, spanmon_pinned_maps[i]);
			err = bpf_map__set_pin_path(map_by_name(skel, spanmon_pinned_maps[i]), path);
			if (err) {
				fprintf(stderr, "spanmon: cannot pin at %s: %s\n", path, strerror(-err));
				goto fail;
			}
		}
	}

	err = spanmon_bpf__load(skel);
	if (err) {
		fprintf(stderr, "spanmon: cannot load BPF programs: %s%s\n", strerror(-err),
			o->pin_dir ? " (-v shows why; pinned maps of another version: --reset)"
				   : " (-v shows why)");
		goto fail;
	}
	if (o->attach) {
		/* Without a pin directory nothing is shared: always collect. */
		err = o->pin_dir ? take_collector(c) : 1;
		if (err < 0) {
			fprintf(stderr, "spanmon: cannot lock %s/%s: %s\n", o->pin_dir,
				COLLECTOR_DIR, strerror(-err));
			goto fail;
		}
		if (err == 1 && (err = attach(c)))
			goto fail;
		if (!c->collecting && c->verbose)
			fprintf(stderr, "spanmon: another spanmon collects into %s: reading it\n",
				o->pin_dir);
	}
	return 0;

fail:
	spanmon_collect_close(c);
	return err;
}

int spanmon_collect_poll(struct spanmon_collect *c)
{
	int err;

	if (c->collecting || c->dir_fd < 0)
		return 0;
	err = take_collector(c);
	if (err < 0) {
		fprintf(stderr, "spanmon: cannot lock the collector directory: %s\n",
			strerror(-err));
		return err;
	}
	if (!err)
		return 0;
	err = attach(c);
	if (err)
		return err;
	fprintf(stderr, "spanmon: the collector exited: collecting here\n");
	return 1;
}

void spanmon_collect_close(struct spanmon_collect *c)
{
	/* Detached before the lock goes: a reader taking over never overlaps. */
	spanmon_bpf__destroy(c->skel);
	if (c->owner_fd >= 0)
		close(c->owner_fd);
	if (c->dir_fd >= 0)
		close(c->dir_fd);
	btf__free(c->vmlinux);
	memset(c, 0, sizeof(*c));
	c->dir_fd = c->owner_fd = -1;
}

/* Every series: its key in hist_index (@index_fd), its histogram in hists. */
static int read_hists(int index_fd, int fd, struct spanmon_snapshot *s)
{
	struct span_hist_key key, next, *prev = NULL;
	size_t cap = 0;
	__u32 idx;

	while (bpf_map_get_next_key(index_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (s->nr_series == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			void *p = realloc(s->series, ncap * sizeof(*s->series));

			if (!p)
				return -ENOMEM;
			s->series = p;
			cap = ncap;
		}
		/* Deleted meanwhile (a reset): skip it. */
		if (bpf_map_lookup_elem(index_fd, &key, &idx) ||
		    bpf_map_lookup_elem(fd, &idx, &s->series[s->nr_series].hist))
			continue;
		s->series[s->nr_series++].key = key;
	}
	return 0;
}

static int read_vms(int fd, struct spanmon_snapshot *s)
{
	__u32 key, next, *prev = NULL;
	size_t cap = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (s->nr_vms == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			void *p = realloc(s->vms, ncap * sizeof(*s->vms));

			if (!p)
				return -ENOMEM;
			s->vms = p;
			cap = ncap;
		}
		memset(&s->vms[s->nr_vms], 0, sizeof(s->vms[0]));
		if (bpf_map_lookup_elem(fd, &key, &s->vms[s->nr_vms].vm))
			continue;
		s->vms[s->nr_vms++].tgid = key;
	}
	return 0;
}

static int read_ops(int fd, struct spanmon_snapshot *s)
{
	struct span_op_key key, next, *prev = NULL;
	size_t cap = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (s->nr_ops == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			void *p = realloc(s->ops, ncap * sizeof(*s->ops));

			if (!p)
				return -ENOMEM;
			s->ops = p;
			cap = ncap;
		}
		if (bpf_map_lookup_elem(fd, &key, &s->ops[s->nr_ops].c))
			continue;
		s->ops[s->nr_ops++].key = key;
	}
	return 0;
}

/*
 * Every featurevisor dispatcher pinned under SPAN_FV_PIN_ROOT (by spanctl's
 * controller, lib/spanevents.c): its counters and delivery histogram.  A
 * directory going away meanwhile (a detach) is skipped.
 */
int spanmon_read_fvs(const char *root, struct spanmon_snapshot *s)
{
	struct dirent *de;
	size_t cap = 0;
	DIR *d = opendir(root);

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		struct spanmon_fv fv = {};
		char path[512];
		__u32 zero = 0;
		int fd;

		if (sscanf(de->d_name, "%u-%u", &fv.guest, &fv.view) != 2)
			continue;
		snprintf(path, sizeof(path), "%s/%s/stats", root, de->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		if (span_fv_stats_read(fd, fv.stats)) {
			close(fd);
			continue;
		}
		close(fd);
		snprintf(path, sizeof(path), "%s/%s/delivery", root, de->d_name);
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			/* struct span_fv_hist is struct span_hist's layout. */
			bpf_map_lookup_elem(fd, &zero, &fv.delivery);
			close(fd);
		}
		if (s->nr_fvs == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			void *p = realloc(s->fvs, ncap * sizeof(*s->fvs));

			if (!p) {
				closedir(d);
				return -ENOMEM;
			}
			s->fvs = p;
			cap = ncap;
		}
		s->fvs[s->nr_fvs++] = fv;
	}
	closedir(d);
	return 0;
}

int spanmon_collect_snapshot(struct spanmon_collect *c, struct spanmon_snapshot *s)
{
	struct timespec ts;
	__u32 i;
	int err;

	memset(s, 0, sizeof(*s));
	clock_gettime(CLOCK_REALTIME, &ts);
	s->time_ns = (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	err = read_hists(bpf_map__fd(c->skel->maps.hist_index), bpf_map__fd(c->skel->maps.hists), s);
	if (!err)
		err = read_vms(bpf_map__fd(c->skel->maps.vms), s);
	if (!err)
		err = read_ops(bpf_map__fd(c->skel->maps.op_counts), s);
	if (!err)
		err = spanmon_read_fvs(SPAN_FV_PIN_ROOT, s);
	if (err) {
		spanmon_snapshot_free(s);
		return err;
	}
	for (i = 0; i < SPAN_DROP_NR; i++)
		bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.drops), &i, &s->drops[i]);
	spanmon_label_vms(s);
	return 0;
}

int spanmon_collect_reset(const char *pin_dir)
{
	char path[256];
	int i, ret = 0, fd;
	struct stat st;

	if (stat(pin_dir, &st) && errno == ENOENT)
		return 0;
	fd = lock_pin_dir(pin_dir, LOCK_EX | LOCK_NB);
	if (fd < 0) {
		if (fd == -EWOULDBLOCK)
			fprintf(stderr, "spanmon: cannot reset while another spanmon uses %s; "
				"stop it first\n", pin_dir);
		else
			fprintf(stderr, "spanmon: cannot lock %s: %s\n", pin_dir, strerror(-fd));
		return fd == -EWOULDBLOCK ? -EBUSY : fd;
	}

	for (i = 0; spanmon_pinned_maps[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, spanmon_pinned_maps[i]);
		if (unlink(path) && errno != ENOENT) {
			fprintf(stderr, "spanmon: cannot unpin %s: %s\n", path, strerror(errno));
			ret = -errno;
		}
	}
	snprintf(path, sizeof(path), "%s/%s", pin_dir, COLLECTOR_DIR);
	if (rmdir(path) && errno != ENOENT) {
		fprintf(stderr, "spanmon: cannot remove %s: %s\n", path, strerror(errno));
		ret = -errno;
	}
	if (rmdir(pin_dir) && errno != ENOENT) {
		fprintf(stderr, "spanmon: cannot remove %s: %s\n", pin_dir, strerror(errno));
		ret = ret ? ret : -errno;
	}
	close(fd);
	return ret;
}
