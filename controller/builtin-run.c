// SPDX-License-Identifier: GPL-2.0
/*
 * spanctl run / spanctl start: create a span guest and be its controller,
 * in the foreground (run) or as a daemon (start).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot.h"
#include "controller.h"
#include "spanctl.h"

static const char run_usage[] = "NAME --kernel BZIMAGE [--initrd FILE] [options]";
static const char run_examples[] =
"    spanctl run g1 --kernel bzImage --initrd guest.cpio.gz\n"
"    spanctl run g1 --kernel bzImage --mem 1G --cpus 2 --append 'quiet'\n";
static const char start_examples[] =
"    spanctl start g1 --kernel bzImage --initrd guest.cpio.gz --mem 256M\n"
"    spanctl console g1; spanctl stop g1\n";

struct run_args {
	const char *kernel, *initrd, *append, *log;
	uint64_t mem, cpus;
	int no_span, no_reboot;
};

static struct run_args args = { .mem = 256ULL << 20, .cpus = 1 };

static const struct opt run_opts[] = {
	OPT_STR('k', "kernel", &args.kernel, "BZIMAGE", "the guest's Linux kernel (bzImage)"),
	OPT_STR('i', "initrd", &args.initrd, "FILE", "its initramfs"),
	OPT_SIZE('m', "mem", &args.mem, BOOT_MEM_MIN, BOOT_MEM_MAX, "SIZE",
		 "guest memory, 16M..3G (default 256M)"),
	OPT_U64('c', "cpus", &args.cpus, 1, GUEST_MAX_VCPUS, "N", "vCPUs (default 1)"),
	OPT_STR('a', "append", &args.append, "ARGS", "added to the kernel command line"),
	OPT_FLAG(0, "no-span", &args.no_span,
		 "a plain KVM VM (a kernel without span; nothing can attach)"),
	OPT_FLAG(0, "no-reboot", &args.no_reboot,
		 "a guest reset stops the guest (default: it boots again)"),
	OPT_STR('l', "log", &args.log, "FILE", "console log (default RUN_DIR/NAME.log)"),
	OPT_END(),
};

static int run__args(const char *cmd, const char *examples, int argc, char **argv,
		     char **name)
{
	int ret = spanctl__args(cmd, run_usage, examples, run_opts, argc, argv, name, 1);

	if (ret < 0 && !args.kernel) {
		fprintf(stderr, "spanctl %s: --kernel is required\n", cmd);
		return SPANCTL_EXIT_USAGE;
	}
	return ret;
}

static int run__main(const char *name, int notify_fd)
{
	struct guest_config cfg = {
		.name = name, .kernel = args.kernel, .initrd = args.initrd,
		.append = args.append, .log = args.log, .mem_size = args.mem,
		.nr_vcpus = args.cpus, .no_span = args.no_span,
		.no_reboot = args.no_reboot,
	};

	return controller__main(name, &cfg, notify_fd);
}

int cmd_run(int argc, char **argv)
{
	char *name;
	int ret = run__args("run", run_examples, argc, argv, &name);

	return ret >= 0 ? ret : run__main(name, -1);
}

int cmd_start(int argc, char **argv)
{
	char *name, buf[300], path[256];
	int ret = run__args("start", start_examples, argc, argv, &name);
	int p[2], fd;
	ssize_t n;
	pid_t pid;

	if (ret >= 0)
		return ret;
	if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		fprintf(stderr, "spanctl start: %s\n", strerror(errno));
		return SPANCTL_EXIT_FAIL;
	}
	if (pid == 0) {
		close(p[0]);
		setsid();
		/* The controller's own messages: RUN_DIR/NAME.ctl.log. */
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			close(fd);
		}
		mkdir(span_run_dir(), 0755);
		if (!span_path(path, sizeof(path), span_run_dir(), name, ".ctl.log")) {
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			if (fd >= 0) {
				dup2(fd, 2);
				close(fd);
			}
		}
		_exit(run__main(name, p[1]));
	}
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	buf[n > 0 ? n : 0] = 0;
	if (strcmp(buf, "ok")) {
		fputs(n > 0 ? buf : "spanctl start: the controller died\n", stderr);
		return SPANCTL_EXIT_FAIL;
	}
	printf("%s: controller pid %d\n", name, (int)pid);
	return 0;
}
