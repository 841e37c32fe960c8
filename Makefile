# SPDX-License-Identifier: GPL-2.0
#
# span: multi-hypervisor virtual machines on KVM, observed with eBPF.
#
#   make run          set up, build the lab kernel, boot it, run the demo
#   make check        set up, host tests + lab tests, one summary line
#   make check-host   host tests only (no kernel build)
#   make check-lab    lab tests only
#   make kernel       the lab kernel + KVM selftests (cached, see kvm-patches/)
#   make lab-shell    an interactive shell in the lab
#   make lab-repeat   the lab tests N times in a row, pass counts per test
#                     (N=10 LIST=tests/lab/smoke.list ONLY=name,name)
#   make bench        benchmarks on the host and in the lab, as tables (bench/)
#   make bench-host   the host part alone: spanmon's BPF cost, natively
#   make              the user-space programs (into $(O)/)
#   make guest        the span guest's initramfs (busybox + workload)
#
# O=dir builds elsewhere (default out/), V=1 shows commands, WERROR=0 makes
# warnings warnings again.

O ?= out
V ?= 0
WERROR ?= 1
export O V

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
LLVM_STRIP ?= llvm-strip
# CO-RE: the types come from a BTF; the running kernel's by default (every
# object still relocates against whichever kernel loads it).
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

WARNINGS := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wmissing-prototypes \
	-Wstrict-prototypes
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(WARNINGS) $(CFLAGS) -Iinclude -I$(O)/bpf -Ibpf \
	-D_GNU_SOURCE
SAN_CFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
BPF_LIBS := -lbpf -lelf -lz

# LIB_SRCS are plain C (unit-tested under ASan); libspan.a adds the libbpf
# helpers.
LIB_SRCS := lib/util.c lib/hist.c
LIBSPAN_SRCS := $(LIB_SRCS) lib/bpfutil.c lib/spanevents.c
# The tests that load BPF (spanmon's programs, the featurevisor dispatcher
# and filters): their own binary, run as root (see stage_host).
HOST_BPF_TEST_SRCS := tests/host/test_spanmon_bpf.c tests/host/test_spanfv_bpf.c
HOST_TEST_SRCS := $(filter-out $(HOST_BPF_TEST_SRCS),$(wildcard tests/host/test_*.c))
SPANMON_SRCS := $(wildcard spanmon/*.c)
# spanctl: the parts without KVM are unit-tested (boot protocol, control
# protocol and server, 8250, option tables).
SPANCTL_SRCS := $(wildcard controller/*.c)
SPANCTL_UNIT_SRCS := controller/boot.c controller/proto.c controller/server.c \
	controller/serial.c controller/options.c controller/mptable.c \
	controller/pci.c controller/fv/libspanfv.c
# The span uAPI: the lab kernel's installed headers when they are there,
# else controller/kvm_span.h declares the same ABI (size-checked).
KHDR := $(O)/kernel/include
KHDR_CFLAGS := $(if $(wildcard $(KHDR)/linux/kvm.h),-isystem $(KHDR))

# Programs that go into the lab (and onto a real KVM host).  spanmon's user
# side is spanmon/*.c, not bpf/spanmon.c: it has its own rule.
BPF_APPS := kvmexits spanmon
LAB_PROGS := kvmloop spanctl spanev
PROGS := $(addprefix $(O)/bin/,$(BPF_APPS) $(LAB_PROGS))

.PHONY: all setup setup-host kernel run check check-host check-lab \
	lab-shell lab-repeat bench bench-host clean help
.DEFAULT_GOAL := all
# Keep generated objects and skeletons between runs.
.SECONDARY:

# spanfv-introspect too: its command line is part of the host tests.
all: $(PROGS) $(O)/guest/spanfv-introspect

help:
	@sed -n '3,19p' Makefile | sed 's/^# \{0,1\}//'

# ---- dependencies ------------------------------------------------------------
setup:
	$(Q)scripts/setup-deps.sh all
setup-host:
	$(Q)scripts/setup-deps.sh host

# ---- user space ----------------------------------------------------------------
$(O)/lib/libspan.a: $(patsubst %.c,$(O)/obj/%.o,$(LIBSPAN_SRCS))
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D) && $(AR) rcs $@ $^

$(O)/obj/lib/spanevents.o: $(O)/bpf/spanfv.skel.h
$(O)/obj/%.o: %.c $(wildcard include/span/*.h)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(ALL_CFLAGS) -c $< -o $@

$(O)/bin/kvmloop: tests/lab/kvmloop.c $(O)/lib/libspan.a
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(ALL_CFLAGS) $^ -o $@

# spanev: memory events end to end on L0 (lab test and bench).
$(O)/bin/spanev: tests/lab/spanev.c controller/kvm_span.h $(O)/lib/libspan.a
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(ALL_CFLAGS) $(KHDR_CFLAGS) -Icontroller \
		$(filter %.c %.a,$^) $(BPF_LIBS) -lpthread -o $@

$(O)/bin/spanctl: $(SPANCTL_SRCS) $(wildcard controller/*.h) $(O)/lib/libspan.a
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(ALL_CFLAGS) $(KHDR_CFLAGS) -Icontroller \
		$(filter %.c %.a,$^) $(BPF_LIBS) -lpthread -lm -o $@

# The span guest's initramfs (busybox + workload, and for the introspection
# test evil and the rootkit dkom): `make guest`.
GUEST_INITRD := $(O)/guest/initramfs.cpio.gz
GUEST_PROGS := $(O)/guest/workload $(O)/guest/evil $(O)/guest/dkom
$(O)/guest/workload $(O)/guest/evil: $(O)/guest/%: controller/guest/%.c
	$(call msg,CCLD,$@ [static])
	$(Q)mkdir -p $(@D) && $(CC) $(ALL_CFLAGS) -static $< -o $@

# The introspection core reads BTF with libbpf: linked statically
# (libbpf.a, libelf.a, libz.a from libbpf-dev, libelf-dev, zlib1g-dev).
INTROSPECT_SRCS := controller/fv/introspect.c controller/fv/libspanfv.c
INTROSPECT_HDRS := controller/fv/introspect.h controller/fv/libspanfv.h controller/pci.h
$(O)/guest/dkom: controller/guest/dkom.c $(INTROSPECT_SRCS) $(INTROSPECT_HDRS)
	$(call msg,CCLD,$@ [static])
	$(Q)mkdir -p $(@D) && $(CC) $(ALL_CFLAGS) -Icontroller -static $(filter %.c,$^) \
		$(BPF_LIBS) -o $@

$(GUEST_INITRD): $(GUEST_PROGS) controller/guest/init scripts/guest-initramfs.sh
	$(call msg,GEN,$@)
	$(Q)scripts/guest-initramfs.sh $@ controller/guest/init $(GUEST_PROGS)

# A featurevisor's initramfs: busybox, controller/fv/init, the example
# featurevisor (on libspanfv), the introspection featurevisor and the
# guest kernel's BTF and System.map it reads (the lab kernel's, when built:
# the L1 runs the same kernel here, but a featurevisor must not assume so).
FV_INITRD := $(O)/guest/fv.cpio.gz
FV_PROGS := $(addprefix $(O)/guest/spanfv-,marker introspect events mirror)
# Which lab kernel's files it holds ($(O)/kernel/key, or none): rewritten
# only when that changes, so a rebuilt or another cached kernel repacks it.
$(O)/guest/kernel.key: FORCE
	$(Q)mkdir -p $(@D); k=$$(cat $(O)/kernel/key 2>/dev/null || echo none); \
		[ "$$(cat $@ 2>/dev/null)" = "$$k" ] || echo "$$k" >$@
.PHONY: FORCE
# spanfv-events and spanfv-mirror take memory events through libspanfv.
$(O)/guest/spanfv-%: controller/fv/spanfv-%.c controller/fv/libspanfv.c \
		controller/fv/libspanfv.h controller/pci.h include/span/spanfv_area.h \
		include/span/spanfv_event.h
	$(call msg,CCLD,$@ [static])
	$(Q)mkdir -p $(@D) && $(CC) $(ALL_CFLAGS) -Icontroller -static $(filter %.c,$^) -o $@

$(O)/guest/spanfv-introspect: controller/fv/spanfv-introspect.c $(INTROSPECT_SRCS) \
		$(INTROSPECT_HDRS)
	$(call msg,CCLD,$@ [static])
	$(Q)mkdir -p $(@D) && $(CC) $(ALL_CFLAGS) -Icontroller -static $(filter %.c,$^) \
		$(BPF_LIBS) -o $@

# The files are looked for when the recipe runs, not when make starts:
# `make lab-deps` on a fresh clone builds the kernel first, in the same run.
$(FV_INITRD): $(FV_PROGS) $(O)/guest/kernel.key controller/fv/init scripts/guest-initramfs.sh
	$(call msg,GEN,$@)
	$(Q)scripts/guest-initramfs.sh $@ controller/fv/init $(FV_PROGS) \
		$$(for f in vmlinux.btf System.map; do [ ! -f $(O)/kernel/$$f ] || \
			echo /guest-kernel/$$f=$(O)/kernel/$$f; done)

guest: $(GUEST_INITRD) $(FV_INITRD)
.PHONY: guest

# ---- BPF: vmlinux.h, objects, skeletons, apps ----------------------------------
$(O)/bpf/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)[ -r $(VMLINUX_BTF) ] || { echo "no BTF at $(VMLINUX_BTF): set VMLINUX_BTF=" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

$(O)/bpf/%.bpf.o: bpf/%.bpf.c bpf/%.h $(O)/bpf/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf $(BPF_CPU) -D__TARGET_ARCH_x86 $(WARNINGS) \
		-I$(O)/bpf -Ibpf -Iinclude -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(O)/bpf/%.skel.h: $(O)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(addprefix $(O)/bin/,$(filter-out spanmon,$(BPF_APPS))): $(O)/bin/%: bpf/%.c bpf/%.h $(O)/bpf/%.skel.h $(O)/lib/libspan.a
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(ALL_CFLAGS) $(filter %.c %.a,$^) $(BPF_LIBS) -o $@

$(O)/bpf/spanmon.bpf.o: bpf/core_fixes.bpf.h

# A featurevisor's event dispatcher (its shared header is in include/span,
# for lib/spanevents.c) and the example and test filters (bpf/filters/).
# The dispatcher sets dirty bits with fetch-and-or: ISA v3 too.
SPANFV_FILTERS := $(patsubst bpf/filters/%.bpf.c,$(O)/bpf/filters/%.bpf.o,\
	$(wildcard bpf/filters/*.bpf.c))
$(O)/bpf/spanfv.bpf.o: bpf/spanfv.bpf.c include/span/spanfv_event.h \
		include/span/hist_layout.h $(O)/bpf/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 $(WARNINGS) \
		-I$(O)/bpf -Ibpf -Iinclude -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@
$(O)/bpf/filters/%.bpf.o: bpf/filters/%.bpf.c include/span/spanfv_event.h \
		bpf/filters/gfns.bpf.h $(O)/bpf/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 $(WARNINGS) \
		-I$(O)/bpf -Iinclude -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@
filters: $(SPANFV_FILTERS)
.PHONY: filters
# The host tests' dispatchers with one filter built in (tests/host/
# spanfv_inline.bpf.c says why).
SPANFV_INLINE := $(patsubst %,$(O)/tests/host/spanfv-%.bpf.o,all range writes forge count)
$(O)/tests/host/spanfv-%.bpf.o: tests/host/spanfv_inline.bpf.c bpf/spanfv.bpf.c \
		bpf/filters/%.bpf.c include/span/spanfv_event.h $(O)/bpf/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 \
		$(WARNINGS) -DSPANFV_FILTER='"filters/$*.bpf.c"' -I$(O)/bpf -Ibpf -Iinclude \
		-c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@
# spanmon claims vCPU slots with compare-and-swap: BPF ISA v3 (Linux 5.12+).
$(O)/bpf/spanmon.bpf.o $(O)/bench/%.bpf.o: BPF_CPU := -mcpu=v3

$(O)/bin/spanmon: $(SPANMON_SRCS) $(wildcard spanmon/*.h) bpf/spanmon.h \
		$(O)/bpf/spanmon.skel.h $(O)/lib/libspan.a
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(ALL_CFLAGS) -Ispanmon $(filter %.c %.a,$^) \
		$(BPF_LIBS) -lmicrohttpd -lm -o $@

# ---- host tests: unit tests under ASan+UBSan, CLI contract -----------------------
# The introspection core's test lays out guest memory for two kernels: the
# host's BTF and the lab kernel's (when built).  The compiler takes each
# kernel's offsets from its vmlinux.h, a second opinion on the core's BTF
# reading (tests/host/introspect_vmlinux.c).
LAB_VMLINUX_H := $(wildcard $(O)/kernel/vmlinux.h)
$(O)/tests/host/vmlinux_host.o: tests/host/introspect_vmlinux.c tests/host/introspect_vmlinux.h \
		$(O)/bpf/vmlinux.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) -w -c -include $(O)/bpf/vmlinux.h -Itests/host \
		-DVMLINUX_NAME=span_vmlinux_host -DVMLINUX_BTF='"$(abspath $(VMLINUX_BTF))"' $< -o $@
$(O)/tests/host/vmlinux_lab.o: tests/host/introspect_vmlinux.c tests/host/introspect_vmlinux.h \
		$(LAB_VMLINUX_H)
	$(call msg,CC,$@ $(if $(LAB_VMLINUX_H),,[no lab kernel]))
	$(Q)mkdir -p $(@D) && $(CC) -w -c -Itests/host -DVMLINUX_NAME=span_vmlinux_lab \
		$(if $(LAB_VMLINUX_H),-include $(LAB_VMLINUX_H) \
		-DVMLINUX_BTF='"$(abspath $(O)/kernel/vmlinux.btf)"',-DVMLINUX_NONE) $< -o $@

$(O)/tests/host/unit: tests/host/harness.c $(HOST_TEST_SRCS) $(LIB_SRCS) \
		spanmon/format.c spanmon/format.h bpf/spanmon.h \
		spanmon/fold.c spanmon/fold.h $(SPANCTL_UNIT_SRCS) $(wildcard controller/*.h) \
		controller/fv/libspanfv.h controller/fv/introspect.c controller/fv/introspect.h \
		$(O)/tests/host/vmlinux_host.o $(O)/tests/host/vmlinux_lab.o \
		tests/host/introspect_vmlinux.h tests/host/harness.h $(wildcard include/span/*.h)
	$(call msg,CCLD,$@ [asan+ubsan])
	$(Q)mkdir -p $(@D) && $(CC) $(ALL_CFLAGS) $(SAN_CFLAGS) -Itests/host -Ispanmon \
		-Icontroller $(filter %.c %.o,$^) $(BPF_LIBS) -lm -lpthread -o $@

# The BPF unit tests: the spanmon skeleton and the featurevisor dispatcher
# (with the filters in bpf/filters/) driven by BPF_PROG_TEST_RUN.
$(O)/tests/host/spanmon_bpf: tests/host/harness.c $(HOST_BPF_TEST_SRCS) $(LIB_SRCS) \
		lib/spanevents.c lib/bpfutil.c spanmon/collect.c spanmon/format.c \
		$(O)/bpf/spanmon.skel.h $(O)/bpf/spanfv.skel.h \
		$(SPANFV_FILTERS) $(SPANFV_INLINE) bpf/spanmon.h tests/host/harness.h \
		$(wildcard include/span/*.h)
	$(call msg,CCLD,$@ [asan+ubsan])
	$(Q)mkdir -p $(@D) && $(CC) $(ALL_CFLAGS) $(SAN_CFLAGS) -Itests/host -Ispanmon \
		-DSPANFV_FILTER_DIR='"$(O)/bpf/filters"' \
		-DSPANFV_INLINE_DIR='"$(O)/tests/host"' $(filter %.c,$^) $(BPF_LIBS) -lm -o $@

check-host: setup-host
	$(Q)scripts/check.sh host

# ---- the lab ---------------------------------------------------------------------
kernel: setup
	$(Q)scripts/kernel-build.sh $(O)/kernel

# The lab's copy of the programs: the same binaries, gathered in one place.
# The span guest's initramfs rides along in guest/ (with the lab's bzImage,
# which scripts/lab-initramfs.sh adds).
# The featurevisor filters go too (spanctl filter load in the lab tests).
$(O)/lab-bin/.stamp: $(PROGS) $(GUEST_INITRD) $(FV_INITRD) $(SPANFV_FILTERS)
	$(Q)mkdir -p $(@D)/guest $(@D)/filters && cp $(PROGS) $(@D)/ && \
		cp $(GUEST_INITRD) $(FV_INITRD) $(@D)/guest/ && \
		cp $(SPANFV_FILTERS) $(@D)/filters/ && touch $@

lab-deps: kernel $(O)/lab-bin/.stamp
.PHONY: lab-deps

check-lab: setup
	$(Q)scripts/check.sh lab

# Stability: the lab list N times in a row, each run a fresh boot with its
# own results (out/lab/NAME-runK.results), then a table of pass counts per
# test; fails if any test failed in any run.
N ?= 10
LIST ?= tests/lab/smoke.list
ONLY ?=
lab-repeat: setup
	$(Q)$(MAKE) --no-print-directory lab-deps
	$(Q)scripts/lab-repeat.sh -n $(N) $(if $(ONLY),--only $(ONLY)) $(LIST)

lab-shell: lab-deps
	$(Q)scripts/lab-run.sh --shell

run: setup
	$(Q)$(MAKE) --no-print-directory lab-deps
	$(Q)scripts/lab-run.sh --name demo tests/lab/demo.list

check: setup
	$(Q)scripts/check.sh host lab

# Benchmarks, printed as tables: on the host natively (bench-host: spanmon's
# programs by BPF_PROG_TEST_RUN), then in the lab on real exits, each side by
# side in one run.
bench: setup
	$(Q)$(MAKE) --no-print-directory bench-host
	$(Q)$(MAKE) --no-print-directory lab-deps
	$(Q)scripts/lab-run.sh --name bench bench/bench.list | \
		sed -n '/^@@SPAN-BEGIN/,/^@@SPAN-END/p; /^lab results/,$$p'
	$(Q)scripts/lab-run.sh --smp 1 --name bench-fv bench/fv.list | \
		sed -n '/^@@SPAN-BEGIN/,/^@@SPAN-END/p; /^lab results/,$$p'

bench-host: $(O)/bench/spanmon_host $(O)/bench/spanfv_host $(O)/tests/host/spanfv-range.bpf.o
	$(Q)$<
	$(Q)$(O)/bench/spanfv_host -d $(O)/tests/host

# bench/*_bench.bpf.c compile spanmon's (or kvmexits') BPF in, plus drivers.
$(O)/bench/%.bpf.o: bench/%.bpf.c bench/spanmon_bench.h bpf/spanmon.bpf.c bpf/spanmon.h \
		bpf/core_fixes.bpf.h bpf/kvmexits.bpf.c bpf/kvmexits.h $(O)/bpf/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) -g -O2 -target bpf $(BPF_CPU) -D__TARGET_ARCH_x86 \
		$(WARNINGS) -I$(O)/bpf -Ibpf -Ibench -Iinclude -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(O)/bench/%.skel.h: $(O)/bench/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# A featurevisor dispatcher's cost per event, no filter against the range
# filter (built in: tests/host/spanfv_inline.bpf.c).
$(O)/bench/spanfv_host: bench/spanfv_host.c $(O)/lib/libspan.a
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(ALL_CFLAGS) $(filter %.c %.a,$^) $(BPF_LIBS) -lm -o $@

$(O)/bench/spanmon_host: bench/spanmon_host.c bench/spanmon_bench.h $(O)/bpf/spanmon.skel.h \
		$(O)/bench/spanmon_bench.skel.h $(O)/bench/kvmexits_bench.skel.h $(O)/lib/libspan.a
	$(call msg,CCLD,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(ALL_CFLAGS) -Ibench -I$(O)/bench $(filter %.c %.a,$^) \
		$(BPF_LIBS) -o $@

clean:
	rm -rf $(O)
