#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Assemble the lab's initramfs: busybox, bash (the selftests want it), the
# project's lab binaries with their shared libraries, the lab test scripts,
# the stock KVM selftests that LIST runs ("selftest PATH") or names for its
# scripts ("@selftests PATH..." lines), and LIST itself as /span/tests.list,
# read by tests/lab/init.
#
# Usage: scripts/lab-initramfs.sh OUT.cpio.gz KERNEL_DIR BIN_DIR LIST

set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"

out=${1:?usage: lab-initramfs.sh OUT KERNEL_DIR BIN_DIR LIST}
kdir=${2:?}
bindir=${3:?}
list=${4:?}
[ -f "$list" ] || die "no test list $list"
command -v readelf >/dev/null || die "lab-initramfs: readelf (binutils) is missing"

root=$out.d
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,span/bin,span/tests,span/selftests}

# Copy a program, and every shared library it loads, to the same paths.  A
# program that names no ELF interpreter (statically linked, static-pie) or is
# a script is copied alone; for the others ldd must succeed and find every
# library, or the build stops naming the program.
copy_with_libs() {
	local bin=$1 dest=$2 hdr out lib
	mkdir -p "$(dirname "$root$dest")"
	cp -L "$bin" "$root$dest"
	if ! hdr=$(LC_ALL=C readelf -lW "$bin" 2>/dev/null); then
		[ "$(head -c 2 "$bin")" = '#!' ] && return 0
		die "lab-initramfs: $bin is neither an ELF program nor a script"
	fi
	[[ $hdr == *"Requesting program interpreter"* ]] || return 0
	out=$(LC_ALL=C ldd "$bin" 2>&1) ||
		die "lab-initramfs: ldd failed on $bin: $(tr '\n\t' '  ' <<<"$out")"
	if grep -q 'not found' <<<"$out"; then
		die "lab-initramfs: $bin needs libraries that are not on this host:" \
			"$(grep 'not found' <<<"$out" | tr '\n\t' '  ')"
	fi
	while read -r lib; do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done < <(grep -oE '/[^ ]+' <<<"$out")
}

cp /bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list-full); do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
copy_with_libs /bin/bash /bin/bash
# Selftest assertion reports resolve addresses with it; lab tests read
# JSON with jq.
copy_with_libs "$(command -v addr2line)" /usr/bin/addr2line
copy_with_libs "$(command -v jq)" /usr/bin/jq
copy_with_libs "$(command -v bpftool)" /usr/sbin/bpftool

install -m 0755 "$top/tests/lab/init" "$root/init"
for f in "$bindir"/*; do
	[ -x "$f" ] && [ -f "$f" ] && copy_with_libs "$f" "/span/bin/$(basename "$f")"
done
# The span guest spanctl boots: the lab's own kernel and the guest initramfs.
if [ -d "$bindir/guest" ]; then
	mkdir -p "$root/span/guest"
	cp "$bindir"/guest/* "$root/span/guest/"
	cp "$kdir/bzImage" "$root/span/guest/bzImage"
fi
# Featurevisor event filters (spanctl filter load).
if [ -d "$bindir/filters" ]; then
	mkdir -p "$root/span/filters"
	cp "$bindir"/filters/*.bpf.o "$root/span/filters/"
fi
for f in "$top"/tests/lab/selftest "$top"/tests/lab/*.sh "$top"/bench/*.sh; do
	install -m 0755 "$f" "$root/span/tests/$(basename "$f")"
done

# The list, without comments and directives; and every selftest it runs
# ("selftest PATH") or names for its scripts ("@selftests PATH...").
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' -e '/^@/d' "$list" >"$root/span/tests.list"
{
	{ grep -oE '(^|[[:space:]])selftest( -[sr])* [^ ]+' "$root/span/tests.list" || true; } | awk '{print $NF}'
	sed -n 's/^@selftests[[:space:]]//p' "$list" | tr ' \t' '\n\n'
} | sed '/^$/d' | sort -u | while read -r t; do
	[ -x "$kdir/selftests/$t" ] || die "$list: no selftest $t in $kdir/selftests"
	mkdir -p "$root/span/selftests/$(dirname "$t")"
	cp "$kdir/selftests/$t" "$root/span/selftests/$t"
done

echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"

(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
info "lab: initramfs $(du -h "$out" | cut -f1) with $(wc -l <"$root/span/tests.list") tests"
