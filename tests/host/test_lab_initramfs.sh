#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/lab-initramfs.sh with real programs in the lab's bin dir: a
# statically linked program (and a static-pie one) goes in alone, a dynamic
# one with its libraries; a program whose libraries are missing, or on which
# ldd fails, stops the build with a message naming it.
#
# Usage: test_lab_initramfs.sh BIN_DIR RESULTS_FILE

suite=lab-initramfs
# shellcheck source=tests/host/lab_lib.sh
. "$(dirname "$0")/lab_lib.sh"

mkdir -p "$tmp/kernel" "$tmp/src"
echo 'a 10 true' >"$tmp/list"
cat >"$tmp/src/main.c" <<'C'
int main(void) { return 0; }
C
echo 'int f(void) { return 1; }' >"$tmp/src/lib.c"
echo 'int f(void); int main(void) { return f(); }' >"$tmp/src/uses.c"
if ! { gcc -static "$tmp/src/main.c" -o "$tmp/src/static" &&
	gcc -static-pie "$tmp/src/main.c" -o "$tmp/src/static_pie" &&
	gcc "$tmp/src/main.c" -o "$tmp/src/dynamic" &&
	gcc -shared -fPIC "$tmp/src/lib.c" -o "$tmp/src/libspanzz.so" &&
	gcc "$tmp/src/uses.c" -L"$tmp/src" -lspanzz -o "$tmp/src/needs_lib"; } 2>"$tmp/cc.err"; then
	record FAIL build "cannot build the test programs: $(tr '\n' '|' <"$tmp/cc.err")"
	exit 1
fi
rm "$tmp/src/libspanzz.so"

# build CASE PROGRAM...: lab-initramfs.sh with these programs as the bin dir;
# sets rc and err (its stderr).
build() {
	local case=$1; shift
	mkdir -p "$tmp/$case/bin"
	cp "$@" "$tmp/$case/bin/"
	"$top/scripts/lab-initramfs.sh" "$tmp/$case/initrd.cpio.gz" "$tmp/kernel" "$tmp/$case/bin" \
		"$tmp/list" >/dev/null 2>"$tmp/$case/err"
	rc=$?
	err=$(tr '\n' '|' <"$tmp/$case/err")
}

build static "$tmp/src/static" "$tmp/src/static_pie" "$tmp/src/dynamic"
root=$tmp/static/initrd.cpio.gz.d
if [ $rc != 0 ]; then
	record FAIL static_program_copied "exit $rc with a static program in the bin dir: $err"
elif ! cmp -s "$tmp/src/static" "$root/span/bin/static" ||
	! cmp -s "$tmp/src/static_pie" "$root/span/bin/static_pie"; then
	record FAIL static_program_copied "the static programs are not in the initramfs root"
elif ! zcat "$tmp/static/initrd.cpio.gz" | cpio -t --quiet 2>/dev/null | grep -qx 'span/bin/static'; then
	record FAIL static_program_copied "span/bin/static is not in the archive"
else
	record PASS static_program_copied ""
fi
# The dynamic one still brings its libraries (ldd's paths, e.g. libc.so.6).
libc=$(ldd "$tmp/src/dynamic" | grep -oE '/[^ ]*libc\.so[^ ]*' | head -1)
if [ -n "$libc" ] && [ -e "$root$libc" ] && cmp -s "$tmp/src/dynamic" "$root/span/bin/dynamic"; then
	record PASS dynamic_program_with_libraries ""
else
	record FAIL dynamic_program_with_libraries "no ${libc:-libc} under $root"
fi

build missing "$tmp/src/needs_lib"
if [ $rc != 0 ] && grep -q "needs_lib needs libraries" <<<"$err" && grep -q 'libspanzz.so' <<<"$err"; then
	record PASS missing_library_named ""
else
	record FAIL missing_library_named "exit $rc, stderr: $err"
fi

# ldd itself fails on one program (a stand-in ldd, first in PATH).
mkdir -p "$tmp/fakebin"
cat >"$tmp/fakebin/ldd" <<'F'
#!/bin/sh
case $1 in */broken) echo "ldd: cannot read it" >&2; exit 1 ;; esac
exec /usr/bin/ldd "$@"
F
chmod +x "$tmp/fakebin/ldd"
cp "$tmp/src/dynamic" "$tmp/src/broken"
PATH=$tmp/fakebin:$PATH build ldd_fails "$tmp/src/broken"
if [ $rc != 0 ] && grep -q "ldd failed on $tmp/ldd_fails/bin/broken: ldd: cannot read it" <<<"$err"; then
	record PASS ldd_failure_named ""
else
	record FAIL ldd_failure_named "exit $rc, stderr: $err"
fi

exit $failed
