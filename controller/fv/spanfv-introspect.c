// SPDX-License-Identifier: GPL-2.0
/*
 * spanfv-introspect: the introspection featurevisor.  Through its window
 * only, it lists the span guest's processes (init_task.tasks, read with the
 * guest kernel's BTF and System.map, KASLR found in the guest's memory),
 * scans the guest's physical memory for task_structs, and reports every
 * live task the list lacks as HIDDEN, with what a full list and a full
 * scan cost.  See introspect.h for how.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "introspect.h"
#include "libspanfv.h"
#include "pci.h"

#define DEF_BTF "/guest-kernel/vmlinux.btf"
#define DEF_MAP "/guest-kernel/System.map"

static const char usage[] =
	"usage: spanfv-introspect [--text] [--json] [--watch] [--no-scan] [--rescan]\n"
	"                         [--btf FILE] [--map FILE] [--image FILE --cr3 CR3]\n"
	"\n"
	"Lists the span guest's processes through this featurevisor's window and\n"
	"scans the guest's memory for task_structs the list lacks (HIDDEN).\n"
	"\n"
	"  --text       a table, one line per task (the default)\n"
	"  --json       one JSON object per round\n"
	"  --watch      a round at every attach, until killed (else one round)\n"
	"  --no-scan    the list only\n"
	"  --rescan     scan twice: the second time the window is mapped already\n"
	"  --btf FILE   the guest kernel's BTF (default " DEF_BTF ")\n"
	"  --map FILE   the guest kernel's System.map (default " DEF_MAP ")\n"
	"  --image FILE read a raw dump of guest-physical memory instead of the\n"
	"               window (QEMU's pmemsave), with the guest's CR3 (--cr3)\n"
	"\n"
	"Exit status: 0 done, 1 failed, 2 bad command line.\n"
	"\n"
	"EXAMPLES:\n"
	"  spanfv-introspect                 list and scan once, as a table\n"
	"  spanfv-introspect --json --watch  a JSON report at every attach\n"
	"  spanfv-introspect --image mem.raw --cr3 0x2a0e000 --btf vmlinux.btf \\\n"
	"      --map System.map              a memory dump, offline\n";

struct opts {
	int text, json, watch, scan, rescan;
	const char *btf, *map, *image;
	uint64_t cr3;
};

struct image {
	const uint8_t *mem;
	uint64_t size;
};

static int image_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct image *im = ctx;

	if (gpa >= im->size || len > im->size - gpa)
		return -ERANGE;
	memcpy(buf, im->mem + gpa, len);
	return 0;
}

/* A dump of guest-physical memory, mapped: 0, or 1 with the reason said. */
static int image_open(struct image *im, const char *path)
{
	struct stat st;
	void *m;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) || st.st_size <= 0) {
		fprintf(stderr, "spanfv-introspect: %s: %s\n", path,
			fd < 0 ? strerror(errno) : "empty");
		return 1;
	}
	m = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		fprintf(stderr, "spanfv-introspect: mmap %s: %s\n", path, strerror(errno));
		return 1;
	}
	im->mem = m;
	im->size = st.st_size;
	return 0;
}

#define say(...) do { printf(__VA_ARGS__); fflush(stdout); } while (0)

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void json_task(const struct intro_task *t)
{
	printf("{\"pid\":%d,\"ppid\":%d,\"uid\":%u,\"state\":\"%c\",\"comm\":", t->pid, t->ppid,
	       t->uid, intro__state_char(t));
	json_str(t->comm);
	printf(",\"pa\":\"%#llx\"}", (unsigned long long)t->pa);
}

struct round {
	struct intro_task *list, *found;
	int nlist, nfound, counts[INTRO_IDLE + 1];
	double list_ms, scan_ms, rescan_ms, locate_ms;
};

static void report_text(struct introspect *in, struct round *r, int n, int scan)
{
	int i;

	say("introspect: round %d: guest %llu MiB, CR3 %#llx, KASLR slide %#llx, kernel at "
	    "guest-physical %#llx, direct map at %#llx\n", n,
	    (unsigned long long)in->mem_size >> 20, (unsigned long long)in->cr3,
	    (unsigned long long)in->kaslr, (unsigned long long)in->kernel_phys,
	    (unsigned long long)in->page_offset);
	say("introspect: %7s %7s %6s S COMM\n", "PID", "PPID", "UID");
	for (i = 0; i < r->nlist; i++)
		say("introspect: %7d %7d %6d %c %s\n", r->list[i].pid, r->list[i].ppid,
		    (int)r->list[i].uid, intro__state_char(&r->list[i]), r->list[i].comm);
	for (i = 0; i < r->nfound; i++)
		if (r->found[i].kind == INTRO_HIDDEN)
			say("introspect: HIDDEN pid %d ppid %d uid %d state %c comm %s "
			    "(task_struct at guest-physical %#llx)\n", r->found[i].pid,
			    r->found[i].ppid, (int)r->found[i].uid,
			    intro__state_char(&r->found[i]), r->found[i].comm,
			    (unsigned long long)r->found[i].pa);
	say("introspect: listed %d tasks in %.1f ms (kernel located in %.1f ms)\n", r->nlist,
	    r->list_ms, r->locate_ms);
	if (scan)
		say("introspect: scanned %llu MiB in %.0f ms (%.0f MiB/s): %d task_structs: "
		    "%d listed, %d hidden, %d exited, %d stale, %d idle\n",
		    (unsigned long long)in->mem_size >> 20, r->scan_ms,
		    (in->mem_size >> 20) / (r->scan_ms / 1e3), r->nfound,
		    r->counts[INTRO_LISTED], r->counts[INTRO_HIDDEN], r->counts[INTRO_EXITED],
		    r->counts[INTRO_STALE], r->counts[INTRO_IDLE]);
	if (scan && r->rescan_ms > 0)
		say("introspect: scanned again in %.0f ms (%.0f MiB/s)\n", r->rescan_ms,
		    (in->mem_size >> 20) / (r->rescan_ms / 1e3));
}

static void report_json(struct introspect *in, struct round *r, int n, int scan)
{
	int i, first = 1;

	printf("{\"round\":%d,\"mem_mib\":%llu,\"cr3\":\"%#llx\",\"kaslr\":\"%#llx\","
	       "\"kernel_phys\":\"%#llx\",\"page_offset\":\"%#llx\",\"list_ms\":%.1f,", n,
	       (unsigned long long)in->mem_size >> 20, (unsigned long long)in->cr3,
	       (unsigned long long)in->kaslr, (unsigned long long)in->kernel_phys,
	       (unsigned long long)in->page_offset, r->list_ms);
	if (scan)
		printf("\"scan_ms\":%.1f,\"found\":%d,\"exited\":%d,\"stale\":%d,\"idle\":%d,",
		       r->scan_ms, r->nfound, r->counts[INTRO_EXITED], r->counts[INTRO_STALE],
		       r->counts[INTRO_IDLE]);
	if (scan && r->rescan_ms > 0)
		printf("\"rescan_ms\":%.1f,", r->rescan_ms);
	printf("\"tasks\":[");
	for (i = 0; i < r->nlist; i++) {
		if (i)
			putchar(',');
		json_task(&r->list[i]);
	}
	printf("],\"hidden\":[");
	for (i = 0; i < r->nfound; i++) {
		if (r->found[i].kind != INTRO_HIDDEN)
			continue;
		if (!first)
			putchar(',');
		first = 0;
		json_task(&r->found[i]);
	}
	printf("]}\n");
	fflush(stdout);
}

/* One look at the guest: 0, or -errno with a reason said. */
static int round_run(struct introspect *in, const struct opts *o, int n)
{
	struct round r = { 0 };
	double t0;
	int i;

	t0 = now_ms();
	if (intro__locate_kernel(in)) {
		say("introspect: round %d: %s\n", n, in->err);
		return -ENOENT;
	}
	r.locate_ms = now_ms() - t0;
	t0 = now_ms();
	r.nlist = intro__list(in, &r.list);
	r.list_ms = now_ms() - t0;
	if (r.nlist < 0) {
		say("introspect: round %d: %s\n", n, in->err);
		return r.nlist;
	}
	if (o->scan) {
		t0 = now_ms();
		r.nfound = intro__scan(in, r.list, r.nlist, &r.found);
		r.scan_ms = now_ms() - t0;
		if (r.nfound < 0) {
			say("introspect: round %d: scan failed: %s\n", n, strerror(-r.nfound));
			free(r.list);
			return r.nfound;
		}
		for (i = 0; i < r.nfound; i++)
			r.counts[r.found[i].kind]++;
		if (o->rescan) {
			struct intro_task *again = NULL;

			t0 = now_ms();
			if (intro__scan(in, r.list, r.nlist, &again) >= 0)
				r.rescan_ms = now_ms() - t0;
			free(again);
		}
	}
	if (o->text)
		report_text(in, &r, n, o->scan);
	if (o->json)
		report_json(in, &r, n, o->scan);
	free(r.list);
	free(r.found);
	return 0;
}

static int bad_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "spanfv-introspect: %s%s (--help for usage)\n", msg, arg ? arg : "");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "text", no_argument, NULL, 't' },	{ "json", no_argument, NULL, 'j' },
		{ "watch", no_argument, NULL, 'w' },	{ "no-scan", no_argument, NULL, 'n' },
		{ "rescan", no_argument, NULL, 'r' },
		{ "btf", required_argument, NULL, 'b' }, { "map", required_argument, NULL, 'm' },
		{ "image", required_argument, NULL, 'i' }, { "cr3", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },	{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .scan = 1, .btf = DEF_BTF, .map = DEF_MAP };
	struct introspect in;
	struct spanfv_window w;
	struct image im = { 0 };
	struct btf *btf;
	char *end;
	int c, state, n = 0, err;
	FILE *map;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 't': o.text = 1; break;
		case 'j': o.json = 1; break;
		case 'w': o.watch = 1; break;
		case 'n': o.scan = 0; break;
		case 'r': o.rescan = 1; break;
		case 'b': o.btf = optarg; break;
		case 'm': o.map = optarg; break;
		case 'i': o.image = optarg; break;
		case 'c':
			errno = 0;
			o.cr3 = strtoull(optarg, &end, 0);
			if (errno || *end || !*optarg || !o.cr3)
				return bad_usage("bad --cr3: ", optarg);
			break;
		case 'h': fputs(usage, stdout); return 0;
		default:
			return bad_usage("unknown option or missing argument: ",
					 argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument: ", argv[optind]);
	if (!o.text && !o.json)
		o.text = 1;
	if (!o.image != !o.cr3)
		return bad_usage("--image and --cr3 go together", NULL);
	if (o.image && o.watch)
		return bad_usage("--watch needs the window, not --image", NULL);

	libbpf_set_print(NULL);
	btf = btf__parse(o.btf, NULL);
	if (!btf) {
		fprintf(stderr, "spanfv-introspect: %s: cannot read BTF: %s\n", o.btf,
			strerror(errno));
		return 1;
	}
	map = fopen(o.map, "r");
	if (!map) {
		fprintf(stderr, "spanfv-introspect: %s: %s\n", o.map, strerror(errno));
		return 1;
	}
	if (o.image) {
		if (image_open(&im, o.image))
			return 1;
		err = intro__init(&in, btf, map, image_read, &im, im.size, o.cr3);
		fclose(map);
		if (err) {
			fprintf(stderr, "spanfv-introspect: %s\n", in.err);
			return 1;
		}
		err = round_run(&in, &o, 1);
		intro__exit(&in);
		btf__free(btf);
		return err ? 1 : 0;
	}
	if (spanfv__open(&w, ""))
		return 1;
	err = intro__init(&in, btf, map, spanfv__read_phys, &w, w.size, 0);
	fclose(map);
	if (err) {
		fprintf(stderr, "spanfv-introspect: %s\n", in.err);
		return 1;
	}
	say("introspect: window of %llu MiB; task_struct %u bytes (tasks +%u, comm +%u, "
	    "cred +%u, sched_class +%u) from %s; %d sched classes from %s; waiting to be "
	    "attached\n", (unsigned long long)w.size >> 20, in.off.task_size, in.off.tasks,
	    in.off.comm, in.off.cred, in.off.sched_class, o.btf, in.sym.nr_sched_class, o.map);
	do {
		while ((state = spanfv__state(&w)) == SPAN_WINDOW_DETACHED)
			usleep(200000);
		if (state < 0)
			return 1;
		in.cr3 = spanfv__cr3(&w);
		err = round_run(&in, &o, ++n);
		if (!o.watch)
			break;
		while (spanfv__state(&w) != SPAN_WINDOW_DETACHED)
			usleep(200000);
		say("introspect: detached\n");
	} while (1);
	intro__exit(&in);
	spanfv__close(&w);
	btf__free(btf);
	return err ? 1 : 0;
}
