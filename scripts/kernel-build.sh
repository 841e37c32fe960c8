#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the lab kernel: Debian's linux-source-6.12 (version pinned in
# kvm-patches/BASE) plus the patch series in kvm-patches/series, configured
# with tinyconfig + kvm-patches/lab.config, and the KVM selftests from the
# same tree.
#
# Everything is cached under $SPAN_CACHE/kernel/<key>, where <key> hashes the
# base version, the series and every patch in it, the config fragment and this
# script.  An unchanged kernel is never rebuilt.  The source and object trees
# are kept between builds, and the source tree is a git repository reset to
# the base before the series is applied with `git am`, so a changed patch only
# recompiles the files it touches.
#
# Usage: scripts/kernel-build.sh OUTLINK
#   OUTLINK becomes a symlink to the artifact directory, which holds:
#   bzImage vmlinux.h vmlinux.btf System.map config series.applied
#   include/ (uAPI headers)  selftests/ (KVM selftests, static, stripped)
#
# Environment: SPAN_CACHE (default ~/.cache/span), JOBS (default nproc),
#              V=1 to show the build output instead of a progress line.

set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"

outlink=${1:?usage: kernel-build.sh OUTLINK}
cache=${SPAN_CACHE:-$HOME/.cache/span}/kernel
jobs=${JOBS:-$(nproc)}
patches=$top/kvm-patches
src=$cache/src
obj=$cache/obj

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock -w 3600 9 || die "another kernel build holds $cache/.lock"

# ---- the inputs, and the key they hash to ------------------------------------
base_pkg=$(sed -n 's/^package=//p' "$patches/BASE")
base_ver=$(sed -n 's/^version=//p' "$patches/BASE")
have_ver=$(dpkg-query -W -f='${Version}' "$base_pkg" 2>/dev/null || true)
[ "$have_ver" = "$base_ver" ] ||
	die "kernel base is $base_pkg $base_ver (kvm-patches/BASE) but ${have_ver:-nothing} is installed; run scripts/setup-deps.sh"
tarball=/usr/src/${base_pkg#linux-source-}
tarball=/usr/src/linux-source-${tarball#/usr/src/}.tar.xz
[ -r "$tarball" ] || die "$tarball missing; run scripts/setup-deps.sh"

mapfile -t series < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$patches/series" | grep -v '^$' || true)
for p in "${series[@]}"; do
	[ -f "$patches/$p" ] || die "kvm-patches/series lists $p, which does not exist"
done

key=$( {
	cat "$patches/BASE" "$patches/lab.config" "$0"
	for p in "${series[@]}"; do echo "== $p"; cat "$patches/$p"; done
} | sha256sum | cut -c1-16)
art=$cache/$key
# A git tag for the pristine base (no "~" or ":" allowed in tag names).
base_tag=base-$(echo "$base_ver" | tr '~:' '__')

link_out() {
	mkdir -p "$(dirname "$outlink")"
	ln -sfn "$art" "$outlink"
}

if [ -f "$art/.complete" ]; then
	info "kernel: cache hit $key ($base_pkg $base_ver + ${#series[@]} patches)"
	touch "$art/.complete"
	link_out
	exit 0
fi
info "kernel: building $key ($base_pkg $base_ver + ${#series[@]} patches, $jobs jobs)"

# ---- the source tree: pristine base in git, then the series ------------------
if ! git -C "$src" rev-parse -q --verify "refs/tags/$base_tag" >/dev/null 2>&1; then
	info "kernel: unpacking $tarball"
	rm -rf "$src" "$obj"
	mkdir -p "$src"
	tar -C "$src" --strip-components=1 -xf "$tarball"
	info "kernel: recording the base in git (once per base version)"
	git -C "$src" init -q
	# No background gc: it would repack 1.7 GB and inherit our lock.
	git -C "$src" config gc.auto 0
	git -C "$src" -c core.autocrlf=false add -f -A .
	git -C "$src" -c user.name=span -c user.email=span@localhost \
		commit -q -m "$base_pkg $base_ver"
	git -C "$src" tag "$base_tag"
fi
git -C "$src" am --abort >/dev/null 2>&1 || true
git -C "$src" checkout -q -f -B span "$base_tag"
git -C "$src" clean -q -fdx
for p in "${series[@]}"; do
	if ! git -C "$src" -c user.name=span -c user.email=span@localhost \
		am -q --keep-cr "$patches/$p" >"$cache/am.log" 2>&1; then
		cat "$cache/am.log" >&2
		git -C "$src" am --abort >/dev/null 2>&1 || true
		die "kvm-patches/$p does not apply to $base_pkg $base_ver (after the patches before it in kvm-patches/series)"
	fi
	info "kernel: applied $p"
done

# ---- configuration: tinyconfig + fragment, and proof the fragment survived --
kmake() { make -C "$src" O="$obj" ARCH=x86_64 "$@"; }
mkdir -p "$obj"
kmake -s tinyconfig >/dev/null
# merge_config.sh leaves temporary files in its working directory.
(cd "$obj" && "$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" \
	"$patches/lab.config") >"$cache/merge.log" 2>&1 ||
	{ cat "$cache/merge.log" >&2; die "merge_config.sh failed"; }
kmake -s olddefconfig >/dev/null
lost=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qxF "$line" "$obj/.config" && continue
		opt=${line%%=*}
		got=$(grep -E "^$opt=|^# $opt is not set" "$obj/.config" || echo "absent")
		warn "config: $line did not survive olddefconfig (got: $got)"
		lost=1 ;;
	"# CONFIG_"*" is not set")
		opt=${line#"# "}; opt=${opt%% *}
		grep -q "^$opt=" "$obj/.config" || continue
		warn "config: $line did not survive olddefconfig (got: $(grep "^$opt=" "$obj/.config"))"
		lost=1 ;;
	"" | "#"*) ;;
	*) die "kvm-patches/lab.config: cannot parse: $line" ;;
	esac
done <"$patches/lab.config"
[ $lost = 0 ] || die "kvm-patches/lab.config: options dropped (missing dependencies?)"

# ---- build, with a progress line ---------------------------------------------
# run_logged LOG LABEL CMD...: run CMD with output in LOG, printing elapsed time
# and the number of compiled objects every 20 s (or everything with V=1).
# Compile lines: kbuild's "  CC" and the selftests' full gcc command lines.
cc_re='^  CC |^gcc .* -c '
run_logged() {
	local log=$1 label=$2; shift 2
	local t0=$SECONDS expect=0
	[ -f "$cache/$label.count" ] && expect=$(cat "$cache/$label.count")
	if [ "${V:-0}" = 1 ]; then
		"$@" 2>&1 | tee "$log"; return "${PIPESTATUS[0]}"
	fi
	"$@" >"$log" 2>&1 &
	local pid=$!
	while kill -0 $pid 2>/dev/null; do
		sleep 20 & wait $! || true
		kill -0 $pid 2>/dev/null || break
		local n; n=$(grep -cE "$cc_re" "$log" || true)
		if [ "$expect" -gt 0 ]; then
			info "$label: $((SECONDS - t0))s, $n/$expect objects compiled"
		else
			info "$label: $((SECONDS - t0))s, $n objects compiled"
		fi
	done
	if ! wait $pid; then
		grep -E 'error|Error' "$log" | head -40 >&2 || true
		tail -20 "$log" >&2
		die "$label failed after $((SECONDS - t0))s (full log: $log)"
	fi
	local n; n=$(grep -cE "$cc_re" "$log" || true)
	# Remember the size of a full build so the next one can show n/total.
	[ "$n" -gt "$expect" ] && echo "$n" >"$cache/$label.count"
	info "$label: done in $((SECONDS - t0))s ($n objects compiled)"
}

run_logged "$cache/bzImage.log" kernel kmake -j"$jobs" bzImage
kmake -s headers_install INSTALL_HDR_PATH="$obj/usr" >/dev/null

sel=$obj/kselftest/kvm
run_logged "$cache/selftests.log" selftests \
	make -C "$src/tools/testing/selftests/kvm" -j"$jobs" OUTPUT="$sel" \
	KHDR_INCLUDES="-isystem $obj/usr/include" EXTRA_CFLAGS=-static

# ---- artifacts ---------------------------------------------------------------
tmp=$art.tmp
rm -rf "$tmp"
mkdir -p "$tmp/selftests"
cp "$obj/arch/x86/boot/bzImage" "$obj/System.map" "$tmp/"
cp "$obj/.config" "$tmp/config"
cp -r "$obj/usr/include" "$tmp/include"
objcopy -O binary --only-section=.BTF "$obj/vmlinux" "$tmp/vmlinux.btf"
bpftool btf dump file "$obj/vmlinux" format c >"$tmp/vmlinux.h"
# Every executable the selftests build produced, stripped, same layout.
(cd "$sel" && find . -type f -perm -u+x ! -name '*.o' ! -name '*.d' -print0) |
	while IFS= read -r -d '' f; do
		mkdir -p "$tmp/selftests/$(dirname "$f")"
		strip -o "$tmp/selftests/$f" "$sel/$f" 2>/dev/null || cp "$sel/$f" "$tmp/selftests/$f"
	done
{
	echo "base: $base_pkg $base_ver"
	git -C "$src" log --format='%h %s' "$base_tag..HEAD"
} >"$tmp/series.applied"
echo "$key" >"$tmp/key"
touch "$tmp/.complete"
rm -rf "$art"
mv "$tmp" "$art"
link_out

# Keep the three most recently used kernels.
ls -1dt "$cache"/*/.complete 2>/dev/null | tail -n +4 | while read -r c; do
	rm -rf "$(dirname "$c")"
done
info "kernel: $key ready ($(du -sh "$art" | cut -f1))"
