# SPDX-License-Identifier: GPL-2.0
# Sourced by the lab scripts that keep spanmon attached while workloads run
# (". spanmon_lib.sh": found in PATH, /span/tests).
#
# spanmon_bg LOG [TOP_ARGS...]: start `spanmon top TOP_ARGS` in the
# background, its output in LOG, and return once it has shown its first
# view, which it does only once attached (or reading the collector's
# maps): a fixed sleep raced with loading under TCG, where spanmon takes
# seconds.  Sets spanmon_pid; fails if spanmon dies or shows nothing in
# 120 s.
spanmon_bg() {
	spanmon_log=$1
	shift
	spanmon top "$@" >"$spanmon_log" 2>&1 &
	spanmon_pid=$!
	spanmon_wait=0
	while ! grep -q '^spanmon ' "$spanmon_log"; do
		kill -0 $spanmon_pid 2>/dev/null || return 1
		spanmon_wait=$((spanmon_wait + 1))
		[ $spanmon_wait -le 120 ] || return 1
		sleep 1
	done
}
