#!/usr/bin/env bash
# The saga's latency phase by phase, from the tables themselves, against the running stack: wrk
# sends at RATE/s for SECONDS, then every message sent meanwhile that reached UNREAD is joined
# with counters' inbox by its event id. Prints the count and p50/p99 in ms of: leg1, the send's
# commit time (created_at) -> counters' transaction (inbox.received_at); leg2, counters'
# transaction -> dialogs' reply transaction (state_changed_at); total. The figures of items 24
# and 26 of docs/performance.md.
#
#   BENCH_PAIRS=results/bench_<UTC>/pairs.txt bench/saga_phases.sh 2386 10
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bench/saga_phases.sh RATE [SECONDS]" >&2; exit 2; }
rate="$1" seconds="${2:-10}"
: "${BENCH_PAIRS:=$(ls -td results/bench_*/ | head -1)pairs.txt}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
start="$(date -u +"%Y-%m-%d %H:%M:%S.%N+00")"
BENCH_PAIRS="$BENCH_PAIRS" BENCH_RATE="$rate" wrk -t2 -c16 -d"${seconds}s" -s bench/send.lua \
    "http://127.0.0.1:${BACKEND_PORT:-8080}" | grep Requests/sec
sleep 2  # the last sagas finish
scripts/stack psql dialogs -tAc "\copy (SELECT event_id, extract(epoch FROM created_at), extract(epoch FROM state_changed_at) FROM messages WHERE created_at >= '$start' AND state = 'UNREAD') TO '$work/d.csv' csv" >/dev/null
scripts/stack psql counters -tAc "\copy (SELECT event_id, extract(epoch FROM received_at) FROM inbox WHERE received_at >= '$start') TO '$work/c.csv' csv" >/dev/null
/usr/bin/python3 - "$work" <<'PY'
import csv, sys
work = sys.argv[1]
sent = {r[0]: (float(r[1]), float(r[2])) for r in csv.reader(open(work + "/d.csv"))}
counted = {r[0]: float(r[1]) for r in csv.reader(open(work + "/c.csv"))}
legs = {"leg1": [], "leg2": [], "total": []}
for event, (created, replied) in sent.items():
    if event in counted:
        legs["leg1"].append((counted[event] - created) * 1000)
        legs["leg2"].append((replied - counted[event]) * 1000)
        legs["total"].append((replied - created) * 1000)
def pct(xs, p):
    xs = sorted(xs)
    return round(xs[int(p * (len(xs) - 1))], 1) if xs else None
print(len(legs["total"]), " ".join("%s p50 %s p99 %s;" % (k, pct(v, .5), pct(v, .99)) for k, v in legs.items()))
PY
