#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel build's contract (scripts/kernel-build.sh), after a real build:
#  - unchanged inputs are a cache hit: nothing is rebuilt;
#  - a patch in kvm-patches/series that does not apply stops the build with
#    a message naming it, and leaves the cached kernel alone.
# Runs on a scratch copy of the repository (its own kvm-patches/), against
# the same $SPAN_CACHE; the source tree is left at base + the real series.
#
# Usage: test_series.sh RESULTS_FILE

top=$(cd "$(dirname "$0")/../.." && pwd)
results=${1:?usage: test_series.sh RESULTS}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
record() { printf '%s\tkernel:%s\t%s\n' "$1" "$2" "$3" >>"$results"; [ "$1" = PASS ] || failed=1; }

out=$("$top/scripts/kernel-build.sh" "$tmp/k1" 2>&1); rc=$?
if [ $rc = 0 ] && echo "$out" | grep -q 'kernel: cache hit' && [ -f "$tmp/k1/bzImage" ]; then
	record PASS cache_hit ""
else
	record FAIL cache_hit "second build of unchanged inputs was not a cache hit (exit $rc): $(echo "$out" | tail -3 | tr '\n' '|')"
fi

mkdir -p "$tmp/repo"
cp -a "$top/scripts" "$top/kvm-patches" "$tmp/repo/"
cat >"$tmp/repo/kvm-patches/9999-does-not-apply.patch" <<'P'
From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
From: span developers <span@localhost>
Date: Sun, 22 Nov 2026 12:00:00 +0000
Subject: [PATCH] KVM: x86: A patch that does not apply

Signed-off-by: span developers <span@localhost>
---
 arch/x86/kvm/x86.c | 1 +
 1 file changed, 1 insertion(+)

diff --git a/arch/x86/kvm/x86.c b/arch/x86/kvm/x86.c
--- a/arch/x86/kvm/x86.c
+++ b/arch/x86/kvm/x86.c
@@ -1,3 +1,4 @@
 this line is not in x86.c
+so this hunk cannot apply
 nor is this one
 or this
P
echo 9999-does-not-apply.patch >>"$tmp/repo/kvm-patches/series"
out=$("$tmp/repo/scripts/kernel-build.sh" "$tmp/k2" 2>&1); rc=$?
if [ $rc != 0 ] && echo "$out" | grep -q 'error: kvm-patches/9999-does-not-apply.patch does not apply' &&
	[ ! -e "$tmp/k2" ]; then
	record PASS bad_patch_named ""
else
	record FAIL bad_patch_named "exit $rc, output: $(echo "$out" | tail -3 | tr '\n' '|')"
fi

exit $failed
