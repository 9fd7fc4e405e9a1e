#!/usr/bin/env bash
# One wrk run against the running stack, and each component's CPU per request over it: the
# quick check behind several figures in docs/performance.md (items 14-17, 20), between builds
# or settings restarted in place. CPU is utime+stime from /proc; PostgreSQL's is the postmaster's
# whole process tree (its backends live as long as the services' pooled connections).
#
#   BENCH_PAIRS=results/bench_<UTC>/reads_pairs.txt bench/cpu_per_request.sh bench/list.lua 5
#   BENCH_TOKEN=<a reader's token> bench/cpu_per_request.sh bench/feed.lua 5
#
# Prints wrk's req/s and p99, then µs of CPU per request for backend, dialogs, counters, redis,
# rabbitmq and postgres. Lua scripts and the variables they read: bench/*.lua.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: bench/cpu_per_request.sh LUA SECONDS" >&2; exit 2; }
lua="$1" seconds="$2"
ticks_per_second=$(getconf CLK_TCK)

ticks() {  # utime+stime of these pids, in clock ticks (fields after the ")" that ends comm)
    local pid total=0
    for pid in "$@"; do
        [ -r "/proc/$pid/stat" ] || continue
        total=$((total + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
    done
    echo "$total"
}

snapshot() {
    local name pid
    for name in backend dialogs counters redis rabbitmq; do
        pid=$(scripts/stack pid "$name" 2>/dev/null) || { echo "$name 0"; continue; }
        echo "$name $(ticks "$pid")"
    done
    pid=$(scripts/stack pid postgres)
    # shellcheck disable=SC2046
    echo "postgres $(ticks "$pid" $(pgrep -P "$pid"))"
}

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
snapshot >"$out/before"
BENCH_THREADS=2 wrk -t2 -c16 -d"${seconds}s" --latency -s "$lua" "http://127.0.0.1:${BACKEND_PORT:-8080}" >"$out/wrk"
snapshot >"$out/after"
requests=$(awk '/requests in/ {print $1}' "$out/wrk")
echo "$(grep Requests/sec "$out/wrk")  p99 $(awk '$1 == "99%" {print $2}' "$out/wrk")"
join "$out/before" "$out/after" |
    awk -v r="$requests" -v t="$ticks_per_second" '{printf "%s %.1f us/req  ", $1, ($3 - $2) * 1e6 / t / r} END {print ""}'
