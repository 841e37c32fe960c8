// SPDX-License-Identifier: GPL-2.0
/*
 * introspect (see introspect.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "introspect.h"

/* include/linux/poison.h on x86-64: what list_del_rcu() leaves in ->prev. */
#define LIST_POISON2		0xdead000000000122ULL
/* include/linux/sched.h: exit_state and the state bits below TASK_STATE_MAX. */
#define EXIT_DEAD		0x10
#define EXIT_ZOMBIE		0x20
#define TASK_STATE_MAX		0x10000
#define PID_MAX_LIMIT		(4 * 1024 * 1024)
#define SZ_2M			(2ULL << 20)
#define SCAN_CHUNK		(1 << 20)

static void seterr(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* ---- BTF ------------------------------------------------------------------- */

static int member_find(const struct btf *btf, uint32_t type_id, const char *name, size_t nlen,
		       uint32_t *off, uint32_t *out)
{
	const struct btf_member *m;
	const struct btf_type *t;
	int id = btf__resolve_type(btf, type_id);
	unsigned int i;

	if (id < 0)
		return -ENOENT;
	t = btf__type_by_id(btf, id);
	if (!t || !btf_is_composite(t))
		return -ENOENT;
	m = btf_members(t);
	for (i = 0; i < btf_vlen(t); i++, m++) {
		const char *mn = btf__name_by_offset(btf, m->name_off);
		uint32_t bit = btf_member_bit_offset(t, i), sub;

		if (mn && *mn) {
			if (strlen(mn) == nlen && !strncmp(mn, name, nlen)) {
				*off = bit / 8;
				*out = m->type;
				return 0;
			}
		} else if (!member_find(btf, m->type, name, nlen, &sub, out)) {
			/* An anonymous struct or union: its members are ours. */
			*off = bit / 8 + sub;
			return 0;
		}
	}
	return -ENOENT;
}

int intro__member(const struct btf *btf, uint32_t type_id, const char *path, uint32_t *off,
		  uint32_t *type_id_out)
{
	uint32_t total = 0, o, id = type_id;
	const char *p = path, *dot;

	for (;;) {
		dot = strchr(p, '.');
		if (member_find(btf, id, p, dot ? (size_t)(dot - p) : strlen(p), &o, &id))
			return -ENOENT;
		total += o;
		if (!dot)
			break;
		p = dot + 1;
	}
	*off = total;
	if (type_id_out)
		*type_id_out = id;
	return 0;
}

static int find_struct(const struct btf *btf, const char *name)
{
	return btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT);
}

/* The element type of an array member; 0 if not an array. */
static uint32_t array_elem(const struct btf *btf, uint32_t id, uint32_t *nelems)
{
	const struct btf_type *t;
	int rid = btf__resolve_type(btf, id);

	if (rid < 0 || !(t = btf__type_by_id(btf, rid)) || !btf_is_array(t))
		return 0;
	if (nelems)
		*nelems = btf_array(t)->nelems;
	return btf_array(t)->type;
}

static int enum_value(const struct btf *btf, const char *type, const char *name, int *val)
{
	const struct btf_type *t;
	const struct btf_enum *e;
	int id = btf__find_by_name_kind(btf, type, BTF_KIND_ENUM);
	unsigned int i;

	if (id < 0 || !(t = btf__type_by_id(btf, id)))
		return -ENOENT;
	e = btf_enum(t);
	for (i = 0; i < btf_vlen(t); i++, e++) {
		if (!strcmp(btf__name_by_offset(btf, e->name_off), name)) {
			*val = e->val;
			return 0;
		}
	}
	return -ENOENT;
}

int intro__offsets(const struct btf *btf, struct intro_offsets *o, char *err, size_t errlen)
{
	int task = find_struct(btf, "task_struct"), cred = find_struct(btf, "cred");
	int pid = find_struct(btf, "pid"), upid = find_struct(btf, "upid");
	int list = find_struct(btf, "list_head"), hnode = find_struct(btf, "hlist_node");
	uint32_t id, elem, nr;
	const char *what;
	int64_t sz;

	memset(o, 0, sizeof(*o));
	if (task < 0 || cred < 0 || pid < 0 || upid < 0 || list < 0 || hnode < 0) {
		seterr(err, errlen, "BTF lacks struct task_struct, cred, pid, upid, "
		       "list_head or hlist_node");
		return -ENOENT;
	}
	o->task_size = btf__resolve_size(btf, task);
#define M(type, field, path)						\
	do {								\
		what = #type "." path;					\
		if (intro__member(btf, type, path, &o->field, &id))	\
			goto missing;					\
	} while (0)
	M(task, tasks, "tasks");
	M(task, pid, "pid");
	M(task, tgid, "tgid");
	M(task, exit_state, "exit_state");
	M(task, real_parent, "real_parent");
	M(task, cred, "cred");
	M(task, sched_class, "sched_class");
	M(task, thread_pid, "thread_pid");
	M(task, usage, "usage.refs.counter");
	o->usage_size = btf__resolve_size(btf, id);
	M(task, comm, "comm");
	if (!array_elem(btf, id, &o->comm_len))
		goto missing;
	M(task, pid_links, "pid_links");
	if (!(elem = array_elem(btf, id, NULL)))
		goto missing;
	o->hlist_node_size = btf__resolve_size(btf, elem);
	/* task_struct.state became __state in 5.14. */
	if (intro__member(btf, task, "__state", &o->state, &id))
		M(task, state, "state");
	o->state_size = btf__resolve_size(btf, id);
	M(cred, cred_uid, "uid.val");
	M(pid, pid_tasks, "tasks");
	if (!(elem = array_elem(btf, id, NULL)))
		goto missing;
	o->hlist_head_size = btf__resolve_size(btf, elem);
	M(pid, pid_nr, "numbers");
	what = "upid.nr";
	if (intro__member(btf, upid, "nr", &nr, NULL))
		goto missing;
	o->pid_nr += nr;
	M(list, list_next, "next");
	M(list, list_prev, "prev");
	M(hnode, hnode_next, "next");
	M(hnode, hnode_pprev, "pprev");
#undef M
	what = "enum pid_type";
	if (enum_value(btf, "pid_type", "PIDTYPE_PID", &o->pidtype_pid) ||
	    enum_value(btf, "pid_type", "PIDTYPE_TGID", &o->pidtype_tgid) ||
	    enum_value(btf, "pid_type", "PIDTYPE_PGID", &o->pidtype_pgid))
		goto missing;
	sz = btf__resolve_size(btf, task);
	if (sz <= 0 || o->comm_len < 8 || o->comm_len > 64 || !o->hlist_node_size ||
	    !o->hlist_head_size || (o->state_size != 4 && o->state_size != 8) ||
	    (o->usage_size != 4 && o->usage_size != 8)) {
		seterr(err, errlen, "BTF: unexpected sizes (task_struct %lld, comm %u)",
		       (long long)sz, o->comm_len);
		return -EINVAL;
	}
	return 0;
missing:
	seterr(err, errlen, "BTF lacks %s", what);
	return -ENOENT;
}

/* ---- System.map ---------------------------------------------------------------- */

int intro__symbols(FILE *map, struct intro_symbols *s, char *err, size_t errlen)
{
	char line[512], type, name[256];
	unsigned long long addr;
	size_t len;

	memset(s, 0, sizeof(*s));
	while (fgets(line, sizeof(line), map)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3)
			continue;
		if (!strcmp(name, "_text"))
			s->text = addr;
		else if (!strcmp(name, "init_task"))
			s->init_task = addr;
		else if (!strcmp(name, "page_offset_base"))
			s->page_offset_base = addr;
		else if (!strcmp(name, "linux_banner"))
			s->linux_banner = addr;
		/* stop_, dl_, rt_, fair_, idle_ (and ext_) sched_class. */
		else if ((len = strlen(name)) > 12 && name[0] != '_' &&
			 !strcmp(name + len - 12, "_sched_class") &&
			 strspn(name, "abcdefghijklmnopqrstuvwxyz") == len - 12 &&
			 s->nr_sched_class < INTRO_MAX_SCHED_CLASS)
			s->sched_class[s->nr_sched_class++] = addr;
	}
	if (!s->text || !s->init_task || !s->nr_sched_class) {
		seterr(err, errlen, "System.map lacks %s", !s->text ? "_text" :
		       !s->init_task ? "init_task" : "any *_sched_class");
		return -ENOENT;
	}
	return 0;
}

/* ---- reading the guest ---------------------------------------------------------- */

int intro__init(struct introspect *in, const struct btf *btf, FILE *sysmap,
		spanfv_read_fn read_phys, void *ctx, uint64_t mem_size, uint64_t cr3)
{
	int err;

	memset(in, 0, sizeof(*in));
	in->read_phys = read_phys;
	in->ctx = ctx;
	in->mem_size = mem_size;
	in->cr3 = cr3;
	in->page_offset = X86_PAGE_OFFSET_DEFAULT;
	err = intro__offsets(btf, &in->off, in->err, sizeof(in->err));
	if (!err)
		err = intro__symbols(sysmap, &in->sym, in->err, sizeof(in->err));
	if (err)
		return err;
	in->buf = malloc(in->off.task_size);
	return in->buf ? 0 : -ENOMEM;
}

void intro__exit(struct introspect *in)
{
	free(in->buf);
	in->buf = NULL;
}

int intro__read_kva(struct introspect *in, uint64_t va, void *buf, size_t len)
{
	uint64_t pa;
	size_t n;
	int err;

	while (len) {
		n = 4096 - (va & 4095);
		if (n > len)
			n = len;
		err = spanfv__translate(in->read_phys, in->ctx, in->cr3, va, &pa);
		if (!err)
			err = in->read_phys(in->ctx, pa, buf, n);
		if (err)
			return err;
		va += n;
		buf = (uint8_t *)buf + n;
		len -= n;
	}
	return 0;
}

static int read_u64(struct introspect *in, uint64_t va, uint64_t *v)
{
	return intro__read_kva(in, va, v, sizeof(*v));
}

static uint64_t get(const uint8_t *buf, uint32_t off, uint32_t size)
{
	uint64_t v = 0;

	memcpy(&v, buf + off, size);	/* little-endian */
	return v;
}

/* The slid kernel is proved by a known string where its symbol says. */
static int kernel_proved(struct introspect *in)
{
	char s[16];

	if (in->sym.linux_banner)
		return !intro__read_kva(in, in->sym.linux_banner + in->kaslr, s, 14) &&
		       !memcmp(s, "Linux version ", 14);
	return !intro__read_kva(in, in->sym.init_task + in->kaslr + in->off.comm, s, 8) &&
	       !memcmp(s, "swapper", 7);
}

int intro__locate_kernel(struct introspect *in)
{
	uint64_t va, pa, text2m = in->sym.text & ~(SZ_2M - 1), pob;

	/* The kernel image mapping: cleared below _text, so its first page is _text's. */
	for (va = X86_START_KERNEL_MAP; va < X86_START_KERNEL_MAP + X86_KERNEL_IMAGE_SIZE;
	     va += SZ_2M) {
		if (spanfv__translate(in->read_phys, in->ctx, in->cr3, va, &pa))
			continue;
		in->kaslr = va - text2m;
		if (kernel_proved(in))
			break;
	}
	if (va >= X86_START_KERNEL_MAP + X86_KERNEL_IMAGE_SIZE) {
		in->kaslr = 0;
		seterr(in->err, sizeof(in->err), "no kernel image matching System.map is mapped "
		       "at %#llx.. through CR3 %#llx", X86_START_KERNEL_MAP,
		       (unsigned long long)in->cr3);
		return -ENOENT;
	}
	spanfv__translate(in->read_phys, in->ctx, in->cr3, in->sym.text + in->kaslr,
			  &in->kernel_phys);
	/* With RANDOMIZE_MEMORY the direct map's base is a variable. */
	if (in->sym.page_offset_base) {
		if (read_u64(in, in->sym.page_offset_base + in->kaslr, &pob) ||
		    pob < 0xff00000000000000ULL || (pob & (SZ_2M - 1)) ||
		    spanfv__translate(in->read_phys, in->ctx, in->cr3, pob, &pa) || pa) {
			seterr(in->err, sizeof(in->err), "page_offset_base unreadable or "
			       "not the direct map");
			return -EINVAL;
		}
		in->page_offset = pob;
	} else if (spanfv__direct_map(in->read_phys, in->ctx, in->cr3, &pob) == 0) {
		in->page_offset = pob;	/* an older kernel: the walk finds it */
	}
	return 0;
}

/* A pointer a task_struct may hold: into the direct map or the kernel image. */
static int is_kptr(struct introspect *in, uint64_t v)
{
	return (v >= in->page_offset && v - in->page_offset < in->mem_size) ||
	       (v >= X86_START_KERNEL_MAP && v - X86_START_KERNEL_MAP < X86_KERNEL_IMAGE_SIZE);
}

/* Fields of the task_struct in in->buf (at va) into t. */
static void task_fill(struct introspect *in, uint64_t va, struct intro_task *t)
{
	const struct intro_offsets *o = &in->off;
	uint64_t rp = get(in->buf, o->real_parent, 8), cred = get(in->buf, o->cred, 8);
	uint32_t n = o->comm_len < sizeof(t->comm) ? o->comm_len : sizeof(t->comm) - 1;
	int32_t ppid = -1;
	uint32_t uid = ~0U;

	memset(t, 0, sizeof(*t));
	t->va = va;
	t->pid = (int32_t)get(in->buf, o->pid, 4);
	t->tgid = (int32_t)get(in->buf, o->tgid, 4);
	t->state = get(in->buf, o->state, o->state_size);
	t->exit_state = (int32_t)get(in->buf, o->exit_state, 4);
	memcpy(t->comm, in->buf + o->comm, n);
	t->comm[n] = 0;
	/* init_task is its own parent; the kernel reports ppid 0 for it. */
	if (rp == va)
		ppid = 0;
	else if (rp && intro__read_kva(in, rp + o->tgid, &ppid, 4))
		ppid = -1;
	if (cred)
		intro__read_kva(in, cred + o->cred_uid, &uid, 4);
	t->ppid = ppid;
	t->uid = uid;
}

int intro__list(struct introspect *in, struct intro_task **tasks)
{
	const struct intro_offsets *o = &in->off;
	uint64_t init = in->sym.init_task + in->kaslr, head = init + o->tasks, cur, va;
	struct intro_task *v = NULL, *nv;
	int n = 0, cap = 0;

	va = init;
	for (;;) {
		if (intro__read_kva(in, va, in->buf, o->task_size)) {
			seterr(in->err, sizeof(in->err), "task list broken: task at %#llx "
			       "unreadable (after %d)", (unsigned long long)va, n);
			free(v);
			return -EFAULT;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		task_fill(in, va, &v[n]);
		v[n].kind = INTRO_LISTED;
		spanfv__translate(in->read_phys, in->ctx, in->cr3, va, &v[n].pa);
		n++;
		cur = get(in->buf, o->tasks + o->list_next, 8);
		if (cur == head)
			break;
		if (n >= INTRO_MAX_TASKS || !is_kptr(in, cur)) {
			seterr(in->err, sizeof(in->err), "task list broken after %d tasks "
			       "(next %#llx)", n, (unsigned long long)cur);
			free(v);
			return -ELOOP;
		}
		va = cur - o->tasks;
	}
	*tasks = v;
	return n;
}

/* ---- psscan ------------------------------------------------------------------------ */

static int comm_ok(const uint8_t *c, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len && c[i]; i++)
		if (c[i] < 0x20 || c[i] > 0x7e)
			return 0;
	return i > 0 && i < len;
}

/* Plausibly a task_struct (in in->buf)? */
static int task_sane(struct introspect *in)
{
	const struct intro_offsets *o = &in->off;
	int32_t pid = get(in->buf, o->pid, 4), tgid = get(in->buf, o->tgid, 4);
	uint64_t next = get(in->buf, o->tasks + o->list_next, 8);
	uint64_t prev = get(in->buf, o->tasks + o->list_prev, 8);
	uint32_t es = get(in->buf, o->exit_state, 4);

	return pid >= 0 && pid < PID_MAX_LIMIT && tgid >= 0 && tgid < PID_MAX_LIMIT &&
	       (tgid > 0 || pid == 0) && comm_ok(in->buf + o->comm, o->comm_len) &&
	       get(in->buf, o->state, o->state_size) < TASK_STATE_MAX &&
	       (es & ~(uint32_t)(EXIT_DEAD | EXIT_ZOMBIE)) == 0 &&
	       is_kptr(in, next) && (is_kptr(in, prev) || prev == LIST_POISON2) &&
	       is_kptr(in, get(in->buf, o->real_parent, 8)) &&
	       (is_kptr(in, get(in->buf, o->cred, 8)) || !get(in->buf, o->cred, 8));
}

/*
 * Is the task at va (in in->buf) alive although not listed?  Either the
 * pid hash still leads to it (pid->tasks[PIDTYPE_PID], which a released
 * task has left and which /proc and kill(2) use), or its own list node
 * is consistent (its neighbours point back at it, or it points at
 * itself).  A freed task_struct whose memory was reused has neither.
 */
static int task_alive(struct introspect *in, uint64_t va)
{
	const struct intro_offsets *o = &in->off;
	uint64_t node = va + o->tasks, next = get(in->buf, o->tasks + o->list_next, 8);
	uint64_t prev = get(in->buf, o->tasks + o->list_prev, 8);
	uint64_t pid = get(in->buf, o->thread_pid, 8), first, back;

	if (pid && is_kptr(in, pid) &&
	    !read_u64(in, pid + o->pid_tasks + o->pidtype_pid * o->hlist_head_size, &first) &&
	    first == va + o->pid_links + o->pidtype_pid * o->hlist_node_size)
		return 1;
	if (read_u64(in, next + o->list_prev, &back) || back != node)
		return 0;
	return !read_u64(in, prev + o->list_next, &back) && back == node;
}

static enum intro_kind classify(struct introspect *in, struct intro_task *t,
				const struct intro_task *listed, int nlisted)
{
	uint64_t prev = get(in->buf, in->off.tasks + in->off.list_prev, 8);
	uint64_t usage = get(in->buf, in->off.usage, in->off.usage_size);
	int i;

	for (i = 0; i < nlisted; i++)
		if (listed[i].pa == t->pa)
			return INTRO_LISTED;
	if (t->pid == 0)
		return INTRO_IDLE;
	/*
	 * Released: list_del_rcu() poisoned prev, or EXIT_DEAD, or no
	 * references, or exit_creds() (in __put_task_struct()) cleared cred.
	 */
	if (prev == LIST_POISON2 || (t->exit_state & EXIT_DEAD) || usage == 0 ||
	    !get(in->buf, in->off.cred, 8))
		return INTRO_EXITED;
	if (!task_alive(in, t->va))
		return INTRO_STALE;
	/* A thread is listed through its group leader. */
	if (t->pid != t->tgid)
		for (i = 0; i < nlisted; i++)
			if (listed[i].pid == t->tgid)
				return INTRO_LISTED;
	return INTRO_HIDDEN;
}

int intro__scan(struct introspect *in, const struct intro_task *listed, int nlisted,
		struct intro_task **found)
{
	const struct intro_offsets *o = &in->off;
	uint64_t lo = ~0ULL, hi = 0, sc[INTRO_MAX_SCHED_CLASS], base, pa, v;
	struct intro_task *out = NULL, *nv;
	int i, k, n = 0, cap = 0, hit;
	uint8_t *chunk;
	size_t len, off;

	for (i = 0; i < in->sym.nr_sched_class; i++) {
		sc[i] = in->sym.sched_class[i] + in->kaslr;
		lo = sc[i] < lo ? sc[i] : lo;
		hi = sc[i] > hi ? sc[i] : hi;
	}
	chunk = malloc(SCAN_CHUNK);
	if (!chunk)
		return -ENOMEM;
	for (base = 0; base < in->mem_size; base += SCAN_CHUNK) {
		len = in->mem_size - base < SCAN_CHUNK ? in->mem_size - base : SCAN_CHUNK;
		if (in->read_phys(in->ctx, base, chunk, len))
			continue;
		for (off = 0; off + 8 <= len; off += 8) {
			memcpy(&v, chunk + off, 8);
			if (v < lo || v > hi)
				continue;
			for (hit = 0, k = 0; k < in->sym.nr_sched_class && !hit; k++)
				hit = v == sc[k];
			if (!hit || base + off < o->sched_class)
				continue;
			pa = base + off - o->sched_class;
			if (pa + o->task_size > in->mem_size ||
			    in->read_phys(in->ctx, pa, in->buf, o->task_size) || !task_sane(in))
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				nv = realloc(out, cap * sizeof(*out));
				if (!nv) {
					free(out);
					free(chunk);
					return -ENOMEM;
				}
				out = nv;
			}
			task_fill(in, in->page_offset + pa, &out[n]);
			out[n].pa = pa;
			out[n].kind = classify(in, &out[n], listed, nlisted);
			n++;
		}
	}
	free(chunk);
	*found = out;
	return n;
}

char intro__state_char(const struct intro_task *t)
{
	if (t->exit_state & EXIT_ZOMBIE)
		return 'Z';
	if (t->exit_state & EXIT_DEAD)
		return 'X';
	if (t->state == 0)
		return 'R';
	if ((t->state & 0x402) == 0x402)	/* TASK_IDLE */
		return 'I';
	if (t->state & 1)
		return 'S';
	if (t->state & 2)
		return 'D';
	if (t->state & 4)
		return 'T';
	if (t->state & 8)
		return 't';
	return '?';
}

const char *intro__kind_name(enum intro_kind k)
{
	static const char *const names[] = { "listed", "hidden", "exited", "stale", "idle" };

	return k <= INTRO_IDLE ? names[k] : "?";
}
