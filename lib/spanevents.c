// SPDX-License-Identifier: GPL-2.0
/*
 * A featurevisor's memory events through BPF: its dispatcher
 * (bpf/spanfv.bpf.c), the checked filter loaded into it, the consumer of
 * its ring, its dirty bitmap and counters (span/spanevents.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/mman.h>
#include <sys/stat.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "span/hist.h"
#include "span/spanevents.h"
#include "spanfv.skel.h"

#define FILTER_SEC	"freplace/span_filter"
#define FILTER_FUNC	"span_filter"
#define DEFAULT_RING	(256u * 1024)

struct span_fv_dispatcher {
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *events, *dirty_map, *stats, *delivery_map;
	struct bpf_link *tp_link;
	__u64 *dirty;			/* the dirty map, mmapped */
	size_t dirty_words, dirty_len;
	struct span_fv_hist *delivery;	/* the delivery map, mmapped */
	size_t delivery_len;
	char pin_dir[256];		/* empty: not pinned */
	/* The filter, if one is loaded. */
	struct bpf_object *filter;
	struct bpf_link *filter_link;
	char filter_name[64];
};

struct span_fv_consumer {
	struct ring_buffer *rb;
	span_fv_event_fn fn;
	void *ctx;
	struct span_fv_hist *delivery;	/* NULL: not recorded */
	size_t delivery_len;
	__u64 received, max_dseq;
};

__attribute__((format(printf, 3, 4)))
static int reason(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!why || !len)
		return 0;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return 0;
}

static const char *const pinned_maps[] = { "events", "dirty", "stats", "delivery" };

static struct bpf_map *map_named(const struct span_fv_dispatcher *d, const char *name)
{
	if (!strcmp(name, "events"))
		return d->events;
	if (!strcmp(name, "dirty"))
		return d->dirty_map;
	if (!strcmp(name, "stats"))
		return d->stats;
	if (!strcmp(name, "delivery"))
		return d->delivery_map;
	return NULL;
}

int span_fv_map_fd(const struct span_fv_dispatcher *d, const char *name)
{
	struct bpf_map *m = map_named(d, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

int span_fv_prog_fd(const struct span_fv_dispatcher *d)
{
	return bpf_program__fd(d->prog);
}

struct bpf_object *span_fv_object(const struct span_fv_dispatcher *d)
{
	return d->obj;
}

/*
 * Set the `const volatile` @name in @obj's .rodata before the load, found
 * by its BTF (what a skeleton's rodata struct does, for any build of the
 * dispatcher).
 */
static int set_rodata(struct bpf_object *obj, const char *name, const void *val, size_t len)
{
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	struct bpf_map *m, *ro = NULL;
	size_t size;
	void *data;
	int id, i;

	bpf_object__for_each_map(m, obj) {
		const char *n = bpf_map__name(m);
		size_t l = strlen(n);

		if (l >= 7 && !strcmp(n + l - 7, ".rodata"))
			ro = m;
	}
	id = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -ENOENT;
	if (!ro || id < 0)
		return -ENOENT;
	data = (void *)bpf_map__initial_value(ro, &size);
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *v = btf__type_by_id(btf, vs->type);

		if (strcmp(btf__name_by_offset(btf, v->name_off), name))
			continue;
		if (vs->size != len || vs->offset + len > size || !data)
			return -EINVAL;
		memcpy((char *)data + vs->offset, val, len);
		return 0;
	}
	return -ENOENT;
}

static size_t page_round(size_t n)
{
	size_t pg = sysconf(_SC_PAGESIZE);

	return (n + pg - 1) / pg * pg;
}

static void unpin(struct span_fv_dispatcher *d)
{
	char path[300];
	size_t i;

	if (!d->pin_dir[0])
		return;
	for (i = 0; i < sizeof(pinned_maps) / sizeof(pinned_maps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", d->pin_dir, pinned_maps[i]);
		unlink(path);
	}
	rmdir(d->pin_dir);
	d->pin_dir[0] = 0;
}

/* mkdir -p, for a directory under bpffs. */
static int mkdirs(const char *dir)
{
	char buf[256], *p;

	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(buf, 0700) && errno != EEXIST ? -errno : 0;
}

static int pin(struct span_fv_dispatcher *d, const char *dir, char *why, size_t whylen)
{
	char path[300];
	size_t i;
	int err;

	err = mkdirs(dir);
	if (err)
		return reason(why, whylen, "cannot make %s: %s", dir, strerror(-err)), err;
	snprintf(d->pin_dir, sizeof(d->pin_dir), "%s", dir);
	for (i = 0; i < sizeof(pinned_maps) / sizeof(pinned_maps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, pinned_maps[i]);
		/*
		 * Left by a dispatcher whose process died: the kernel never
		 * has two live views of one (guest id, view), so it is stale.
		 */
		unlink(path);
		err = bpf_map__pin(map_named(d, pinned_maps[i]), path);
		if (err) {
			reason(why, whylen, "cannot pin %s: %s", path, strerror(-err));
			unpin(d);
			return err;
		}
	}
	return 0;
}

int span_fv_open(struct span_fv_dispatcher **out, const struct span_fv_opts *o,
		 char *why, size_t whylen)
{
	__u32 ring = o->ring_bytes ? o->ring_bytes : DEFAULT_RING;
	__u64 words = (o->guest_pages + 63) / 64;
	struct span_fv_dispatcher *d;
	int err;

	*out = NULL;
	if (ring & (ring - 1) || ring < (__u32)sysconf(_SC_PAGESIZE))
		return reason(why, whylen, "ring size %u: not a power of two of a page or more",
			      ring), -EINVAL;
	if (!words)
		words = 1;
	if (words > 0xffffffffull / 2)
		return reason(why, whylen, "%llu guest pages: too many for a bitmap",
			      (unsigned long long)o->guest_pages), -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return reason(why, whylen, "out of memory"), -ENOMEM;
	if (o->obj_path) {
		d->obj = bpf_object__open_file(o->obj_path, NULL);
	} else {
		LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "spanfv");
		size_t sz;
		const void *elf = spanfv_bpf__elf_bytes(&sz);

		d->obj = bpf_object__open_mem(elf, sz, &oo);
	}
	if (!d->obj) {
		err = -errno;
		reason(why, whylen, "cannot open the dispatcher: %s", strerror(errno));
		goto fail;
	}
	d->prog = bpf_object__find_program_by_name(d->obj, "span_mem_event");
	d->events = bpf_object__find_map_by_name(d->obj, "events");
	d->dirty_map = bpf_object__find_map_by_name(d->obj, "dirty");
	d->stats = bpf_object__find_map_by_name(d->obj, "stats");
	d->delivery_map = bpf_object__find_map_by_name(d->obj, "delivery");
	err = d->prog && d->events && d->dirty_map && d->stats && d->delivery_map ? 0 : -ENOENT;
	if (!err)
		err = set_rodata(d->obj, "guest_id", &o->guest_id, sizeof(o->guest_id));
	if (!err)
		err = set_rodata(d->obj, "view", &o->view, sizeof(o->view));
	if (!err) {
		__u64 wake = o->wake_bytes;

		err = set_rodata(d->obj, "wake_bytes", &wake, sizeof(wake));
	}
	if (err) {
		reason(why, whylen, "not a span dispatcher object (%s)", strerror(-err));
		goto fail;
	}
	bpf_map__set_max_entries(d->events, ring);
	bpf_map__set_max_entries(d->dirty_map, words);
	err = bpf_object__load(d->obj);
	if (err) {
		reason(why, whylen, "cannot load the dispatcher: %s", strerror(-err));
		goto fail;
	}
	d->dirty_words = words;
	d->dirty_len = page_round(words * sizeof(__u64));
	d->dirty = mmap(NULL, d->dirty_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			bpf_map__fd(d->dirty_map), 0);
	d->delivery_len = page_round(sizeof(struct span_fv_hist));
	d->delivery = mmap(NULL, d->delivery_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			   bpf_map__fd(d->delivery_map), 0);
	if (d->dirty == MAP_FAILED || d->delivery == MAP_FAILED) {
		err = -errno;
		reason(why, whylen, "cannot mmap the dispatcher's maps: %s", strerror(errno));
		goto fail;
	}
	if (o->pin_dir) {
		err = pin(d, o->pin_dir, why, whylen);
		if (err)
			goto fail;
	}
	if (o->attach) {
		d->tp_link = bpf_program__attach(d->prog);
		if (!d->tp_link) {
			err = -errno;
			if (err == -ENOENT)
				reason(why, whylen, "this kernel has no span:span_mem_event "
				       "tracepoint (kvm-patches/0016)");
			else
				reason(why, whylen, "cannot attach to span:span_mem_event: %s",
				       strerror(-err));
			goto fail;
		}
	}
	*out = d;
	return 0;
fail:
	span_fv_close(d);
	return err ? err : -EINVAL;
}

void span_fv_close(struct span_fv_dispatcher *d)
{
	if (!d)
		return;
	span_fv_filter_unload(d);
	bpf_link__destroy(d->tp_link);
	unpin(d);
	if (d->dirty && d->dirty != MAP_FAILED)
		munmap(d->dirty, d->dirty_len);
	if (d->delivery && d->delivery != MAP_FAILED)
		munmap(d->delivery, d->delivery_len);
	bpf_object__close(d->obj);
	free(d);
}

/* ---- the filter checker ------------------------------------------------------ */

/* Helper names by id, from the uapi's list (its form changed in 6.1). */
#ifdef ___BPF_FUNC_MAPPER
#define HELPER_NAME(x, y) [y] = "bpf_" #x,
#else
#define HELPER_NAME(x) "bpf_" #x
#endif
static const char *const helper_names[] = { __BPF_FUNC_MAPPER(HELPER_NAME) };
#undef HELPER_NAME

/*
 * The helpers a filter may call.  A filter is third-party code running in
 * L0 on another featurevisor's vCPU exits; it must read nothing but its
 * event (its argument) and its own maps:
 *   - map lookup/update/delete: every map it can name is its own plain data
 *     map (checked below), so these reach nothing else;
 *   - ktime_get_ns, get_prandom_u32, get_smp_processor_id: no memory read,
 *     nothing learned a featurevisor could not learn from its events'
 *     timestamps (the dispatcher's ts_ns) or by itself.
 * Not allowed, among others: every probe_read (any kernel or user memory),
 * get_current_* (other processes' identity), perf/ring outputs (a second
 * channel out of L0), tail calls (code we did not check), bpf_loop and
 * other callback helpers (a callback is code reached through a function
 * pointer; the filter needs none, so it is not worth checking), spin
 * locks and timers (a filter must not hold the vCPU that waits).
 */
static bool helper_allowed(int id)
{
	switch (id) {
	case BPF_FUNC_map_lookup_elem:
	case BPF_FUNC_map_update_elem:
	case BPF_FUNC_map_delete_elem:
	case BPF_FUNC_ktime_get_ns:
	case BPF_FUNC_get_prandom_u32:
	case BPF_FUNC_get_smp_processor_id:
		return true;
	default:
		return false;
	}
}

static const char *helper_name(int id)
{
	if (id > 0 && id < (int)(sizeof(helper_names) / sizeof(helper_names[0])) &&
	    helper_names[id])
		return helper_names[id];
	return "an unknown helper";
}

/* Plain data maps: values, no pointers to programs, maps or rings. */
static bool map_type_allowed(enum bpf_map_type t)
{
	switch (t) {
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
		return true;
	default:
		return false;
	}
}

struct filter_check {
	struct bpf_object *obj;
	char why[200];
	int refused;
	bool check_only;	/* stop before the kernel sees it */
};

__attribute__((format(printf, 2, 3)))
static int refuse(struct filter_check *fc, const char *fmt, ...)
{
	va_list ap;

	if (fc->refused)
		return -EPERM;
	va_start(ap, fmt);
	vsnprintf(fc->why, sizeof(fc->why), fmt, ap);
	va_end(ap);
	fc->refused = 1;
	return -EPERM;
}

/* One program, in SEC("freplace/span_filter"). */
static int check_programs(struct filter_check *fc, struct bpf_program **only)
{
	struct bpf_program *p;
	int n = 0;

	bpf_object__for_each_program(p, fc->obj) {
		*only = p;
		n++;
	}
	if (n != 1)
		return refuse(fc, "%d programs; a filter is exactly one, in SEC(\"%s\")",
			      n, FILTER_SEC);
	if (strcmp(bpf_program__section_name(*only), FILTER_SEC))
		return refuse(fc, "program %s is in SEC(\"%s\"), not SEC(\"%s\")",
			      bpf_program__name(*only), bpf_program__section_name(*only),
			      FILTER_SEC);
	return 0;
}

/*
 * Externs (kernel symbols, kfuncs, .kconfig), from the file's own BTF
 * (libbpf rewrites the object's copy of the externs at open).
 */
static int check_externs(struct filter_check *fc, const char *path)
{
	struct btf *btf = btf__parse_elf(path, NULL);
	int err = 0;
	__u32 id, n;

	if (!btf)
		return refuse(fc, "no BTF (build it with clang -g)");
	n = btf__type_cnt(btf);
	for (id = 1; id < n && !err; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const char *name = btf__name_by_offset(btf, t->name_off);

		if (btf_is_func(t) && btf_vlen(t) == BTF_FUNC_EXTERN)
			err = refuse(fc, "calls kfunc %s, not allowed (no kfuncs)", name);
		else if (btf_is_var(t) && btf_var(t)->linkage == BTF_VAR_GLOBAL_EXTERN)
			err = refuse(fc, "uses extern %s, not allowed (no ksyms, no .kconfig)",
				     name);
		else if (btf_is_datasec(t) && (!strcmp(name, ".ksyms") || !strcmp(name, ".kconfig")))
			err = refuse(fc, "has a %s section, not allowed", name);
	}
	btf__free(btf);
	return err;
}

/* Only its own plain data maps, unpinned (a pin by name reuses another's map). */
static int check_maps(struct filter_check *fc)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, fc->obj) {
		const char *name = bpf_map__name(m);

		if (!map_type_allowed(bpf_map__type(m)))
			return refuse(fc, "map %s is a %s, not allowed (only array and hash maps)",
				      name, libbpf_bpf_map_type_str(bpf_map__type(m)) ?:
				      "map of an unknown type");
		if (bpf_map__pin_path(m))
			return refuse(fc, "map %s is pinned (%s), not allowed (only its own maps)",
				      name, bpf_map__pin_path(m));
		if (strstr(name, ".kconfig"))
			return refuse(fc, "uses .kconfig, not allowed");
	}
	return 0;
}

static bool own_map_fd(struct filter_check *fc, int fd)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, fc->obj)
		if (bpf_map__fd(m) == fd)
			return true;
	return false;
}

/*
 * The instructions as libbpf will load them: subprograms appended, map fds
 * in place.  Called by libbpf just before the load (prog_prepare_load_fn):
 * nothing the kernel sees goes unchecked.
 */
static __thread struct filter_check *checking;

static int check_insns(struct bpf_program *prog, struct bpf_prog_load_opts *opts, long cookie)
{
	struct filter_check *fc = checking;
	const struct bpf_insn *insn = bpf_program__insns(prog);
	size_t i, n = bpf_program__insn_cnt(prog);

	if (!fc)	/* not a filter being loaded through this file */
		return 0;

	/* Calls first: a refused helper is the clearest reason to give. */
	for (i = 0; i < n; i++) {
		const struct bpf_insn *in = &insn[i];

		if (in->code == (BPF_LD | BPF_IMM | BPF_DW)) {
			i++;	/* its second half is no instruction */
			continue;
		}
		if (in->code != (BPF_JMP | BPF_CALL) || in->src_reg == BPF_PSEUDO_CALL)
			continue;	/* a subprogram: its code is in here too */
		if (in->src_reg == BPF_PSEUDO_KFUNC_CALL)
			return refuse(fc, "calls a kfunc (insn %zu), not allowed", i);
		if (in->src_reg)
			return refuse(fc, "call of kind %u (insn %zu), not allowed", in->src_reg, i);
		if (!helper_allowed(in->imm))
			return refuse(fc, "calls %s (helper %d), not allowed",
				      helper_name(in->imm), in->imm);
	}
	for (i = 0; i < n; i++) {
		const struct bpf_insn *in = &insn[i];

		if (in->code != (BPF_LD | BPF_IMM | BPF_DW))
			continue;
		switch (in->src_reg) {
		case 0:
			break;
		case BPF_PSEUDO_MAP_FD:
		case BPF_PSEUDO_MAP_VALUE:
			if (!own_map_fd(fc, in->imm))
				return refuse(fc, "uses a map that is not its own (insn %zu)", i);
			break;
		case BPF_PSEUDO_BTF_ID:
			return refuse(fc, "loads a kernel symbol (ksym, insn %zu), not allowed", i);
		case BPF_PSEUDO_FUNC:
			return refuse(fc, "takes a function's address (a callback, insn %zu), "
				      "not allowed", i);
		default:
			return refuse(fc, "ld_imm64 of kind %u (insn %zu), not allowed",
				      in->src_reg, i);
		}
		i++;
	}
	return fc->check_only ? -ECANCELED : 0;
}

static void filter_name_of(const char *path, char *buf, size_t len)
{
	const char *b = strrchr(path, '/');
	size_t n;

	b = b ? b + 1 : path;
	n = strlen(b);
	if (n > 6 && !strcmp(b + n - 6, ".bpf.o"))
		n -= 6;
	else if (n > 2 && !strcmp(b + n - 2, ".o"))
		n -= 2;
	snprintf(buf, len, "%.*s", (int)n, b);
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

/*
 * Our handler for SEC("freplace/span_filter"), in place of libbpf's, so
 * that check_insns() sees the final instructions.  Registered once for
 * good: libbpf 1.1's libbpf_unregister_prog_handler() frees its table
 * twice when the last handler goes (realloc to 0 bytes).
 */
static int handler_id;
static pthread_once_t handler_once = PTHREAD_ONCE_INIT;

static void register_handler(void)
{
	LIBBPF_OPTS(libbpf_prog_handler_opts, hopts, .prog_prepare_load_fn = check_insns);

	handler_id = libbpf_register_prog_handler(FILTER_SEC, BPF_PROG_TYPE_EXT, 0, &hopts);
}

/*
 * Open, check and load @path as the freplace of @target_fd's span_filter;
 * *objp is the loaded object.  @check_only: stop after the checks, before
 * the kernel sees the program.
 */
static int filter_open_checked(const char *path, int target_fd, bool check_only,
			       struct bpf_object **objp, char *why, size_t whylen)
{
	struct filter_check fc = { .check_only = check_only };
	libbpf_print_fn_t old_print = NULL;
	struct bpf_program *prog = NULL;
	bool debug;
	char name[64];
	int err;

	*objp = NULL;
	filter_name_of(path, name, sizeof(name));
	pthread_once(&handler_once, register_handler);
	if (handler_id < 0)
		return reason(why, whylen, "filter %s: cannot register a checker: %s", name,
			      strerror(-handler_id)), handler_id;
	/* SPANFV_DEBUG: libbpf's own messages (the kernel's log); else none. */
	debug = getenv("SPANFV_DEBUG") != NULL;
	if (!debug)
		old_print = libbpf_set_print(quiet);
	checking = &fc;
	fc.obj = bpf_object__open_file(path, NULL);
	if (!fc.obj) {
		err = -errno;
		reason(why, whylen, "filter %s: cannot open %s: %s", name, path, strerror(errno));
		goto out;
	}
	err = check_programs(&fc, &prog);
	if (!err)
		err = check_externs(&fc, path);
	if (!err)
		err = check_maps(&fc);
	if (!err) {
		bpf_program__set_type(prog, BPF_PROG_TYPE_EXT);
		err = bpf_program__set_attach_target(prog, target_fd, FILTER_FUNC);
		if (err) {
			reason(why, whylen, "filter %s: no %s to replace: %s", name,
			       FILTER_FUNC, strerror(-err));
			goto out;
		}
		err = bpf_object__load(fc.obj);
		if (check_only && err == -ECANCELED && !fc.refused)
			err = 0;
		else if (err && !fc.refused) {
			reason(why, whylen, "filter %s: the kernel refused it: %s%s", name,
			       strerror(-err), err == -EPERM ? " (no BPF trampolines here?)" : "");
			goto out;
		}
	}
	if (fc.refused) {
		reason(why, whylen, "filter %s refused: %s", name, fc.why);
		err = -EPERM;
	}
out:
	checking = NULL;
	/* Only what we changed: set_print(NULL) would silence libbpf for good. */
	if (!debug)
		libbpf_set_print(old_print);
	if (err)
		bpf_object__close(fc.obj);
	else
		*objp = fc.obj;
	return err;
}

int span_fv_filter_check(const char *path, char *why, size_t whylen)
{
	/* A dispatcher of no view, only for span_filter's BTF id: never attached. */
	struct span_fv_opts o = { .guest_id = ~0u, .view = ~0u, .ring_bytes = 4096 };
	struct span_fv_dispatcher *d;
	struct bpf_object *obj;
	int err;

	err = span_fv_open(&d, &o, why, whylen);
	if (err)
		return err;
	err = filter_open_checked(path, span_fv_prog_fd(d), true, &obj, why, whylen);
	bpf_object__close(obj);
	span_fv_close(d);
	return err;
}

int span_fv_filter_load(struct span_fv_dispatcher *d, const char *path,
			char *why, size_t whylen)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_link *link;
	int err;

	err = filter_open_checked(path, span_fv_prog_fd(d), false, &obj, why, whylen);
	if (err)
		return err;
	prog = bpf_object__next_program(obj, NULL);
	/* One freplace link per target function: the old filter goes first. */
	span_fv_filter_unload(d);
	link = bpf_program__attach_freplace(prog, span_fv_prog_fd(d), FILTER_FUNC);
	if (!link) {
		err = -errno;
		reason(why, whylen, "cannot attach the filter: %s", strerror(errno));
		bpf_object__close(obj);
		return err;
	}
	d->filter = obj;
	d->filter_link = link;
	filter_name_of(path, d->filter_name, sizeof(d->filter_name));
	return 0;
}

void span_fv_filter_unload(struct span_fv_dispatcher *d)
{
	bpf_link__destroy(d->filter_link);
	bpf_object__close(d->filter);
	d->filter_link = NULL;
	d->filter = NULL;
	d->filter_name[0] = 0;
}

const char *span_fv_filter_name(const struct span_fv_dispatcher *d)
{
	return d->filter ? d->filter_name : NULL;
}

struct bpf_object *span_fv_filter_object(const struct span_fv_dispatcher *d)
{
	return d->filter;
}

/* ---- counters and the dirty bitmap ------------------------------------------ */

int span_fv_stats_read(int fd, __u64 out[SPAN_FV_STAT_NR])
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *v;
	__u32 k;
	int c;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (k = 0; k < SPAN_FV_STAT_NR; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, v)) {
			free(v);
			return -errno;
		}
		for (c = 0; c < ncpu; c++)
			out[k] += v[c];
	}
	free(v);
	return 0;
}

int span_fv_stats(const struct span_fv_dispatcher *d, __u64 out[SPAN_FV_STAT_NR])
{
	return span_fv_stats_read(bpf_map__fd(d->stats), out);
}

size_t span_fv_dirty_words(const struct span_fv_dispatcher *d)
{
	return d->dirty_words;
}

long span_fv_dirty_harvest(struct span_fv_dispatcher *d, __u64 *out, size_t words)
{
	size_t i, n = words < d->dirty_words ? words : d->dirty_words;
	long bits = 0;
	__u64 w;

	for (i = 0; i < n; i++) {
		/* A plain read first: most words are clear, and stay unwritten. */
		if (!__atomic_load_n(&d->dirty[i], __ATOMIC_RELAXED))
			continue;
		w = __atomic_exchange_n(&d->dirty[i], 0, __ATOMIC_ACQ_REL);
		out[i] |= w;
		bits += __builtin_popcountll(w);
	}
	return bits;
}

/* ---- the consumer ------------------------------------------------------------ */

static __u64 mono_ns(void)
{
	struct timespec ts;

	/* bpf_ktime_get_ns()'s clock. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct span_fv_consumer *c = ctx;
	const struct span_fv_event *ev = data;

	if (size < sizeof(*ev))
		return 0;
	c->received++;
	if (ev->dseq > c->max_dseq)
		c->max_dseq = ev->dseq;
	if (c->delivery) {
		__u64 now = mono_ns(), d = now > ev->ts_ns ? now - ev->ts_ns : 0;

		__atomic_fetch_add(&c->delivery->slots[span_hist_slot(d)], 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&c->delivery->sum_ns, d, __ATOMIC_RELAXED);
	}
	return c->fn ? c->fn(c->ctx, ev) : 0;
}

int span_fv_consumer_new_fds(struct span_fv_consumer **out, int events_fd, int delivery_fd,
			     span_fv_event_fn fn, void *ctx, char *why, size_t whylen)
{
	struct span_fv_consumer *c = calloc(1, sizeof(*c));
	int err;

	*out = NULL;
	if (!c)
		return reason(why, whylen, "out of memory"), -ENOMEM;
	c->fn = fn;
	c->ctx = ctx;
	if (delivery_fd >= 0) {
		c->delivery_len = page_round(sizeof(struct span_fv_hist));
		c->delivery = mmap(NULL, c->delivery_len, PROT_READ | PROT_WRITE, MAP_SHARED,
				   delivery_fd, 0);
		if (c->delivery == MAP_FAILED) {
			err = -errno;
			reason(why, whylen, "cannot mmap the delivery histogram: %s",
			       strerror(errno));
			c->delivery = NULL;
			span_fv_consumer_free(c);
			return err;
		}
	}
	c->rb = ring_buffer__new(events_fd, on_record, c, NULL);
	if (!c->rb) {
		err = -errno;
		reason(why, whylen, "cannot open the event ring: %s", strerror(errno));
		span_fv_consumer_free(c);
		return err;
	}
	*out = c;
	return 0;
}

int span_fv_consumer_new(struct span_fv_consumer **out, struct span_fv_dispatcher *d,
			 span_fv_event_fn fn, void *ctx, char *why, size_t whylen)
{
	return span_fv_consumer_new_fds(out, bpf_map__fd(d->events),
					bpf_map__fd(d->delivery_map), fn, ctx, why, whylen);
}

int span_fv_consumer_poll(struct span_fv_consumer *c, int timeout_ms)
{
	return ring_buffer__poll(c->rb, timeout_ms);
}

int span_fv_consumer_consume(struct span_fv_consumer *c)
{
	return ring_buffer__consume(c->rb);
}

__u64 span_fv_consumer_received(const struct span_fv_consumer *c)
{
	return c->received;
}

/*
 * dseq is handed out before the ring reservation, so every lost record
 * leaves a hole below the highest dseq seen.  Records reserved on several
 * CPUs may arrive out of dseq order: counting holes as (highest seen -
 * received) is right once the stragglers are in, and never counts one
 * twice.
 */
__u64 span_fv_consumer_lost(const struct span_fv_consumer *c)
{
	return c->max_dseq > c->received ? c->max_dseq - c->received : 0;
}

void span_fv_consumer_free(struct span_fv_consumer *c)
{
	if (!c)
		return;
	ring_buffer__free(c->rb);
	if (c->delivery)
		munmap(c->delivery, c->delivery_len);
	free(c);
}
