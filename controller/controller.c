// SPDX-License-Identifier: GPL-2.0
/*
 * The controller (see controller.h): the guest, its featurevisors, and the
 * operations the control socket asks for.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "controller.h"
#include "kvm_span.h"
#include "span/spanevents.h"
#include "span/util.h"

#define reason(...) snprintf(why, whylen, __VA_ARGS__)

static struct ctl_server *the_server;

static void on_signal(int sig)
{
	(void)sig;
	ctl_server__quit(the_server);
}

static struct fv *fv__find(struct controller *c, const char *name)
{
	int i;

	for (i = 0; i < SPAN_MAX_FVS; i++)
		if (c->fvs[i].used && !strcmp(c->fvs[i].name, name))
			return &c->fvs[i];
	return NULL;
}

/*
 * A featurevisor was attached: its view's index and the guest's id (from
 * KVM_SPAN_GET_ACCESS on its VM), then its event dispatcher, attached to
 * span:span_mem_event and pinned for spanmon.  Without them the attach
 * stands, with no memory events: f->events_why says why.  Under fv_lock.
 */
static void fv__events_open(struct controller *c, struct fv *f)
{
	__u8 entry = 0;
	struct kvm_span_access_get g = {
		.span_fd = c->g.vm_fd, .guest_gpa = 0, .size = 4096,
		.entries = (uintptr_t)&entry,
	};
	/* Async (dirty) records wake the consumer by the quarter ring (256 KiB). */
	struct span_fv_opts o = { .guest_pages = c->g.cfg.mem_size >> 12, .attach = true,
				  .wake_bytes = 64 * 1024 };
	char dir[128], why[256];

	f->events_why[0] = 0;
	if (ioctl(f->vm.vm_fd, KVM_SPAN_GET_ACCESS, &g) < 0) {
		if (errno == ENOTTY)
			snprintf(f->events_why, sizeof(f->events_why), "this kernel has no "
				 "KVM_SPAN_GET_ACCESS (kvm-patches/0016): no memory events");
		else
			snprintf(f->events_why, sizeof(f->events_why), "KVM_SPAN_GET_ACCESS: %s",
				 strerror(errno));
		goto out;
	}
	f->guest_id = g.guest_id;
	f->view = g.view;
	o.guest_id = g.guest_id;
	o.view = g.view;
	snprintf(dir, sizeof(dir), "%s/%u-%u", SPAN_FV_PIN_ROOT, g.guest_id, g.view);
	o.pin_dir = dir;
	o.ring_bytes = FV_RING_BYTES;
	if (span_fv_open(&f->events, &o, why, sizeof(why)))
		snprintf(f->events_why, sizeof(f->events_why), "%.*s",
			 (int)sizeof(f->events_why) - 1, why);
	else
		fv_area__map(c, f);
out:
	if (f->events_why[0])
		fprintf(stderr, "spanctl: featurevisor '%s': %s\n", f->name, f->events_why);
}

static void fv__events_close(struct fv *f)
{
	fv_area__unmap(f);
	span_fv_close(f->events);
	f->events = NULL;
	snprintf(f->events_why, sizeof(f->events_why), "not attached");
}

/* Under fv_lock. */
static int fv__detach_locked(struct fv *f, char *why, size_t whylen)
{
	struct kvm_span_detach d = { .span_fd = f->ctl->g.vm_fd };
	uint64_t t0;

	/* Say so first: a featurevisor that checks stops reading. */
	f->vm.pci.state = SPAN_WINDOW_DETACHED;
	t0 = span_now_ns();
	if (ioctl(f->vm.vm_fd, KVM_SPAN_DETACH, &d) < 0) {
		reason("KVM_SPAN_DETACH: %s", strerror(errno));
		return -errno;
	}
	f->detach_ns = span_now_ns() - t0;
	f->attached = 0;
	fv__events_close(f);
	return 0;
}

/*
 * A featurevisor's L1 stopped (reset, panic, error): detach it at once, so
 * the guest never waits on a dead featurevisor.  Runs in the thread that
 * stopped it; the I/O lock may be held, so only fv_lock is taken.
 */
static void fv__on_stop(struct guest *vm, void *arg)
{
	struct fv *f = arg;
	char why[128];

	pthread_mutex_lock(&f->ctl->fv_lock);
	f->stopped = 1;
	if (f->attached && fv__detach_locked(f, why, sizeof(why)))
		fprintf(stderr, "spanctl: featurevisor '%s': %s\n", f->name, why);
	fprintf(stderr, "spanctl: featurevisor '%s' %s (%s)\n", f->name,
		guest__stop_name(vm->stop_reason), vm->stop_why);
	pthread_mutex_unlock(&f->ctl->fv_lock);
}

static int op_fv_start(void *ctx, const struct span_msg_fv_start *req, char *why, size_t whylen)
{
	struct controller *c = ctx;
	char log[256];
	struct guest_config cfg = {
		.name = req->name, .kernel = req->kernel, .initrd = req->initrd,
		.append = req->append, .log = log, .nr_vcpus = 1, .fv = 1,
		.mem_size = req->mem_bytes ? req->mem_bytes : FV_DEFAULT_MEM,
		.window_gpa = FV_WINDOW_GPA, .window_size = c->g.cfg.mem_size,
	};
	struct fv *f = NULL;
	int i, err;

	pthread_mutex_lock(&c->fv_lock);
	if (fv__find(c, req->name)) {
		reason("a featurevisor named '%s' exists", req->name);
		err = -EEXIST;
		goto out;
	}
	for (i = 0; i < SPAN_MAX_FVS && !f; i++)
		if (!c->fvs[i].used)
			f = &c->fvs[i];
	if (!f) {
		reason("this guest has %d featurevisors already", SPAN_MAX_FVS);
		err = -ENOSPC;
		goto out;
	}
	snprintf(f->name, sizeof(f->name), "%s", req->name);
	cfg.name = f->name;
	snprintf(log, sizeof(log), "%s/%s.%s.log", span_run_dir(), c->g.cfg.name, f->name);
	f->ctl = c;
	err = guest__init(&f->vm, &cfg, NULL, why, whylen);
	f->vm.on_stop = fv__on_stop;
	f->vm.on_stop_arg = f;
	/* The event BARs, before the L1's PCI probe sees the device. */
	if (!err && c->g.span)
		err = fv_area__init(c, f, why, whylen);
	if (!err)
		err = guest__start(&f->vm, why, whylen);
	if (err) {
		guest__exit(&f->vm);
		fv_area__exit(f);
		memset(f, 0, sizeof(*f));
		goto out;
	}
	f->used = 1;
out:
	pthread_mutex_unlock(&c->fv_lock);
	return err;
}

static struct fv *fv__lookup(struct controller *c, const char *name, char *why, size_t whylen)
{
	struct fv *f = fv__find(c, name);

	if (!f)
		reason("no featurevisor named '%s'", name);
	return f;
}

static int op_attach(void *ctx, const struct span_msg_fv *req, char *why, size_t whylen)
{
	struct controller *c = ctx;
	struct kvm_span_attach a = {
		.span_fd = c->g.vm_fd, .guest_gpa = 0, .size = c->g.cfg.mem_size,
	};
	struct fv *f;
	uint64_t t0;
	int err = 0;

	if (req->flags & ~SPAN_ATTACH_READONLY) {
		reason("unknown attach flags %#x", req->flags);
		return -EINVAL;
	}
	if (!c->g.span) {
		reason("'%s' is not a span guest (--no-span)", c->g.cfg.name);
		return -ENOTSUP;
	}
	pthread_mutex_lock(&c->fv_lock);
	f = fv__lookup(c, req->name, why, whylen);
	if (!f) {
		err = -ENOENT;
	} else if (f->stopped) {
		reason("featurevisor '%s' has stopped", f->name);
		err = -EPIPE;
	} else if (f->attached) {
		reason("featurevisor '%s' is attached already", f->name);
		err = -EBUSY;
	}
	if (err)
		goto out;
	/* Wherever the L1 put the window's BAR. */
	a.window_gpa = f->vm.pci.bar;
	a.flags = (req->flags & SPAN_ATTACH_READONLY) ? KVM_SPAN_ATTACH_READONLY : 0;
	t0 = span_now_ns();
	if (ioctl(f->vm.vm_fd, KVM_SPAN_ATTACH, &a) < 0) {
		err = -errno;
		reason("KVM_SPAN_ATTACH at %#llx: %s", (unsigned long long)a.window_gpa,
		       strerror(errno));
		goto out;
	}
	f->attach_ns = span_now_ns() - t0;
	f->attached = 1;
	/* A watchdog armed before counts from now. */
	f->hung = 0;
	f->last_beat_ns = span_now_ns();
	f->readonly = !!a.flags;
	f->vm.pci.cr3 = guest__cr3(&c->g);
	f->vm.pci.state = f->readonly ? SPAN_WINDOW_READONLY : SPAN_WINDOW_ATTACHED;
	fv__events_open(c, f);
out:
	pthread_mutex_unlock(&c->fv_lock);
	return err;
}

static int op_detach(void *ctx, const struct span_msg_fv *req, char *why, size_t whylen)
{
	struct controller *c = ctx;
	struct fv *f;
	int err = 0;

	if (req->flags) {
		reason("unknown detach flags %#x", req->flags);
		return -EINVAL;
	}
	pthread_mutex_lock(&c->fv_lock);
	f = fv__lookup(c, req->name, why, whylen);
	if (!f) {
		err = -ENOENT;
	} else if (!f->attached) {
		reason("featurevisor '%s' is not attached", f->name);
		err = -EALREADY;
	} else {
		err = fv__detach_locked(f, why, whylen);
	}
	pthread_mutex_unlock(&c->fv_lock);
	return err;
}

/* Like killing the L1: it stops at once, and on_stop detaches it. */
static int op_fv_stop(void *ctx, const struct span_msg_fv *req, char *why, size_t whylen)
{
	struct controller *c = ctx;
	struct fv *f;

	if (req->flags) {
		reason("unknown flags %#x", req->flags);
		return -EINVAL;
	}
	pthread_mutex_lock(&c->fv_lock);
	f = fv__lookup(c, req->name, why, whylen);
	pthread_mutex_unlock(&c->fv_lock);
	if (!f)
		return -ENOENT;
	if (f->stopped) {
		reason("featurevisor '%s' has stopped already", f->name);
		return -EALREADY;
	}
	guest__stop(&f->vm, GUEST_STOP_REQUEST, "spanctl fv stop");
	return 0;
}

static int op_filter_load(void *ctx, const struct span_msg_filter_load *req, char *why,
			  size_t whylen)
{
	struct controller *c = ctx;
	struct fv *f;
	int err;

	if (req->flags) {
		reason("unknown flags %#x", req->flags);
		return -EINVAL;
	}
	pthread_mutex_lock(&c->fv_lock);
	f = fv__lookup(c, req->name, why, whylen);
	if (!f) {
		err = -ENOENT;
	} else if (!f->events) {
		reason("featurevisor '%s' has no event dispatcher: %s", f->name,
		       f->events_why[0] ? f->events_why : "not attached");
		err = -ENOTCONN;
	} else {
		err = span_fv_filter_load(f->events, req->path, why, whylen);
	}
	pthread_mutex_unlock(&c->fv_lock);
	return err;
}

static int op_filter_unload(void *ctx, const struct span_msg_fv *req, char *why, size_t whylen)
{
	struct controller *c = ctx;
	struct fv *f;
	int err = 0;

	if (req->flags) {
		reason("unknown flags %#x", req->flags);
		return -EINVAL;
	}
	pthread_mutex_lock(&c->fv_lock);
	f = fv__lookup(c, req->name, why, whylen);
	if (!f) {
		err = -ENOENT;
	} else if (!f->events || !span_fv_filter_name(f->events)) {
		reason("featurevisor '%s' has no filter loaded", f->name);
		err = -EALREADY;
	} else {
		span_fv_filter_unload(f->events);
	}
	pthread_mutex_unlock(&c->fv_lock);
	return err;
}

static void op_filter_list(void *ctx, struct span_msg_filters *r)
{
	struct controller *c = ctx;
	__u64 st[SPAN_FV_STAT_NR];
	int i;

	pthread_mutex_lock(&c->fv_lock);
	for (i = 0; i < SPAN_MAX_FVS; i++) {
		struct fv *f = &c->fvs[i];
		struct span_filter_status *s = &r->fvs[r->nr];

		if (!f->used)
			continue;
		r->nr++;
		snprintf(s->name, sizeof(s->name), "%s", f->name);
		if (!f->events) {
			snprintf(s->why, sizeof(s->why), "%s",
				 f->events_why[0] ? f->events_why : "not attached");
			continue;
		}
		s->dispatcher = 1;
		s->guest_id = f->guest_id;
		s->view = f->view;
		if (span_fv_filter_name(f->events))
			snprintf(s->filter, sizeof(s->filter), "%s", span_fv_filter_name(f->events));
		if (span_fv_stats(f->events, st))
			continue;
		s->seen = st[SPAN_FV_STAT_SEEN];
		s->filtered = st[SPAN_FV_STAT_FILTERED];
		s->delivered = st[SPAN_FV_STAT_DELIVERED];
		s->dropped = st[SPAN_FV_STAT_DROPPED];
		s->dirty_set = st[SPAN_FV_STAT_DIRTY_SET];
	}
	pthread_mutex_unlock(&c->fv_lock);
}

static void op_status(void *ctx, struct span_msg_status *st)
{
	struct controller *c = ctx;
	int i;

	guest__status(&c->g, st);
	if (c->g.pause_req && st->state == SPAN_GUEST_RUNNING)
		st->state = SPAN_GUEST_PAUSED;
	st->reboots = c->reboots;
	pthread_mutex_lock(&c->fv_lock);
	for (i = 0; i < SPAN_MAX_FVS; i++) {
		struct fv *f = &c->fvs[i];
		struct span_fv_status *s = &st->fvs[st->nr_fvs];

		if (!f->used)
			continue;
		snprintf(s->name, sizeof(s->name), "%s", f->name);
		s->state = f->stopped ? SPAN_FV_STOPPED : f->hung ? SPAN_FV_HUNG : SPAN_FV_RUNNING;
		s->attached = f->attached;
		s->readonly = f->readonly;
		s->window_gpa = f->vm.pci.bar;
		s->window_size = c->g.cfg.mem_size;
		s->attach_ns = f->attach_ns;
		s->detach_ns = f->detach_ns;
		s->mem_bytes = f->vm.cfg.mem_size;
		s->exits = f->vm.exits;
		st->nr_fvs++;
	}
	pthread_mutex_unlock(&c->fv_lock);
}

/* Guest vCPUs stopped first, then the featurevisors told (a mirror verifies). */
static int op_pause(void *ctx, char *why, size_t whylen)
{
	struct controller *c = ctx;
	int err, i;

	err = guest__pause(&c->g, 10000);
	if (err) {
		reason("%s", err == -EALREADY ? "the guest is paused already" :
		       err == -ETIMEDOUT ? "the vCPUs did not stop within 10 s" :
		       "the guest is stopping");
		return err;
	}
	pthread_mutex_lock(&c->fv_lock);
	for (i = 0; i < SPAN_MAX_FVS; i++)
		if (c->fvs[i].used)
			fv_area__paused(&c->fvs[i], 1);
	pthread_mutex_unlock(&c->fv_lock);
	return 0;
}

static int op_resume(void *ctx, char *why, size_t whylen)
{
	struct controller *c = ctx;
	int i;

	if (!c->g.pause_req) {
		reason("the guest is not paused");
		return -EALREADY;
	}
	pthread_mutex_lock(&c->fv_lock);
	for (i = 0; i < SPAN_MAX_FVS; i++)
		if (c->fvs[i].used)
			fv_area__paused(&c->fvs[i], 0);
	pthread_mutex_unlock(&c->fv_lock);
	return guest__resume(&c->g);
}

static void op_stop(void *ctx)
{
	struct controller *c = ctx;

	guest__stop(&c->g, GUEST_STOP_REQUEST, "spanctl stop");
}

static void op_console_input(void *ctx, const char *buf, size_t len)
{
	struct controller *c = ctx;

	guest__console_input(&c->g, buf, len);
}

static const struct ctl_ops controller_ops = {
	.status = op_status,
	.stop = op_stop,
	.console_input = op_console_input,
	.fv_start = op_fv_start,
	.attach = op_attach,
	.detach = op_detach,
	.fv_stop = op_fv_stop,
	.filter_load = op_filter_load,
	.filter_unload = op_filter_unload,
	.filter_list = op_filter_list,
	.pause = op_pause,
	.resume = op_resume,
};

/* The guest stopped: so does the controller. */
static void guest__on_stop(struct guest *g, void *arg)
{
	ctl_server__quit(arg);
}

/*
 * The guest reset itself: boot it again in a new VM, as a machine reboots.
 * Featurevisors stay, detached (their windows were the old VM's memory);
 * they can be attached to the new one.
 */
static int controller__reboot(struct controller *c, char *why, size_t whylen)
{
	int i, err;

	pthread_mutex_lock(&c->fv_lock);
	for (i = 0; i < SPAN_MAX_FVS; i++)
		if (c->fvs[i].used && c->fvs[i].attached &&
		    fv__detach_locked(&c->fvs[i], why, whylen))
			fprintf(stderr, "spanctl: featurevisor '%s': %s\n", c->fvs[i].name, why);
	pthread_mutex_unlock(&c->fv_lock);
	fprintf(stderr, "spanctl: guest '%s' reset (%s): rebooting it\n", c->cfg.name,
		c->g.stop_why);
	guest__exit(&c->g);
	err = guest__init(&c->g, &c->cfg, &c->srv, why, whylen);
	c->g.on_stop = guest__on_stop;
	c->g.on_stop_arg = &c->srv;
	if (!err)
		err = guest__start(&c->g, why, whylen);
	if (!err)
		c->reboots++;
	return err;
}

/*
 * Featurevisors that armed their watchdog (SPANFV_REG_WATCHDOG) and went
 * quiet are hung: detached, so the guest never waits on them, and marked.
 * Their L1 runs on (it may come back: spanctl attach again).
 */
static volatile int watchdog_quit;

static void *watchdog__thread(void *arg)
{
	struct controller *c = arg;
	char why[128];
	uint64_t now;
	int i;

	while (!watchdog_quit) {
		usleep(100000);
		pthread_mutex_lock(&c->fv_lock);
		now = span_now_ns();
		for (i = 0; i < SPAN_MAX_FVS; i++) {
			struct fv *f = &c->fvs[i];

			if (!f->used || !f->attached || f->stopped || !f->watchdog_ms ||
			    now - f->last_beat_ns <= f->watchdog_ms * 1000000ULL)
				continue;
			f->hung = 1;
			fprintf(stderr, "spanctl: featurevisor '%s' hung: no heartbeat for %llu ms"
				" (watchdog %u ms): detaching it\n", f->name,
				(unsigned long long)((now - f->last_beat_ns) / 1000000), f->watchdog_ms);
			if (fv__detach_locked(f, why, sizeof(why)))
				fprintf(stderr, "spanctl: featurevisor '%s': %s\n", f->name, why);
		}
		pthread_mutex_unlock(&c->fv_lock);
	}
	return NULL;
}

static void notify(int fd, const char *msg)
{
	if (fd < 0)
		return;
	/* If the parent is gone there is nobody to tell. */
	(void)!write(fd, msg, strlen(msg));
	close(fd);
}

int controller__main(const char *name, const struct guest_config *gcfg, int notify_fd)
{
	static struct controller c;
	char sock[108], log[256], why[256], msg[300];
	const char *dir = span_run_dir();
	struct sigaction sa = { .sa_handler = on_signal };
	struct guest_config cfg = *gcfg;
	pthread_t watchdog;
	int err, i, have_watchdog;

	pthread_mutex_init(&c.fv_lock, NULL);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(msg, sizeof(msg), "spanctl: %s: %s\n", dir, strerror(errno));
		goto fail;
	}
	if (span_path(sock, sizeof(sock), dir, name, ".sock") ||
	    span_path(log, sizeof(log), dir, name, ".log")) {
		snprintf(msg, sizeof(msg), "spanctl: %s: path too long\n", dir);
		goto fail;
	}
	cfg.name = name;
	if (!cfg.log)
		cfg.log = log;
	c.cfg = cfg;
	/* A new controller, a new console log (reboots append to it). */
	if (truncate(cfg.log, 0) < 0 && errno != ENOENT) {
		snprintf(msg, sizeof(msg), "spanctl: %s: %s\n", cfg.log, strerror(errno));
		goto fail;
	}

	err = ctl_server__init(&c.srv, sock, &controller_ops, &c);
	if (err == -EADDRINUSE) {
		snprintf(msg, sizeof(msg), "spanctl: guest '%s' already runs\n", name);
		goto fail;
	}
	if (err) {
		snprintf(msg, sizeof(msg), "spanctl: %s: %s\n", sock, strerror(-err));
		goto fail;
	}
	err = guest__init(&c.g, &cfg, &c.srv, why, sizeof(why));
	c.g.on_stop = guest__on_stop;
	c.g.on_stop_arg = &c.srv;
	if (err || guest__start(&c.g, why, sizeof(why))) {
		snprintf(msg, sizeof(msg), "spanctl: guest '%s': %s\n", name, why);
		guest__exit(&c.g);
		ctl_server__exit(&c.srv);
		goto fail;
	}
	the_server = &c.srv;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	notify(notify_fd, "ok");
	have_watchdog = !pthread_create(&watchdog, NULL, watchdog__thread, &c);
	if (!have_watchdog)
		fprintf(stderr, "spanctl: no featurevisor watchdog\n");

	for (;;) {
		err = ctl_server__run(&c.srv);
		if (err || c.g.stop_reason != GUEST_STOP_RESET || cfg.no_reboot)
			break;
		if (controller__reboot(&c, why, sizeof(why))) {
			fprintf(stderr, "spanctl: guest '%s': reboot: %s\n", name, why);
			break;
		}
		ctl_server__resume(&c.srv);
	}
	watchdog_quit = 1;
	if (have_watchdog)
		pthread_join(watchdog, NULL);
	guest__stop(&c.g, err ? GUEST_STOP_ERROR : GUEST_STOP_REQUEST,
		    err ? "control socket: %s" : "signal", strerror(-err));
	/* The featurevisors go with their guest. */
	for (i = 0; i < SPAN_MAX_FVS; i++)
		if (c.fvs[i].used)
			guest__stop(&c.fvs[i].vm, GUEST_STOP_REQUEST, "its guest stopped");
	for (i = 0; i < SPAN_MAX_FVS; i++) {
		if (!c.fvs[i].used)
			continue;
		/* Its pins would outlive us. */
		fv__events_close(&c.fvs[i]);
		guest__exit(&c.fvs[i].vm);
		fv_area__exit(&c.fvs[i]);
	}
	guest__exit(&c.g);
	ctl_server__exit(&c.srv);
	fprintf(stderr, "spanctl: guest '%s' %s (%s), %llu exits\n", name,
		guest__stop_name(c.g.stop_reason), c.g.stop_why,
		(unsigned long long)c.g.exits);
	return c.g.stop_reason == GUEST_STOP_ERROR ? 1 : 0;
fail:
	if (notify_fd >= 0)
		notify(notify_fd, msg);
	else
		fputs(msg, stderr);
	return 1;
}
