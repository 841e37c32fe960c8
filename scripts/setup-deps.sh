#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install every Debian package span needs, idempotently: a no-op (no apt-get
# call at all) when everything is already there.  Called by `make run` and
# `make check`; safe to call by hand.
#
# Usage: scripts/setup-deps.sh [host|all]
#   host: what the host build and host tests need
#   all:  also the lab (kernel source, QEMU, kernel build tools); default

set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"

what=${1:-all}
base_pkg=$(sed -n 's/^package=//p' "$top/kvm-patches/BASE")
base_ver=$(sed -n 's/^version=//p' "$top/kvm-patches/BASE")

host_pkgs=(build-essential pkg-config clang llvm libbpf-dev bpftool
	libelf-dev zlib1g-dev libclang-rt-14-dev
	libmicrohttpd-dev prometheus curl jq python3)
lab_pkgs=(qemu-system-x86 "$base_pkg=$base_ver" flex bison bc libssl-dev
	dwarves cpio busybox-static rsync git)

case $what in
host) pkgs=("${host_pkgs[@]}") ;;
all) pkgs=("${host_pkgs[@]}" "${lab_pkgs[@]}") ;;
*) die "usage: setup-deps.sh [host|all]" ;;
esac

missing=()
for p in "${pkgs[@]}"; do
	name=${p%%=*}
	want=${p#*=}; [ "$want" = "$p" ] && want=
	have=$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$name" 2>/dev/null || true)
	case $have in
	"installed $want"* | "installed "*) [ -z "$want" ] || [ "$have" = "installed $want" ] || missing+=("$p") ;;
	*) missing+=("$p") ;;
	esac
done
[ ${#missing[@]} = 0 ] && exit 0

[ "$(id -u)" = 0 ] ||
	die "need root to install Debian packages: ${missing[*]} (run as root, or install them and re-run)"
info "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -q -y -o Dpkg::Use-Pty=0 --no-install-recommends "$@"; }
if ! apt_get install "${missing[@]}" >/tmp/span-apt.log 2>&1; then
	# A fresh machine may have empty package lists: update once and retry.
	apt-get -q update >>/tmp/span-apt.log 2>&1 || true
	apt_get install "${missing[@]}" >>/tmp/span-apt.log 2>&1 || {
		tail -20 /tmp/span-apt.log >&2
		die "apt-get install failed (full log: /tmp/span-apt.log)"
	}
fi
info "installed ${#missing[@]} packages"
