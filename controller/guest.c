// SPDX-License-Identifier: GPL-2.0
/*
 * A span guest on KVM (see guest.h): the VM, its vCPU threads and the few
 * devices an unmodified Linux needs (the rest is KVM's in-kernel irqchip
 * and PIT).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/serial_reg.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "boot.h"
#include "guest.h"
#include "kvm_span.h"
#include "mptable.h"
#include "span/util.h"

/* At the top of the 32-bit space, out of RAM's way (BOOT_MEM_MAX). */
#define TSS_GPA			0xfffbd000ULL
#define IDENTITY_MAP_GPA	0xfffbc000ULL

#define COM1_PORT	0x3f8
#define COM1_IRQ	4
#define CMOS_INDEX	0x70
#define CMOS_DATA	0x71
#define KBD_DATA	0x60
#define KBD_STATUS	0x64	/* read: status; write: command */
#define KBD_STR_OBF	0x01
#define KBD_STR_KEYLOCK	0x10	/* set: the keyboard is not locked */
#define KBD_CMD_RCTR	0x20
#define KBD_CMD_WCTR	0x60
#define KBD_CMD_SELFTEST 0xaa
#define KBD_CMD_KBDTEST	0xab
#define KBD_RESET	0xfe
#define SYS_CTRL_A	0x92	/* bit 0: fast reset */
#define RESET_CTRL	0xcf9

#define DEFAULT_CMDLINE	"console=ttyS0 i8042.nokbd i8042.noaux reboot=k panic=1"

#define reason(...) snprintf(why, whylen, __VA_ARGS__)

static const char *const stop_names[] = {
	[GUEST_STOP_NONE] = "running",
	[GUEST_STOP_REQUEST] = "stopped",
	[GUEST_STOP_RESET] = "guest reset",
	[GUEST_STOP_ERROR] = "error",
};

const char *guest__stop_name(enum guest_stop r)
{
	return stop_names[r];
}

static int read_file(const char *path, void **buf, size_t *len, char *why, size_t whylen)
{
	struct stat st;
	ssize_t n;
	size_t off = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		reason("%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	*len = st.st_size;
	*buf = malloc(*len ? *len : 1);
	if (!*buf) {
		close(fd);
		reason("%s: out of memory", path);
		return -ENOMEM;
	}
	while (off < *len) {
		n = read(fd, (char *)*buf + off, *len - off);
		if (n <= 0) {
			reason("%s: %s", path, n ? strerror(errno) : "short read");
			close(fd);
			free(*buf);
			*buf = NULL;
			return -EIO;
		}
		off += n;
	}
	close(fd);
	return 0;
}

/* ---- devices ------------------------------------------------------------- */

static void serial__tx(void *ctx, char c)
{
	struct guest *g = ctx;

	if (g->log)
		fputc(c, g->log);
	ctl_server__console(g->server, &c, 1);
}

static void serial__irq(void *ctx, int level)
{
	struct guest *g = ctx;
	struct kvm_irq_level irq = { .irq = COM1_IRQ, .level = level };

	ioctl(g->vm_fd, KVM_IRQ_LINE, &irq);
}

static uint8_t bcd(int v)
{
	return (v / 10) << 4 | (v % 10);
}

/* The RTC's registers, from the host's clock (UTC, BCD, 24 hours). */
static uint8_t cmos__read(uint8_t index)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	switch (index) {
	case 0x00: return bcd(tm.tm_sec);
	case 0x02: return bcd(tm.tm_min);
	case 0x04: return bcd(tm.tm_hour);
	case 0x06: return bcd(tm.tm_wday + 1);
	case 0x07: return bcd(tm.tm_mday);
	case 0x08: return bcd(tm.tm_mon + 1);
	case 0x09: return bcd(tm.tm_year % 100);
	case 0x32: return bcd(19 + tm.tm_year / 100);
	case 0x0a: return 0x26;	/* 32.768 kHz, no update in progress */
	case 0x0b: return 0x02;	/* 24 hours, BCD */
	case 0x0d: return 0x80;	/* battery good */
	default: return 0;
	}
}

/*
 * Just enough of an i8042 for Linux to find a controller with no keyboard
 * or mouse behind it (i8042.nokbd i8042.noaux) without waiting out its
 * timeouts, and to reset the machine with reboot=k.
 */
static void i8042__io(struct guest *g, uint16_t port, int out, uint8_t *data)
{
	struct i8042 *k = &g->i8042;

	if (port == KBD_DATA && !out) {
		data[0] = k->obf ? k->out : 0;
		k->obf = 0;
	} else if (port == KBD_DATA) {
		if (k->cmd == KBD_CMD_WCTR)
			k->ctr = data[0];
		k->cmd = 0;
	} else if (!out) {
		data[0] = KBD_STR_KEYLOCK | (k->obf ? KBD_STR_OBF : 0);
	} else {
		k->cmd = data[0];
		k->obf = 1;
		switch (data[0]) {
		case KBD_CMD_RCTR: k->out = k->ctr; break;
		case KBD_CMD_SELFTEST: k->out = 0x55; break;
		case KBD_CMD_KBDTEST: k->out = 0x00; break;
		case KBD_RESET:
			k->obf = 0;
			guest__stop(g, GUEST_STOP_RESET, "keyboard controller reset");
			break;
		default: k->obf = 0; break;
		}
	}
}

static void io__port(struct vcpu *v, uint16_t port, int out, uint8_t *data, int size)
{
	struct guest *g = v->g;

	if (g->cfg.fv && port >= PCI_CONF_ADDR && port < PCI_CONF_DATA + 4) {
		pthread_mutex_lock(&g->io_lock);
		pci__io(&g->pci, port, out, data, size);
		pthread_mutex_unlock(&g->io_lock);
		return;
	}
	if (port >= COM1_PORT && port < COM1_PORT + 8) {
		pthread_mutex_lock(&g->io_lock);
		if (out)
			serial8250__out(&g->serial, port - COM1_PORT, data[0]);
		else
			data[0] = serial8250__in(&g->serial, port - COM1_PORT);
		pthread_mutex_unlock(&g->io_lock);
		return;
	}
	switch (port) {
	case CMOS_INDEX:
		if (out)
			g->cmos_index = data[0] & 0x7f;
		else
			data[0] = 0xff;
		return;
	case CMOS_DATA:
		if (!out)
			data[0] = cmos__read(g->cmos_index);
		return;
	case KBD_DATA:
	case KBD_STATUS:
		pthread_mutex_lock(&g->io_lock);
		i8042__io(g, port, out, data);
		pthread_mutex_unlock(&g->io_lock);
		return;
	case SYS_CTRL_A:
		if (out && (data[0] & 1))
			guest__stop(g, GUEST_STOP_RESET, "port 0x92 fast reset");
		else if (!out)
			data[0] = 0x02;	/* A20 on */
		return;
	case RESET_CTRL:
		if (out && size == 1 && (data[0] & 0x04))
			guest__stop(g, GUEST_STOP_RESET, "port 0xcf9 reset");
		else if (!out)
			memset(data, 0, size);
		return;
	}
	/* No device (0x80 and 0xed delays, other UARTs, PCI): reads float high. */
	__sync_fetch_and_add(&g->unknown_io, 1);
	if (!out)
		memset(data, 0xff, size);
}

/* ---- vCPUs --------------------------------------------------------------- */

static void vcpu__kick_handler(int sig)
{
	(void)sig;	/* only interrupts KVM_RUN */
}

static int vcpu__set_cpuid(struct vcpu *v, char *why, size_t whylen)
{
	struct kvm_cpuid2 *c;
	unsigned int n = 64, i;

	for (;;) {
		c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = n;
		if (!ioctl(v->g->kvm_fd, KVM_GET_SUPPORTED_CPUID, c))
			break;
		free(c);
		if (errno != E2BIG || n >= 1024) {
			reason("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
			return -errno;
		}
		n *= 2;
	}
	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		/*
		 * The initial APIC ID, and "running under a hypervisor": KVM
		 * leaves that bit to the VMM, and without it Linux never looks
		 * at KVM's leaves (no kvm-clock: a TSC-only clock that nested
		 * TCG marks unstable, and a guest whose time crawls).
		 */
		if (e->function == 1) {
			e->ebx = (e->ebx & 0x00ffffff) | (uint32_t)v->id << 24;
			e->ecx |= 1U << 31;
		}
		if (e->function == 0xb || e->function == 0x1f)	/* x2APIC ID */
			e->edx = v->id;
	}
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0) {
		reason("KVM_SET_CPUID2: %s", strerror(errno));
		free(c);
		return -errno;
	}
	free(c);
	return 0;
}

static void seg__flat(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
}

/* The boot CPU enters the kernel in flat 32-bit protected mode, no paging. */
static int vcpu__boot_regs(struct vcpu *v, const struct boot_info *bi,
			   char *why, size_t whylen)
{
	struct kvm_sregs sr;
	struct kvm_regs r;

	if (ioctl(v->fd, KVM_GET_SREGS, &sr) < 0) {
		reason("KVM_GET_SREGS: %s", strerror(errno));
		return -errno;
	}
	seg__flat(&sr.cs, 0x10, 0xb);	/* code: execute/read, accessed */
	seg__flat(&sr.ds, 0x18, 0x3);	/* data: read/write, accessed */
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	sr.cr0 = (sr.cr0 | 1) & ~(1ULL << 31);	/* PE, no PG */
	sr.cr4 = 0;
	sr.efer = 0;
	if (ioctl(v->fd, KVM_SET_SREGS, &sr) < 0) {
		reason("KVM_SET_SREGS: %s", strerror(errno));
		return -errno;
	}
	memset(&r, 0, sizeof(r));
	r.rflags = 2;
	r.rip = bi->entry;
	r.rsi = bi->boot_params;
	if (ioctl(v->fd, KVM_SET_REGS, &r) < 0) {
		reason("KVM_SET_REGS: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static int vcpu__init(struct guest *g, int id, char *why, size_t whylen)
{
	struct vcpu *v = &g->vcpus[id];
	int err;

	v->g = g;
	v->id = id;
	v->fd = ioctl(g->vm_fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0) {
		reason("KVM_CREATE_VCPU %d: %s", id, strerror(errno));
		return -errno;
	}
	v->run = mmap(NULL, g->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		reason("mmap kvm_run: %s", strerror(errno));
		return -errno;
	}
	err = vcpu__set_cpuid(v, why, whylen);
	if (err)
		return err;
	/* KVM copies the special registers out on every exit: CR3 for free. */
	if (ioctl(g->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS) & KVM_SYNC_X86_SREGS)
		v->run->kvm_valid_regs = KVM_SYNC_X86_SREGS;
	if (!g->tsc_khz) {
		int khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);

		g->tsc_khz = khz > 0 ? khz : 0;
	}
	return 0;
}

static void vcpu__io(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	uint8_t *data = (uint8_t *)r + r->io.data_offset;
	uint32_t i;

	for (i = 0; i < r->io.count; i++, data += r->io.size) {
		io__port(v, r->io.port, r->io.direction == KVM_EXIT_IO_OUT, data, r->io.size);
		if (v->g->trace)
			fprintf(stderr, "io %s port %#x size %d data %#x\n",
				r->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
				r->io.port, r->io.size, data[0]);
	}
}

/* spanctl pause: park here, outside KVM_RUN, until resumed or stopped. */
static void vcpu__park(struct vcpu *v)
{
	struct guest *g = v->g;

	pthread_mutex_lock(&g->pause_lock);
	g->parked++;
	pthread_cond_broadcast(&g->pause_cond);
	while (g->pause_req && !g->stopping)
		pthread_cond_wait(&g->pause_cond, &g->pause_lock);
	g->parked--;
	/* Under the lock: a stop or a new pause sets it again after us. */
	if (!g->stopping && !g->pause_req)
		v->run->immediate_exit = 0;
	pthread_mutex_unlock(&g->pause_lock);
}

static void vcpu__unkick(struct vcpu *v)
{
	struct guest *g = v->g;

	pthread_mutex_lock(&g->pause_lock);
	if (!g->stopping && !g->pause_req)
		v->run->immediate_exit = 0;
	pthread_mutex_unlock(&g->pause_lock);
}

/*
 * KVM could not go on with a vCPU: say where, and for an emulation failure
 * which instruction (the bytes KVM fetched), so the report names it.
 */
static void vcpu__internal_error(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	struct kvm_regs regs;
	char insn[3 * 15 + 1] = "";
	unsigned long long rip = 0;
	unsigned int i, n;

	if (!ioctl(v->fd, KVM_GET_REGS, &regs))
		rip = regs.rip;
	if (r->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
	    (r->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
		n = r->emulation_failure.insn_size;
		if (n > sizeof(r->emulation_failure.insn_bytes))
			n = sizeof(r->emulation_failure.insn_bytes);
		for (i = 0; i < n; i++)
			snprintf(insn + 3 * i, sizeof(insn) - 3 * i, " %02x",
				 r->emulation_failure.insn_bytes[i]);
	}
	guest__stop(v->g, GUEST_STOP_ERROR, "vCPU %d: KVM internal error %u%s at rip %#llx%s%s",
		    v->id, r->internal.suberror,
		    r->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ? " (emulation failed)" : "",
		    rip, insn[0] ? ", instruction" : "", insn);
}

static void *vcpu__thread(void *arg)
{
	struct vcpu *v = arg;
	struct guest *g = v->g;
	struct kvm_run *r = v->run;

	while (!g->stopping) {
		if (__atomic_load_n(&g->pause_req, __ATOMIC_ACQUIRE)) {
			vcpu__park(v);
			continue;
		}
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR && r->immediate_exit)
				vcpu__unkick(v);	/* a pause that gave up */
			if (errno == EINTR || errno == EAGAIN)
				continue;
			guest__stop(g, GUEST_STOP_ERROR, "vCPU %d: KVM_RUN: %s",
				    v->id, strerror(errno));
			break;
		}
		__sync_fetch_and_add(&g->exits, 1);
		switch (r->exit_reason) {
		case KVM_EXIT_IO:
			vcpu__io(v);
			break;
		case KVM_EXIT_MMIO:
			if (g->mmio && g->mmio(g, g->mmio_arg, r->mmio.phys_addr, r->mmio.data,
					       r->mmio.len, r->mmio.is_write))
				break;
			/* No such device: reads float high, writes vanish. */
			if (!r->mmio.is_write)
				memset(r->mmio.data, 0xff, sizeof(r->mmio.data));
			__sync_fetch_and_add(&g->unknown_io, 1);
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_SHUTDOWN:
			guest__stop(g, GUEST_STOP_RESET, "vCPU %d: triple fault", v->id);
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			guest__stop(g, GUEST_STOP_RESET, "vCPU %d: system event %u",
				    v->id, r->system_event.type);
			break;
		case KVM_EXIT_HLT:
			guest__stop(g, GUEST_STOP_RESET, "vCPU %d: halted", v->id);
			break;
		case KVM_EXIT_FAIL_ENTRY:
			guest__stop(g, GUEST_STOP_ERROR, "vCPU %d: entry failed, reason %#llx",
				    v->id, (unsigned long long)
				    r->fail_entry.hardware_entry_failure_reason);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			vcpu__internal_error(v);
			break;
		default:
			guest__stop(g, GUEST_STOP_ERROR, "vCPU %d: unexpected exit %u",
				    v->id, r->exit_reason);
			break;
		}
	}
	return NULL;
}

/* ---- the guest ----------------------------------------------------------- */

static int vm__init(struct guest *g, char *why, size_t whylen)
{
	uint64_t ident = IDENTITY_MAP_GPA;
	struct kvm_pit_config pit = { .flags = 0 };
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPAN };
	struct kvm_userspace_memory_region region;
	int ret;

	g->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (g->kvm_fd < 0) {
		reason("/dev/kvm: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(g->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		reason("/dev/kvm: API version is not %d", KVM_API_VERSION);
		return -EINVAL;
	}
	ret = ioctl(g->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ret <= 0) {
		reason("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		return -EINVAL;
	}
	g->run_size = ret;
	g->vm_fd = ioctl(g->kvm_fd, KVM_CREATE_VM, 0);
	if (g->vm_fd < 0) {
		reason("KVM_CREATE_VM: %s", strerror(errno));
		return -errno;
	}
	/* A span guest, but an ordinary VM to itself. */
	if (g->cfg.no_span || g->cfg.fv)
		goto plain;
	if (ioctl(g->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SPAN) <= 0) {
		reason("this kernel's KVM has no span support (KVM_CAP_SPAN; --no-span runs a plain VM)");
		return -ENOTSUP;
	}
	if (ioctl(g->vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
		reason("KVM_ENABLE_CAP(KVM_CAP_SPAN): %s", strerror(errno));
		return -errno;
	}
	g->span = 1;
plain:
	if (ioctl(g->vm_fd, KVM_SET_TSS_ADDR, TSS_GPA) < 0 ||
	    ioctl(g->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0) {
		reason("KVM_SET_TSS_ADDR/IDENTITY_MAP_ADDR: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(g->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		reason("KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(g->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		reason("KVM_CREATE_PIT2: %s", strerror(errno));
		return -errno;
	}

	g->mem_fd = memfd_create("span-guest", MFD_CLOEXEC);
	if (g->mem_fd < 0 || ftruncate(g->mem_fd, g->cfg.mem_size) < 0) {
		reason("guest memory (memfd, %llu MiB): %s",
		       (unsigned long long)(g->cfg.mem_size >> 20), strerror(errno));
		return -errno;
	}
	g->mem = mmap(NULL, g->cfg.mem_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      g->mem_fd, 0);
	if (g->mem == MAP_FAILED) {
		g->mem = NULL;
		reason("mmap guest memory: %s", strerror(errno));
		return -errno;
	}
	region = (struct kvm_userspace_memory_region){
		.slot = 0, .guest_phys_addr = 0, .memory_size = g->cfg.mem_size,
		.userspace_addr = (uintptr_t)g->mem,
	};
	if (ioctl(g->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		reason("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static int guest__load(struct guest *g, char *why, size_t whylen)
{
	struct boot_info bi;
	char w[160];
	int n, err;

	n = snprintf(g->cmdline, sizeof(g->cmdline), "%s", DEFAULT_CMDLINE);
	/* A span guest has no PCI; a featurevisor's L1 has the window on it. */
	if (g->cfg.fv)
		n += snprintf(g->cmdline + n, sizeof(g->cmdline) - n, " span.window=%#llx,%#llx",
			      (unsigned long long)g->cfg.window_gpa,
			      (unsigned long long)g->cfg.window_size);
	else
		n += snprintf(g->cmdline + n, sizeof(g->cmdline) - n, " pci=off");
	/* Hand the guest the TSC's frequency: calibration is slow and flaky nested. */
	if (g->tsc_khz)
		n += snprintf(g->cmdline + n, sizeof(g->cmdline) - n, " tsc_early_khz=%u",
			      g->tsc_khz);
	if (g->cfg.append && *g->cfg.append)
		n += snprintf(g->cmdline + n, sizeof(g->cmdline) - n, " %s", g->cfg.append);
	if ((size_t)n >= sizeof(g->cmdline)) {
		reason("command line longer than %zu bytes", sizeof(g->cmdline) - 1);
		return -E2BIG;
	}

	err = boot__setup(g->mem, g->cfg.mem_size, g->kernel, g->kernel_len,
			  g->initrd, g->initrd_len, g->cmdline, &bi, w, sizeof(w));
	if (err) {
		reason("%s: %s", g->cfg.kernel, w);
		return err;
	}
	/* Where Linux looks first: the last KiB of base memory (e820-reserved). */
	if (mptable__write(g->mem + BOOT_EBDA_GPA, BOOT_EBDA_GPA, 0xa0000 - BOOT_EBDA_GPA,
			   g->nr_vcpus) < 0) {
		reason("no room for an MP table for %u vCPUs", g->nr_vcpus);
		return -ENOSPC;
	}
	return vcpu__boot_regs(&g->vcpus[0], &bi, why, whylen);
}

/* The images first: a bad one is refused before any VM exists. */
static int guest__read_images(struct guest *g, char *why, size_t whylen)
{
	char w[160];
	int err;

	err = read_file(g->cfg.kernel, &g->kernel, &g->kernel_len, why, whylen);
	if (err)
		return err;
	err = boot__check_bzimage(g->kernel, g->kernel_len, w, sizeof(w));
	if (err) {
		reason("%s: %s", g->cfg.kernel, w);
		return err;
	}
	if (g->cfg.initrd)
		err = read_file(g->cfg.initrd, &g->initrd, &g->initrd_len, why, whylen);
	return err;
}

int guest__init(struct guest *g, const struct guest_config *cfg,
		struct ctl_server *server, char *why, size_t whylen)
{
	unsigned int i;
	int err;

	memset(g, 0, sizeof(*g));
	g->kvm_fd = g->vm_fd = g->mem_fd = -1;
	g->cfg = *cfg;
	g->server = server;
	g->state = SPAN_GUEST_BOOTING;
	/* SPANCTL_TRACE=1: every port I/O, and the vCPUs' registers at the end. */
	g->trace = getenv("SPANCTL_TRACE") != NULL;
	pthread_mutex_init(&g->io_lock, NULL);
	pthread_mutex_init(&g->pause_lock, NULL);
	pthread_cond_init(&g->pause_cond, NULL);
	serial8250__init(&g->serial, serial__tx, serial__irq, g);
	if (cfg->fv)
		pci__init(&g->pci, cfg->window_gpa, cfg->window_size);

	if (cfg->nr_vcpus < 1 || cfg->nr_vcpus > GUEST_MAX_VCPUS) {
		reason("%u vCPUs: 1..%d are supported", cfg->nr_vcpus, GUEST_MAX_VCPUS);
		return -EINVAL;
	}
	if (cfg->log) {
		/* Appended to: a rebooted guest's console follows its last boot's. */
		g->log = fopen(cfg->log, "ae");
		if (!g->log) {
			reason("%s: %s", cfg->log, strerror(errno));
			return -errno;
		}
		setvbuf(g->log, NULL, _IOLBF, 0);
	}
	err = guest__read_images(g, why, whylen);
	if (!err)
		err = vm__init(g, why, whylen);
	for (i = 0; !err && i < cfg->nr_vcpus; i++, g->nr_vcpus++)
		err = vcpu__init(g, i, why, whylen);
	if (!err)
		err = guest__load(g, why, whylen);
	/* Copied into guest memory: the files are not needed any more. */
	free(g->kernel);
	free(g->initrd);
	g->kernel = g->initrd = NULL;
	return err;
}

int guest__start(struct guest *g, char *why, size_t whylen)
{
	struct sigaction sa = { .sa_handler = vcpu__kick_handler };
	unsigned int i;
	int err;

	/* No SA_RESTART: the kick must make KVM_RUN return. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	g->t_start = span_now_ns();
	g->state = SPAN_GUEST_RUNNING;
	for (i = 0; i < g->nr_vcpus; i++) {
		err = pthread_create(&g->vcpus[i].thread, NULL, vcpu__thread, &g->vcpus[i]);
		if (err) {
			reason("vCPU thread: %s", strerror(err));
			guest__stop(g, GUEST_STOP_ERROR, "could not start vCPU %u", i);
			return -err;
		}
		g->vcpus[i].started = 1;
	}
	return 0;
}

void guest__stop(struct guest *g, enum guest_stop r, const char *fmt, ...)
{
	va_list ap;
	unsigned int i;

	if (__sync_lock_test_and_set(&g->stopping, 1))
		return;
	g->stop_reason = r;
	va_start(ap, fmt);
	vsnprintf(g->stop_why, sizeof(g->stop_why), fmt, ap);
	va_end(ap);
	g->state = SPAN_GUEST_STOPPING;
	pthread_mutex_lock(&g->pause_lock);
	for (i = 0; i < g->nr_vcpus; i++) {
		struct vcpu *v = &g->vcpus[i];

		if (!v->started)
			continue;
		v->run->immediate_exit = 1;
		if (!pthread_equal(v->thread, pthread_self()))
			pthread_kill(v->thread, SIGUSR1);
	}
	/* Parked vCPUs go. */
	pthread_cond_broadcast(&g->pause_cond);
	pthread_mutex_unlock(&g->pause_lock);
	if (g->on_stop)
		g->on_stop(g, g->on_stop_arg);
}

int guest__pause(struct guest *g, int timeout_ms)
{
	struct timespec until;
	unsigned int i, started = 0;
	int err = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&g->pause_lock);
	if (g->stopping) {
		err = -EPIPE;
		goto out;
	}
	if (g->pause_req) {
		err = -EALREADY;
		goto out;
	}
	g->pause_req = 1;
	/* The standard kick: immediate_exit for a vCPU about to enter, a signal for one inside. */
	for (i = 0; i < g->nr_vcpus; i++) {
		struct vcpu *v = &g->vcpus[i];

		if (!v->started)
			continue;
		started++;
		v->run->immediate_exit = 1;
		pthread_kill(v->thread, SIGUSR1);
	}
	while (g->parked < started && !g->stopping && !err)
		err = -pthread_cond_timedwait(&g->pause_cond, &g->pause_lock, &until);
	if (err) {
		/* Not all of them: run on rather than half paused. */
		g->pause_req = 0;
		pthread_cond_broadcast(&g->pause_cond);
	}
out:
	pthread_mutex_unlock(&g->pause_lock);
	return err;
}

int guest__resume(struct guest *g)
{
	int err = 0;

	pthread_mutex_lock(&g->pause_lock);
	if (!g->pause_req)
		err = -EALREADY;
	g->pause_req = 0;
	pthread_cond_broadcast(&g->pause_cond);
	pthread_mutex_unlock(&g->pause_lock);
	return err;
}

void guest__exit(struct guest *g)
{
	unsigned int i;

	for (i = 0; i < g->nr_vcpus; i++) {
		struct vcpu *v = &g->vcpus[i];

		if (v->started)
			pthread_join(v->thread, NULL);
		if (g->trace && v->fd >= 0) {
			struct kvm_regs r;
			struct kvm_sregs sr;

			ioctl(v->fd, KVM_GET_REGS, &r);
			ioctl(v->fd, KVM_GET_SREGS, &sr);
			fprintf(stderr, "vcpu %u rip %#llx rsp %#llx rflags %#llx cr0 %#llx cr3 %#llx cr4 %#llx efer %#llx cs %#x\n",
				i, r.rip, r.rsp, r.rflags, sr.cr0, sr.cr3, sr.cr4, sr.efer, sr.cs.selector);
		}
		if (v->run)
			munmap(v->run, g->run_size);
		if (v->fd >= 0)
			close(v->fd);
	}
	if (g->mem)
		munmap(g->mem, g->cfg.mem_size);
	if (g->mem_fd >= 0)
		close(g->mem_fd);
	if (g->vm_fd >= 0)
		close(g->vm_fd);
	if (g->kvm_fd >= 0)
		close(g->kvm_fd);
	if (g->log)
		fclose(g->log);
	g->log = NULL;
}

void guest__status(struct guest *g, struct span_msg_status *st)
{
	snprintf(st->name, sizeof(st->name), "%s", g->cfg.name);
	st->state = g->state;
	st->nr_vcpus = g->nr_vcpus;
	st->span = g->span;
	st->vcpu_owner = 0;
	st->mem_bytes = g->cfg.mem_size;
	st->exits = g->exits;
	st->uptime_ns = g->t_start ? span_now_ns() - g->t_start : 0;
	st->console_bytes = g->serial.tx_bytes;
	st->pid = getpid();
	st->nr_fvs = 0;
}

uint64_t guest__cr3(struct guest *g)
{
	struct kvm_run *r = g->vcpus[0].run;

	if (!r || !(r->kvm_valid_regs & KVM_SYNC_X86_SREGS))
		return 0;
	return ((volatile struct kvm_run *)r)->s.regs.sregs.cr3;
}

void guest__console_input(struct guest *g, const char *buf, size_t len)
{
	pthread_mutex_lock(&g->io_lock);
	serial8250__rx(&g->serial, buf, len);
	pthread_mutex_unlock(&g->io_lock);
}
