#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run a lab list N times in a row, each run a fresh boot with its results
# under its own name (RESULTS/NAME-runK.results, logs in RESULTS/NAME-runK/),
# then print, per test, how many runs passed, failed, were quarantined or
# skipped, the first failing (and first quarantined) run's detail and log,
# and each run's outcome with its kernel health.  A flake is a failure: exits
# 1 if any test failed in any run (kernel health and an unfinished run
# included); quarantined known flakes (tests/lab/quarantine.list) are shown
# and counted apart.
#
# Usage: scripts/lab-repeat.sh [-n N] [--only A,B] [--name NAME] [--results DIR]
#                              [--smp N] [--mem SIZE] [--timeout S] [--quarantine F] LIST
#        scripts/lab-repeat.sh --table RESULTS...   the table of runs already made
# -n N (default 10); --name: default LIST's basename without .list; the other
# options go to scripts/lab-run.sh as they are.  Each run's runner output is
# in RESULTS/NAME-runK.out.  Ctrl-C stops: the run it cut short is not
# counted, the table of the runs made is printed, and the exit status fails.  Environment: O (build dir, default out);
# LAB_RUN replaces scripts/lab-run.sh (for the host tests).

set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"

# ---- the table ---------------------------------------------------------------------
# table RESULTS...: one file per run, in order.  Exit 1 if anything failed.
table() {
	awk -v nruns=$# '
	function shortname(n) { sub(/^lab:/, "", n); return n }
	function runname(f) { sub(/.*\//, "", f); sub(/\.results$/, "", f); return f }
	# Where to look: the detail names a log or console, else the test log if
	# there is one, else the run console.
	function where(f, t, d,    dir) {
		if (d ~ /\((log|console): /) return d
		dir = f; sub(/\.results$/, "", dir)
		if (system("test -e \"" dir "/" t ".log\"") == 0) return d " (log: " dir "/" t ".log)"
		return d " (console: " dir "/console.log)"
	}
	FNR == 1 { run++; file[run] = FILENAME; rname[run] = runname(FILENAME) }
	{
		split($0, f, "\t"); st = f[1]; t = shortname(f[2]); d = f[3]
		if (st !~ /^(PASS|FAIL|SKIP|QUARANTINED)$/) {
			d = "not a result line: " $0; st = "FAIL"; t = "(bad line)"
		}
		if (!(t in seen)) { order[++ntests] = t }
		seen[t] = 1
		if ((run, t) in got) next            # one result per test and run
		got[run, t] = st
		n[t, st]++; rn[run, st]++; cnt[t]++
		if (st == "FAIL" && !((t, "firstfail") in first))
			first[t, "firstfail"] = rname[run] ": " where(file[run], t, d)
		if (st == "QUARANTINED" && !((t, "firstquar") in first))
			first[t, "firstquar"] = rname[run] ": " where(file[run], t, d)
		if (t == "kernel-health") health[run] = st (st == "PASS" ? "" : ": " d)
		if (t == "run-complete") { complete[run] = d; finished[run] = st == "PASS" }
	}
	END {
		# A test missing from a run that did not finish (its runner died
		# early) failed in it; what only a broken run reports (lab:run) is
		# not missing from the others.
		for (r = 1; r <= nruns; r++)
			for (i = 1; i <= ntests; i++) {
				t = order[i]
				if (((r, t) in got) || finished[r]) continue
				got[r, t] = "FAIL"; n[t, "FAIL"]++; rn[r, "FAIL"]++; cnt[t]++
				if (!((t, "firstfail") in first))
					first[t, "firstfail"] = rname[r] ": no result in this run (" file[r] ")"
			}
		w = 4
		for (i = 1; i <= ntests; i++) if (length(order[i]) > w) w = length(order[i])
		printf "\nlab-repeat: %d run%s (%s .. %s)\n\n", nruns, nruns == 1 ? "" : "s", file[1], file[nruns]
		printf "%-" w "s  %11s  %6s  %11s  %7s\n", "test", "passed/runs", "failed", "quarantined", "skipped"
		for (i = 1; i <= ntests; i++) {
			t = order[i]
			printf "%-" w "s  %11s  %6d  %11d  %7d\n", t, (n[t, "PASS"] + 0) "/" cnt[t],
				n[t, "FAIL"], n[t, "QUARANTINED"], n[t, "SKIP"]
			if (n[t, "FAIL"]) nfailing++
			if (n[t, "QUARANTINED"]) nquar++
			tot["PASS"] += n[t, "PASS"]; tot["FAIL"] += n[t, "FAIL"]
			tot["SKIP"] += n[t, "SKIP"]; tot["QUARANTINED"] += n[t, "QUARANTINED"]
		}
		printf "\nruns:\n"
		for (r = 1; r <= nruns; r++)
			printf "  %s  %s  %d passed, %d failed, %d quarantined, %d skipped; kernel-health %s; %s\n",
				rname[r], rn[r, "FAIL"] ? "FAIL" : "ok  ", rn[r, "PASS"], rn[r, "FAIL"],
				rn[r, "QUARANTINED"], rn[r, "SKIP"], (r in health) ? health[r] : "no result",
				(r in complete) ? complete[r] : "did not complete"
		if (nfailing) {
			printf "\nfailed in some run (first failing run):\n"
			for (i = 1; i <= ntests; i++) if (n[order[i], "FAIL"])
				printf "  %s: %d/%d failed; %s\n", order[i], n[order[i], "FAIL"], cnt[order[i]],
					first[order[i], "firstfail"]
		}
		if (nquar) {
			printf "\nquarantined in some run (known flakes of the quarantine list; first):\n"
			for (i = 1; i <= ntests; i++) if (n[order[i], "QUARANTINED"])
				printf "  %s: %d/%d quarantined; %s\n", order[i], n[order[i], "QUARANTINED"],
					cnt[order[i]], first[order[i], "firstquar"]
		}
		printf "\nlab-repeat: %d run%s, %d tests: %d failed in some run, %d quarantined in some run;" \
			" %d passed, %d failed (%d skipped, %d quarantined)\n",
			nruns, nruns == 1 ? "" : "s", ntests, nfailing, nquar, tot["PASS"], tot["FAIL"], tot["SKIP"], tot["QUARANTINED"]
		exit nfailing ? 1 : 0
	}' "$@"
}

if [ "${1:-}" = --table ]; then
	shift
	[ $# -gt 0 ] || die "lab-repeat.sh --table: no results given"
	for f in "$@"; do [ -f "$f" ] || die "lab-repeat.sh: no results file $f"; done
	table "$@"
	exit
fi

# ---- the runs ----------------------------------------------------------------------
O=${O:-$top/out}
export O
runner=${LAB_RUN:-$top/scripts/lab-run.sh}
n=10 name='' results=$O/lab list=''
pass=()
while [ $# -gt 0 ]; do
	case $1 in
	-n) n=$2; shift ;;
	--name) name=$2; shift ;;
	--results) results=$2; shift ;;
	--only | --smp | --mem | --timeout | --quarantine) pass+=("$1" "$2"); shift ;;
	-*) die "lab-repeat.sh: unknown option $1" ;;
	*) list=$1 ;;
	esac
	shift
done
[[ $n =~ ^[1-9][0-9]*$ ]] || die "lab-repeat.sh: -n wants a positive number, not '$n'"
[ -n "$list" ] && [ -f "$list" ] || die "lab-repeat.sh: no test list given (or not found: $list)"
name=${name:-$(basename "$list" .list)}
mkdir -p "$results"
width=${#n}; [ "$width" -ge 2 ] || width=2

# What an earlier, longer repeat of the same name left would only confuse.
rm -rf "$results/$name-run"[0-9]*

stop=0
trap 'stop=1' INT
files=()
t0=$SECONDS
for ((i = 1; i <= n; i++)); do
	rname=$name-run$(printf "%0${width}d" "$i")
	info "lab-repeat: run $i of $n ($rname)"
	"$runner" --quiet --results "$results" --name "$rname" "${pass[@]}" "$list" \
		>"$results/$rname.out" 2>&1
	rc=$?
	# The initramfs is rebuilt for each run: do not keep N copies.
	rm -rf "$O/lab/$rname.cpio.gz" "$O/lab/$rname.cpio.gz.d"
	r=$results/$rname.results
	# A run cut short by Ctrl-C says nothing about the tests: not counted.
	if [ $stop = 1 ] && [ $rc != 0 ]; then
		warn "lab-repeat: $rname interrupted (runner status $rc): not counted"
		rm -rf "$r" "${r%.results}"
		break
	fi
	if [ ! -s "$r" ]; then
		printf 'FAIL\tlab:run\tthe runner exited %s without results (log: %s)\n' \
			"$rc" "$results/$rname.out" >"$r"
	fi
	files+=("$r")
	info "lab-repeat: $rname: $(grep -c '^PASS' "$r") passed, $(grep -c '^FAIL' "$r") failed," \
		"$(grep -c '^QUARANTINED' "$r") quarantined$(grep -q $'^FAIL\tlab:kernel-health' "$r" &&
			echo ', KERNEL REPORT')"
	[ $stop = 0 ] || { warn "lab-repeat: interrupted after $i of $n runs"; break; }
done
trap - INT
info "lab-repeat: ${#files[@]} of $n runs made in $((SECONDS - t0)) s"
[ ${#files[@]} -gt 0 ] || exit 1
table "${files[@]}"
rc=$?
[ ${#files[@]} = "$n" ] || rc=1
exit $rc
