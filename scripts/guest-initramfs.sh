#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# An initramfs for the VMs spanctl boots: static busybox, an init script and
# static programs in /bin.  The span guest's (controller/guest/init and the
# workload) knows nothing about span; a featurevisor's (controller/fv/init
# and its program) knows the window.
#
# Usage: scripts/guest-initramfs.sh OUT.cpio.gz INIT PROGRAM... [/PATH=FILE...]
#   PROGRAM goes to /bin; /PATH=FILE puts a data file at /PATH (for example
#   the guest kernel's BTF and System.map for the introspection featurevisor).

set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"

out=${1:?usage: guest-initramfs.sh OUT INIT PROGRAM...}
init=${2:?}
shift 2
bb=/bin/busybox
file -L "$bb" | grep -q 'statically linked' || die "$bb is not static: install busybox-static"

root=$out.d
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root}
cp "$bb" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list-full); do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
install -m 0755 "$init" "$root/init"
for prog in "$@"; do
	case $prog in
	/*=*)
		mkdir -p "$root$(dirname "${prog%%=*}")"
		install -m 0644 "${prog#*=}" "$root${prog%%=*}" ;;
	*) install -m 0755 "$prog" "$root/bin/$(basename "$prog")" ;;
	esac
done
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"

(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -9 >"$out.tmp"
mv "$out.tmp" "$out"
rm -rf "$root"
