// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#include "spanmon.skel.h"

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
		/* Skips the programs not loaded; __destroy() detaches the rest. */
		err = spanmon_bpf__attach(skel);
		if (err) {
			fprintf(stderr, "spanmon: cannot attach BPF programs: %s (-v shows which)\n",
				strerror(-err));
			goto fail;
		}
	}
	return 0;

fail:
	spanmon_collect_close(c);
	return err;
}

void spanmon_collect_close(struct spanmon_collect *c)
{
	spanmon_bpf__destroy(c->skel);
	btf__free(c->vmlinux);
	memset(c, 0, sizeof(*c));
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
	int i, ret = 0;

	for (i = 0; spanmon_pinned_maps[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, spanmon_pinned_maps[i]);
		if (unlink(path) && errno != ENOENT) {
			fprintf(stderr, "spanmon: cannot unpin %s: %s\n", path, strerror(errno));
			ret = -errno;
		}
	}
	if (rmdir(pin_dir) && errno != ENOENT) {
		fprintf(stderr, "spanmon: cannot remove %s: %s\n", pin_dir, strerror(errno));
		ret = ret ? ret : -errno;
	}
	return ret;
}
