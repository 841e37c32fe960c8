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

# exits STATUS NAME CMD...: exit STATUS and exactly one line on stderr.
exits() {
	local want=$1 name=$2; shift 2
	local err rc lines
	err=$("$@" 2>&1 >/dev/null); rc=$?
	lines=$(printf '%s\n' "$err" | grep -c .)
	if [ $rc = "$want" ] && [ "$lines" = 1 ]; then
		record PASS "$name" ""
	else
		record FAIL "$name" "'$*': exit $rc, $lines stderr lines: $err"
	fi
}
# bad_arg NAME CMD...: a bad command line (2); not_found: no such guest (1).
bad_arg() { exits 2 "$@"; }
not_found() { exits 1 "$@"; }

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

# spanctl: no KVM needed for any of these (SPAN_RUN_DIR: an empty dir).
run_dir=$(mktemp -d)
export SPAN_RUN_DIR=$run_dir
bad_arg spanctl_no_command "$bin/spanctl"
bad_arg spanctl_unknown_command "$bin/spanctl" frobnicate
bad_arg spanctl_run_no_name "$bin/spanctl" run --kernel bz
bad_arg spanctl_run_no_kernel "$bin/spanctl" run g1
bad_arg spanctl_run_bad_mem "$bin/spanctl" run g1 --kernel bz --mem 12x
bad_arg spanctl_run_huge_mem "$bin/spanctl" run g1 --kernel bz --mem 8G
bad_arg spanctl_run_tiny_mem "$bin/spanctl" run g1 --kernel bz --mem 1M
bad_arg spanctl_run_bad_cpus "$bin/spanctl" run g1 --kernel bz --cpus 0
bad_arg spanctl_run_many_cpus "$bin/spanctl" run g1 --kernel bz --cpus 99
bad_arg spanctl_run_bad_name "$bin/spanctl" run ../etc --kernel bz
bad_arg spanctl_run_long_name "$bin/spanctl" run aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa --kernel bz
bad_arg spanctl_run_two_names "$bin/spanctl" run g1 g2 --kernel bz
bad_arg spanctl_run_unknown_opt "$bin/spanctl" run g1 --kernel bz --frob
bad_arg spanctl_run_missing_value "$bin/spanctl" run g1 --kernel
bad_arg spanctl_start_no_kernel "$bin/spanctl" start g1
bad_arg spanctl_status_no_guest "$bin/spanctl" status
bad_arg spanctl_status_extra "$bin/spanctl" status g1 g2
bad_arg spanctl_status_unknown_opt "$bin/spanctl" status g1 --yaml
bad_arg spanctl_console_bad_name "$bin/spanctl" console 'a b'
bad_arg spanctl_stop_bad_timeout "$bin/spanctl" stop g1 --timeout 0
bad_arg spanctl_list_extra "$bin/spanctl" list g1
bad_arg spanctl_fv_no_subcommand "$bin/spanctl" fv
bad_arg spanctl_fv_bad_subcommand "$bin/spanctl" fv restart g1 scan
bad_arg spanctl_fv_stop_one_name "$bin/spanctl" fv stop g1
bad_arg spanctl_fv_start_no_kernel "$bin/spanctl" fv start g1 scan --initrd x
bad_arg spanctl_fv_start_one_name "$bin/spanctl" fv start g1 --kernel x --initrd y
bad_arg spanctl_fv_start_bad_name "$bin/spanctl" fv start g1 'a/b' --kernel x --initrd y
bad_arg spanctl_fv_start_bad_mem "$bin/spanctl" fv start g1 scan --kernel x --initrd y --mem 0
bad_arg spanctl_attach_one_name "$bin/spanctl" attach g1
bad_arg spanctl_attach_unknown_opt "$bin/spanctl" attach g1 scan --writable
bad_arg spanctl_detach_readonly "$bin/spanctl" detach g1 scan --readonly
bad_arg spanctl_detach_extra "$bin/spanctl" detach g1 scan more
bad_arg spanctl_filter_no_subcommand "$bin/spanctl" filter
bad_arg spanctl_filter_bad_subcommand "$bin/spanctl" filter reload g1 scan x.bpf.o
bad_arg spanctl_filter_load_no_file "$bin/spanctl" filter load g1 scan
bad_arg spanctl_filter_load_extra "$bin/spanctl" filter load g1 scan x.bpf.o y.bpf.o
bad_arg spanctl_filter_load_bad_name "$bin/spanctl" filter load g1 'a/b' x.bpf.o
bad_arg spanctl_filter_load_unknown_opt "$bin/spanctl" filter load g1 scan x.bpf.o --force
bad_arg spanctl_filter_unload_one_name "$bin/spanctl" filter unload g1
bad_arg spanctl_filter_unload_extra "$bin/spanctl" filter unload g1 scan more
bad_arg spanctl_filter_list_two "$bin/spanctl" filter list g1 g2
bad_arg spanctl_filter_list_bad_name "$bin/spanctl" filter list '../g1'
bad_arg spanctl_pause_no_guest "$bin/spanctl" pause
bad_arg spanctl_pause_extra "$bin/spanctl" pause g1 g2
bad_arg spanctl_resume_bad_name "$bin/spanctl" resume 'a/b'
help spanctl_help "$bin/spanctl" --help
help spanctl_run_help "$bin/spanctl" run --help
help spanctl_start_help "$bin/spanctl" start -h
help spanctl_console_help "$bin/spanctl" console --help
help spanctl_status_help "$bin/spanctl" status --help
help spanctl_list_help "$bin/spanctl" list --help
help spanctl_stop_help "$bin/spanctl" stop --help
help spanctl_fv_help "$bin/spanctl" fv start --help
help spanctl_attach_help "$bin/spanctl" attach --help
help spanctl_detach_help "$bin/spanctl" detach -h
help spanctl_filter_help "$bin/spanctl" filter --help
help spanctl_filter_load_help "$bin/spanctl" filter load --help
help spanctl_filter_list_help "$bin/spanctl" filter list -h
help spanctl_pause_help "$bin/spanctl" pause --help
help spanctl_resume_help "$bin/spanctl" resume -h
not_found spanctl_pause_unknown_guest "$bin/spanctl" pause nosuch
not_found spanctl_resume_unknown_guest "$bin/spanctl" resume nosuch
not_found spanctl_status_unknown_guest "$bin/spanctl" status nosuch
not_found spanctl_console_unknown_guest "$bin/spanctl" console nosuch
not_found spanctl_stop_unknown_guest "$bin/spanctl" stop nosuch
not_found spanctl_attach_unknown_guest "$bin/spanctl" attach nosuch scan
not_found spanctl_fv_stop_unknown_guest "$bin/spanctl" fv stop nosuch scan
not_found spanctl_detach_unknown_guest "$bin/spanctl" detach nosuch scan
not_found spanctl_filter_load_unknown_guest "$bin/spanctl" filter load nosuch scan "$bin/spanctl"
not_found spanctl_filter_load_missing_file "$bin/spanctl" filter load g1 scan "$run_dir/nonexistent.bpf.o"
not_found spanctl_filter_unload_unknown_guest "$bin/spanctl" filter unload nosuch scan
not_found spanctl_filter_list_unknown_guest "$bin/spanctl" filter list nosuch
not_found spanctl_fv_start_unknown_guest "$bin/spanctl" fv start nosuch scan \
	--kernel "$bin/spanctl" --initrd "$bin/spanctl"
not_found spanctl_fv_start_missing_kernel "$bin/spanctl" fv start g1 scan \
	--kernel "$run_dir/nonexistent" --initrd "$bin/spanctl"
# A bad image is refused before any VM exists: one line, exit 1.
printf 'not a kernel' >"$run_dir/junk"
not_found spanctl_run_not_a_kernel "$bin/spanctl" run g1 --kernel "$run_dir/junk"
not_found spanctl_run_missing_kernel "$bin/spanctl" run g1 --kernel "$run_dir/nonexistent"
not_found spanctl_start_not_a_kernel "$bin/spanctl" start g1 --kernel "$run_dir/junk"
# A socket whose controller died is no guest.
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind(sys.argv[1])" \
	"$run_dir/dead.sock"
not_found spanctl_status_dead_guest "$bin/spanctl" status dead
out=$("$bin/spanctl" list 2>&1); rc=$?
if [ $rc = 0 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ]; then
	record PASS spanctl_list_empty ""
else
	record FAIL spanctl_list_empty "exit $rc: $out"
fi
rm -rf "$run_dir"

# The introspection featurevisor (a static program for an L1, in guest/).
fvi=$bin/../guest/spanfv-introspect
bad_arg introspect_unknown_opt "$fvi" --frobnicate
bad_arg introspect_extra_arg "$fvi" extra
bad_arg introspect_missing_arg "$fvi" --btf
bad_arg introspect_bad_cr3 "$fvi" --image /dev/null --cr3 12abc
bad_arg introspect_image_without_cr3 "$fvi" --image /dev/null
bad_arg introspect_image_and_watch "$fvi" --image /dev/null --cr3 0x1000 --watch
not_found introspect_no_btf "$fvi" --btf /nonexistent --image /dev/null --cr3 0x1000
help introspect_help "$fvi" --help

exit $failed
