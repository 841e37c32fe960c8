# SPDX-License-Identifier: GPL-2.0
# Helpers the spanctl lab tests share (sourced, not run).  Callers set
# SPAN_RUN_DIR and log (the guest's console log) and may set fv_logs.
g=/span/guest
# noxsave: under QEMU TCG (7.2) the lab's KVM does not see its guest's
# XSETBV (CPUID 0xD's size stays at XCR0=1 after the guest enabled AVX), and
# Linux WARNs about the inconsistency; on hardware this is not needed.
append=noxsave

fail() {
	echo "FAIL: $*"
	# Prefixed: the guests' own reports are not the lab kernel's.
	for f in "$log" $fv_logs; do
		[ -f "$f" ] && { echo "--- $f (last 25 lines)"; tail -n 25 "$f" | sed 's/^/guest| /'; }
	done
	cat "$SPAN_RUN_DIR/g1.ctl.log" 2>/dev/null
	spanctl stop g1 >/dev/null 2>&1
	exit 1
}
# Hundredths of a second since the lab booted.
now() { sed 's/^\([0-9]*\)\.\([0-9]*\).*/\1\2/' /proc/uptime; }
# wait_for FILE PATTERN SECONDS
wait_for() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt $(($3 * 5)) ] && return 1
		sleep 0.2
	done
}
# The workload's last progress count on the guest's console, this boot.
progress() {
	sed -n -e 's/^span-guest: user space up.*/boot/p' \
		-e 's/.*workload: progress \([0-9]*\).*/\1/p' "$log" |
		awk '/boot/ { p = 0; next } { p = $1 } END { print p + 0 }'
}
# The guest keeps running: its progress grows within ten seconds.
expect_progress() {
	a=$(progress); i=0
	while [ "$(progress)" -le "$a" ]; do
		i=$((i + 1)); [ $i -gt 50 ] && fail "the guest stopped $1 (progress $a)"
		sleep 0.2
	done
	echo "guest progress $a -> $(progress) $1"
}
# expect_fail WHAT CMD...: exit status 1 and one line on stderr.
expect_fail() {
	what=$1; shift
	err=$("$@" 2>&1 >/dev/null); rc=$?
	[ $rc = 1 ] && [ "$(echo "$err" | wc -l)" = 1 ] || fail "$what: exit $rc: $err"
	echo "refused ($what): $err"
}
# fv_state NAME: "STATE ATTACHED" of g1's featurevisor NAME.
fv_state() {
	spanctl status g1 --json |
		jq -r ".featurevisors[] | select(.name == \"$1\") | \"\(.state) \(.attached)\""
}
# expect_fv_state NAME "STATE ATTACHED" SECONDS
expect_fv_state() {
	i=0
	while [ "$(fv_state "$1")" != "$2" ]; do
		i=$((i + 1))
		[ $i -gt $(($3 * 5)) ] && fail "$1: $(fv_state "$1"), wanted $2"
		sleep 0.2
	done
}
