// SPDX-License-Identifier: GPL-2.0
/*
 * kvmloop: the smallest exit-heavy KVM workload.
 *
 * One VM, one vCPU in 16-bit real mode running "out 0x10, al; inc al;
 * jmp back": every loop iteration is one KVM_EXIT_IO.  Runs until it has
 * seen N I/O exits, checks that the guest's counter arrived intact, and
 * prints what happened.  Then it sends the vCPU to a HLT, so that the N-th
 * I/O exit is re-entered like every other (a tool timing exits from exit
 * to entry sees exactly N) and the HLT is the one exit never re-entered.  Used by the lab smoke tests (an exact lower bound
 * for BPF exit counters) and by benchmarks (exit cost).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "span/util.h"

#define GUEST_MEM	0x1000
#define GUEST_PORT	0x10

static const uint8_t guest_code[] = {
	0xe6, GUEST_PORT,	/* 0: out 0x10, al */
	0xfe, 0xc0,		/* 2: inc al       */
	0xeb, 0xfa,		/* 4: jmp 0        */
	0xf4,			/* 6: hlt          */
};
#define GUEST_HLT	0x1006	/* the code is at guest-physical 0x1000 */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: kvmloop [-n EXITS] [-j]\n"
"Run a one-vCPU guest that does nothing but port I/O and count its exits.\n"
"\n"
"  -n EXITS   stop after EXITS I/O exits (1..1000000000, default 10000)\n"
"  -j         print the result as one JSON object\n"
"  -h         this help\n"
"\n"
"EXAMPLES:\n"
"    kvmloop -n 1000           # 1000 exits, one summary line\n"
"    kvmexits -- kvmloop       # the same, counted by BPF\n");
}

static int fail(const char *what)
{
	fprintf(stderr, "kvmloop: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	uint64_t n = 10000, seen = 0, t0, t1;
	struct kvm_userspace_memory_region region;
	struct kvm_run *run;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int kvm, vm, vcpu, sz, opt;
	bool json = false;
	uint8_t expect = 0;
	void *mem;

	opterr = 0;
	while ((opt = getopt(argc, argv, ":n:jh")) != -1) {
		switch (opt) {
		case 'n':
			if (span_parse_u64(optarg, 1, 1000000000, &n)) {
				fprintf(stderr, "kvmloop: invalid exit count '%s': want 1..1000000000\n",
					optarg);
				return SPAN_EXIT_USAGE;
			}
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "kvmloop: option -%c needs an argument (see -h)\n", optopt);
			return SPAN_EXIT_USAGE;
		default:
			fprintf(stderr, "kvmloop: unknown option -%c (see -h)\n", optopt);
			return SPAN_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "kvmloop: unexpected argument '%s' (see -h)\n", argv[optind]);
		return SPAN_EXIT_USAGE;
	}

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("open /dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail("KVM_CREATE_VM");
	mem = mmap(NULL, GUEST_MEM, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return fail("mmap");
	memcpy(mem, guest_code, sizeof(guest_code));
	region = (struct kvm_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = 0x1000,
		.memory_size = GUEST_MEM,
		.userspace_addr = (uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region))
		return fail("KVM_SET_USER_MEMORY_REGION");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return fail("KVM_CREATE_VCPU");
	sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(*run))
		return fail("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return fail("mmap vcpu");

	if (ioctl(vcpu, KVM_GET_SREGS, &sregs))
		return fail("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs))
		return fail("KVM_SET_SREGS");
	regs = (struct kvm_regs){ .rip = 0x1000, .rax = 0, .rflags = 0x2 };
	if (ioctl(vcpu, KVM_SET_REGS, &regs))
		return fail("KVM_SET_REGS");

	t0 = span_now_ns();
	while (seen < n) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return fail("KVM_RUN");
		}
		if (run->exit_reason != KVM_EXIT_IO) {
			/* Anything but our I/O is a broken guest or KVM: stop. */
			fprintf(stderr, "kvmloop: unexpected exit reason %u after %" PRIu64 " I/O exits\n",
				run->exit_reason, seen);
			return 1;
		}
		if (run->io.port != GUEST_PORT || run->io.direction != KVM_EXIT_IO_OUT ||
		    run->io.size != 1) {
			fprintf(stderr, "kvmloop: unexpected I/O port 0x%x dir %u size %u\n",
				run->io.port, run->io.direction, run->io.size);
			return 1;
		}
		uint8_t got = *((uint8_t *)run + run->io.data_offset);

		if (got != expect) {
			fprintf(stderr, "kvmloop: guest wrote %u, expected %u: lost or repeated exit\n",
				got, expect);
			return 1;
		}
		expect++;
		seen++;
	}
	t1 = span_now_ns();
	/* KVM does not skip the OUT again once RIP moved (pio.linear_rip). */
	if (ioctl(vcpu, KVM_GET_REGS, &regs))
		return fail("KVM_GET_REGS");
	regs.rip = GUEST_HLT;
	if (ioctl(vcpu, KVM_SET_REGS, &regs))
		return fail("KVM_SET_REGS");
	while (ioctl(vcpu, KVM_RUN, 0) < 0)
		if (errno != EINTR && errno != EAGAIN)
			return fail("KVM_RUN");
	if (run->exit_reason != KVM_EXIT_HLT) {
		fprintf(stderr, "kvmloop: exit reason %u at the final HLT\n", run->exit_reason);
		return 1;
	}

	if (json)
		printf("{\"pid\":%d,\"io_exits\":%" PRIu64 ",\"ns\":%" PRIu64
		       ",\"ns_per_exit\":%" PRIu64 "}\n",
		       getpid(), seen, t1 - t0, (t1 - t0) / seen);
	else
		printf("kvmloop: pid %d: %" PRIu64 " I/O exits in %.1f ms (%.2f us per exit)\n",
		       getpid(), seen, (t1 - t0) / 1e6, (t1 - t0) / 1e3 / seen);
	munmap(run, sz);
	munmap(mem, GUEST_MEM);
	close(vcpu);
	close(vm);
	close(kvm);
	return 0;
}
