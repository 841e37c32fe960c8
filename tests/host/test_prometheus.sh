#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# spanmon's /metrics, scraped by a real Prometheus, answers every dashboard
# query.  spanmon serve runs on a loopback port with its maps pinned in a
# directory of its own; spanmon feed drives the same BPF programs with
# synthetic events (BPF_PROG_TEST_RUN) into those pinned maps; Prometheus
# scrapes every second; then every PromQL expression of every panel of
# dashboards/*.json must return data through /api/v1/query, with at least
# one number in it.  Everything started here is stopped on exit.
#
# Usage: test_prometheus.sh BIN_DIR RESULTS_FILE

top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:?usage: test_prometheus.sh BIN_DIR RESULTS}
results=${2:?}
failed=0
tmp=$(mktemp -d)
pin=/sys/fs/bpf/spanmon-test-$$
pids=()

record() { printf '%s\thost:prometheus:%s\t%s\n' "$1" "$2" "$3" >>"$results"; [ "$1" = FAIL ] && failed=1; return 0; }

cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	[ -x "$bin/spanmon" ] && "$bin/spanmon" --reset --pin-dir "$pin" 2>/dev/null
	[ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" >&2 || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [ "$(id -u)" != 0 ]; then
	record SKIP setup "needs root to load BPF"
	exit 0
fi
for tool in prometheus curl jq; do
	command -v $tool >/dev/null || { record FAIL setup "$tool is not installed (scripts/setup-deps.sh host)"; exit 1; }
done

# A free loopback port: nothing answers on it.
free_port() {
	local p
	for p in $(shuf -i 20000-60000 -n 50); do
		(exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }
	done
	return 1
}
# wait_for SECONDS CMD...: retry CMD every 0.2 s.
wait_for() {
	local n=$(($1 * 5)); shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1)); [ $n -gt 0 ] || return 1
		sleep 0.2
	done
}
promql() { curl -sf --max-time 5 "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1"; }
# has_data QUERY: success, a non-empty result, and at least one number.
# (jq 1.6 -e succeeds on empty input: an unreachable server must not.)
has_data() {
	local out
	out=$(promql "$1") && [ -n "$out" ] || return 1
	jq -e '.status == "success" and (.data.result | length > 0) and
		([.data.result[].value[1] | select(. != "NaN")] | length > 0)' \
		>/dev/null <<<"$out"
}

spanmon_port=$(free_port) && prom_port=$(free_port) || { record FAIL setup "no free port"; exit 1; }

"$bin/spanmon" serve --pin-dir "$pin" --listen "127.0.0.1:$spanmon_port" 2>"$tmp/serve.log" &
pids+=($!)
if ! wait_for 10 curl -sf "http://127.0.0.1:$spanmon_port/metrics"; then
	record FAIL serve "spanmon serve did not answer: $(tail -3 "$tmp/serve.log" | tr '\n' ' ')"
	exit 1
fi
record PASS serve ""

if ! "$bin/spanmon" feed --pin-dir "$pin" -n 200 2>"$tmp/feed.log"; then
	record FAIL feed "$(tail -3 "$tmp/feed.log" | tr '\n' ' ')"
	exit 1
fi
# What was fed went through the pinned maps that serve reads.
if curl -sf "http://127.0.0.1:$spanmon_port/metrics" |
	grep -q '^span_kvm_exit_handling_seconds_count{vm="spanmon-0",vcpu="0",reason="unknown"} 800$'; then
	record PASS feed_reaches_metrics ""
else
	record FAIL feed_reaches_metrics "no exit count of 800 (200 rounds of 4) for vm spanmon-0 in /metrics"
fi

cat >"$tmp/prometheus.yml" <<Y
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: spanmon
    static_configs:
      - targets: ['127.0.0.1:$spanmon_port']
Y
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
	--web.listen-address="127.0.0.1:$prom_port" >"$tmp/prometheus.log" 2>&1 &
pids+=($!)
if ! wait_for 60 has_data 'up{job="spanmon"} == 1'; then
	record FAIL scrape "Prometheus never scraped spanmon: $(tail -2 "$tmp/prometheus.log" | tr '\n' ' ')"
	exit 1
fi
record PASS scrape ""

# Rates need samples that differ: the same process (so the same VM label)
# feeds 20 rounds a second from now on.
"$bin/spanmon" feed --pin-dir "$pin" -n 20 -i 1 2>>"$tmp/feed.log" &
pids+=($!)
if ! wait_for 30 has_data 'rate(span_kvm_exit_handling_seconds_count{vm="spanmon-1"}[1m]) > 0'; then
	record FAIL rate "exit rate never rose above 0: $(tail -2 "$tmp/feed.log" | tr '\n' ' ')"
fi

shopt -s nullglob
dashboards=("$top"/dashboards/*.json)
[ ${#dashboards[@]} -gt 0 ] || record FAIL dashboards "no dashboards/*.json"
for d in "${dashboards[@]}"; do
	uid=$(jq -r .uid "$d")
	# Panels, flattened out of rows; one line per expression:
	# ID/REFID<TAB>TITLE<TAB>EXPR.
	exprs=$(jq -r '[.panels[] | ., (.panels // [])[]] | .[] | select(.targets) |
		.id as $id | .title as $t | .targets[] | select(.expr) |
		"\($id)/\(.refId)\t\($t)\t\(.expr)"' "$d")
	[ -n "$exprs" ] || record FAIL "$uid" "no panel expressions"
	while IFS=$'\t' read -r id title expr; do
		# Dashboard variables: every VM; Grafana's rate interval: 1m.
		q=${expr//'$vm'/.*}
		q=${q//'$__rate_interval'/1m}
		if has_data "$q"; then
			record PASS "$uid:$id" "$title"
		else
			record FAIL "$uid:$id" "$title: no data for $q: $(promql "$q" | head -c 300)"
		fi
	done <<<"$exprs"
done
exit $failed
