#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Command-line contract of span's programs, on the host: a bad argument gets
# a one-line message on stderr and exit status 2; --help/-h succeed and end
# with EXAMPLES.  These run before any BPF or KVM is touched, so they need
# neither.
#
# Usage: test_cli.sh BIN_DIR RESULTS_FILE

bin=${1:?usage: test_cli.sh BIN_DIR RESULTS}
results=${2:?}
failed=0

record() { printf '%s\thost:cli:%s\t%s\n' "$1" "$2" "$3" >>"$results"; [ "$1" = PASS ] || failed=1; }

# bad_arg NAME CMD...: exit status 2 and exactly one line on stderr.
bad_arg() {
	local name=$1; shift
	local err rc lines
	err=$("$@" 2>&1 >/dev/null); rc=$?
	lines=$(printf '%s\n' "$err" | grep -c .)
	if [ $rc = 2 ] && [ "$lines" = 1 ]; then
		record PASS "$name" ""
	else
		record FAIL "$name" "'$*': exit $rc, $lines stderr lines: $err"
	fi
}

# help NAME CMD...: exit 0, EXAMPLES block present.
help() {
	local name=$1; shift
	local out rc
	out=$("$@" 2>&1); rc=$?
	if [ $rc = 0 ] && printf '%s\n' "$out" | grep -q '^EXAMPLES:'; then
		record PASS "$name" ""
	else
		record FAIL "$name" "'$*': exit $rc, no EXAMPLES block"
	fi
}

bad_arg kvmloop_n_zero "$bin/kvmloop" -n 0
bad_arg kvmloop_n_junk "$bin/kvmloop" -n 12abc
bad_arg kvmloop_n_huge "$bin/kvmloop" -n 99999999999
bad_arg kvmloop_unknown_opt "$bin/kvmloop" -x
bad_arg kvmloop_extra_arg "$bin/kvmloop" extra
help kvmloop_help "$bin/kvmloop" -h

bad_arg kvmexits_bad_pid "$bin/kvmexits" -p abc
bad_arg kvmexits_pid_zero "$bin/kvmexits" -p 0
bad_arg kvmexits_bad_duration "$bin/kvmexits" -d -5
bad_arg kvmexits_pid_and_cmd "$bin/kvmexits" -p 1 -- true
bad_arg kvmexits_unknown_opt "$bin/kvmexits" --frobnicate
help kvmexits_help "$bin/kvmexits" --help

bad_arg spanmon_bad_interval "$bin/spanmon" top -i 0
bad_arg spanmon_junk_interval "$bin/spanmon" json -i 1x
bad_arg spanmon_bad_count "$bin/spanmon" json -n -3
bad_arg spanmon_unknown_cmd "$bin/spanmon" frobnicate
bad_arg spanmon_unknown_opt "$bin/spanmon" top --frobnicate
bad_arg spanmon_missing_arg "$bin/spanmon" serve --listen
bad_arg spanmon_listen_no_port "$bin/spanmon" serve --listen 127.0.0.1
bad_arg spanmon_listen_bad_port "$bin/spanmon" serve --listen 127.0.0.1:70000
bad_arg spanmon_listen_bad_host "$bin/spanmon" serve --listen nohost:9464
bad_arg spanmon_opt_wrong_cmd "$bin/spanmon" json --listen 127.0.0.1:9464
bad_arg spanmon_relative_pin_dir "$bin/spanmon" --pin-dir rel top
bad_arg spanmon_extra_arg "$bin/spanmon" top extra
bad_arg spanmon_profile_zero_duration "$bin/spanmon" profile -d 0
bad_arg spanmon_profile_junk_duration "$bin/spanmon" profile -d 5s
bad_arg spanmon_profile_bad_freq "$bin/spanmon" profile -F 0
bad_arg spanmon_profile_huge_freq "$bin/spanmon" profile --freq 100000
bad_arg spanmon_profile_missing_folded "$bin/spanmon" profile --folded
bad_arg spanmon_profile_empty_folded "$bin/spanmon" profile --folded ''
bad_arg spanmon_profile_opt_wrong_cmd "$bin/spanmon" top -F 99
bad_arg spanmon_profile_reset "$bin/spanmon" profile --reset
bad_arg spanmon_profile_extra_arg "$bin/spanmon" profile extra
bad_arg spanmon_bad_pid "$bin/spanmon" top -p abc
bad_arg spanmon_pid_zero "$bin/spanmon" json -p 0
bad_arg spanmon_pid_huge "$bin/spanmon" top --pid 4294967296
bad_arg spanmon_empty_vm "$bin/spanmon" top --vm ''
bad_arg spanmon_pid_and_vm "$bin/spanmon" top -p 1 --vm qemu-0
bad_arg spanmon_pid_wrong_cmd "$bin/spanmon" serve -p 1
bad_arg spanmon_bad_duration "$bin/spanmon" top -d 0
bad_arg spanmon_junk_duration "$bin/spanmon" json -d 1m
bad_arg spanmon_cmd_missing "$bin/spanmon" top --
bad_arg spanmon_cmd_wrong_cmd "$bin/spanmon" serve -- true
bad_arg spanmon_cmd_and_pid "$bin/spanmon" top -p 1 -- true
bad_arg spanmon_cmd_and_duration "$bin/spanmon" json -d 5 -- true
bad_arg spanmon_cmd_and_vm "$bin/spanmon" top --vm qemu-0 -- true
help spanmon_help "$bin/spanmon" --help
help spanmon_help_short "$bin/spanmon" top -h

exit $failed
