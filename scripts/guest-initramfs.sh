#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The span guest's initramfs: static busybox, controller/guest/init and the
# workload (a static binary).  Nothing in it knows about span.
#
# Usage: scripts/guest-initramfs.sh OUT.cpio.gz WORKLOAD_BIN

set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"

out=${1:?usage: guest-initramfs.sh OUT WORKLOAD}
workload=${2:?}
bb=/bin/busybox
file -L "$bb" | grep -q 'statically linked' || die "$bb is not static: install busybox-static"

root=$out.d
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root}
cp "$bb" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list-full); do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
install -m 0755 "$top/controller/guest/init" "$root/init"
install -m 0755 "$workload" "$root/bin/workload"
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"

(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -9 >"$out.tmp"
mv "$out.tmp" "$out"
rm -rf "$root"
