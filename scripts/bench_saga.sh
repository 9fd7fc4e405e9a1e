#!/usr/bin/env bash
# SAGA throughput benchmark: send rate vs. saga completion rate (a benchmark, not a test).
#
#   make bench-saga [N=20000] [C=16] [USERS=50] [DURATION=seconds]
#
# 1. brings the stack up (scripts/stack up; `make bench-saga` builds first),
# 2. registers USERS pairs of users and logs them in (results/bench_pairs_<ts>.txt),
# 3. send:   wrk -t2 -cC POST /dialog/{recipient}/send until N responses (or for DURATION s),
#            saga send->UNREAD p50/p99 from the dialogs histogram deltas, outbox backlog when
#            the load stopped, seconds until `sagactl check` passes (drain),
# 4. list:   each recipient GET /dialog/{sender}/list (marks read), the read saga likewise,
# 5. unread: GET /counters/unread,
# 6. prints a table and writes results/bench_saga_<ts>.json.
#
# wrk runs on the same (2-core) machine as the whole stack: it competes with the services for CPU,
# so absolute numbers are a lower bound; the table shows machine CPU busy % and wrk's own share.
#
# Env: N, C, USERS, DURATION (seconds; when set, every phase runs for that long instead of N
# requests), THREADS (wrk -t, 2), READ_N (list requests, default N), UNREAD_N (default N),
# DRAIN_CAP (120 s), MAX_DURATION (cap of an N-mode phase, 300 s), BACKEND_URL,
# DIALOGS_METRICS / COUNTERS_METRICS (space-separated /metrics URLs; second copies included).
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_DIR"

N="${N:-20000}"
C="${C:-16}"
USERS="${USERS:-50}"
DURATION="${DURATION:-}"
THREADS="${THREADS:-2}"
READ_N="${READ_N:-$N}"
UNREAD_N="${UNREAD_N:-$N}"
DRAIN_CAP="${DRAIN_CAP:-120}"
MAX_DURATION="${MAX_DURATION:-300}"
BACKEND_URL="${BACKEND_URL:-http://127.0.0.1:8080}"
DIALOGS_METRICS="${DIALOGS_METRICS:-http://127.0.0.1:8081/metrics http://127.0.0.1:8181/metrics}"
COUNTERS_METRICS="${COUNTERS_METRICS:-http://127.0.0.1:8082/metrics http://127.0.0.1:8182/metrics}"
SAGACTL="${SAGACTL:-build/tools/sagactl/sagactl}"
PY=/usr/bin/python3
HELPER=bench/saga_metrics.py

TS="$(date -u +%Y%m%dT%H%M%SZ)"
OUT_DIR=results
WORK="$OUT_DIR/bench_saga_$TS"          # raw wrk output, metric snapshots
ROWS="$WORK/rows.jsonl"
PAIRS="$WORK/pairs.txt"
mkdir -p "$WORK"
: >"$ROWS"
read -r -a DIALOGS_URLS <<<"$DIALOGS_METRICS"
read -r -a COUNTERS_URLS <<<"$COUNTERS_METRICS"

say() { printf '%s\n' "bench-saga: $*" >&2; }
die() { say "error: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# Machine CPU: "busy total" jiffies from /proc/stat.
cpu_snap() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }
cpu_busy_pct() { # before-snapshot after-snapshot
    awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ");
        d = y[2] - x[2]; printf "%.0f", (d > 0 ? 100 * (y[1] - x[1]) / d : 0) }'
}
# One progress line, rewritten in place on a terminal (a fresh line every 5 s otherwise).
progress() {
    if [ -t 2 ]; then printf '\r\033[K%s' "$*" >&2; else printf '%s\n' "$*" >&2; fi
}
progress_end() { if [ -t 2 ]; then printf '\n' >&2; fi; }

command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
[ -x "$SAGACTL" ] || die "$SAGACTL is missing: run 'make build' (or 'make bench-saga')"
$PY -c 'import requests' 2>/dev/null || die "$PY needs python3-requests"

# ---------------------------------------------------------------------------
say "N=$N C=$C USERS=$USERS DURATION=${DURATION:-none} threads=$THREADS cores=$(nproc) -> $WORK"
say "starting the stack (scripts/stack up)"
scripts/stack up >"$WORK/stack_up.log" 2>&1 || { cat "$WORK/stack_up.log" >&2; die "scripts/stack up failed"; }

if ! "$SAGACTL" check >/dev/null 2>&1; then
    say "note: sagactl check fails before the run (sagas in flight or drift); waiting up to ${DRAIN_CAP}s"
fi
t0=$(now)
while ! "$SAGACTL" check >/dev/null 2>&1; do
    if awk -v e="$(elapsed "$t0")" -v c="$DRAIN_CAP" 'BEGIN { exit !(e >= c) }'; then
        say "warning: still not consistent before the run: $("$SAGACTL" check 2>&1 | head -c 300)"
        break
    fi
    sleep 0.5
done

say "registering $((USERS * 2)) users"
t0=$(now)
$PY "$HELPER" users --base "$BACKEND_URL" --users "$USERS" --out "$PAIRS"
say "users ready in $(elapsed "$t0")s ($(wc -l <"$PAIRS") pairs in $PAIRS)"

# run_wrk NAME LUA LIMIT PROGRESS_KIND -> $WORK/NAME.wrk, $WORK/NAME.time; sets WRK_JSON, CPU_PCT, WRK_CPU_PCT
run_wrk() {
    local name="$1" lua="$2" limit="$3" kind="$4" dur target
    if [ -n "$DURATION" ]; then dur="$DURATION"; limit=0; target="${DURATION}s"
    else dur="$MAX_DURATION"; target="$limit req"; fi
    local cpu0 cpu1 t0 pid
    cpu0=$(cpu_snap)
    t0=$(now)
    local done_dir="$WORK/$name.done"
    rm -rf "$done_dir"; mkdir -p "$done_dir"
    BENCH_PAIRS="$PAIRS" BENCH_LIMIT="$limit" BENCH_THREADS="$THREADS" BENCH_DONE_DIR="$done_dir" \
        /usr/bin/time -f '%e %U %S' -o "$WORK/$name.time" \
        wrk -t"$THREADS" -c"$C" -d"${dur}s" --timeout 10s --latency -s "$lua" "$BACKEND_URL" \
        >"$WORK/$name.wrk" 2>&1 &
    pid=$!
    local tick=0 line="" stopped=0
    while kill -0 "$pid" 2>/dev/null; do
        sleep 0.05
        # N mode: every thread has its share -> SIGINT makes wrk print its summary now
        # (its main thread would otherwise sleep for the whole -d).
        if [ "$limit" -gt 0 ] && [ "$stopped" = 0 ] &&
            [ "$(find "$done_dir" -name 'done.*' | wc -l)" -ge "$THREADS" ]; then
            pkill -INT -x -P "$pid" wrk 2>/dev/null || true
            stopped=1
        fi
        tick=$((tick + 1))
        if [ $((tick % 10)) = 0 ]; then
            line=$($PY "$HELPER" peek "$WORK/before_$kind.json" "${DIALOGS_URLS[@]}" 2>/dev/null || true)
            progress "[$name ${target}] $(elapsed "$t0")s  $line  load=$(cut -d' ' -f1 /proc/loadavg)"
        fi
    done
    progress_end
    wait "$pid" || { cat "$WORK/$name.wrk" >&2; die "wrk failed ($name)"; }
    cpu1=$(cpu_snap)
    CPU_PCT=$(cpu_busy_pct "$cpu0" "$cpu1")
    WRK_CPU_PCT=$(awk -v n="$(nproc)" '{ printf "%.0f", ($1 > 0 ? 100 * ($2 + $3) / $1 / n : 0) }' "$WORK/$name.time")
    WRK_JSON=$($PY "$HELPER" wrk "$WORK/$name.wrk") || { cat "$WORK/$name.wrk" >&2; die "wrk printed no summary"; }
}

# drain -> DRAIN_S (seconds until sagactl check passes; "" when it did not within DRAIN_CAP)
drain() {
    local name="$1" t0 ok=0 e=0
    t0=$(now)
    while :; do
        if "$SAGACTL" check >"$WORK/$name.check" 2>&1; then ok=1; break; fi
        e=$(elapsed "$t0")
        if awk -v e="$e" -v c="$DRAIN_CAP" 'BEGIN { exit !(e >= c) }'; then break; fi
        if [ -t 2 ]; then
            progress "[$name drain] ${e}s  $($PY "$HELPER" peek "$WORK/before_$name.json" "${DIALOGS_URLS[@]}" 2>/dev/null || true)"
        fi
        sleep 0.1
    done
    e=$(elapsed "$t0")
    progress_end
    if [ "$ok" = 1 ]; then DRAIN_S="$e"; say "$name: sagactl check passed after ${e}s"
    else DRAIN_S=""; say "warning: $name: sagactl check still failing after ${e}s: $(head -c 400 "$WORK/$name.check")"; fi
}

# row SCENARIO [HIST] [BACKLOG_D BACKLOG_C] -> one JSON line in $ROWS
row() {
    local scenario="$1" hist="${2:-}" bd="${3:-}" bc="${4:-}" saga='{}'
    if [ -n "$hist" ]; then
        saga=$($PY "$HELPER" hist "$WORK/before_$scenario.json" "$WORK/after_$scenario.json" "$hist")
    fi
    WRK_JSON="$WRK_JSON" SAGA="$saga" $PY - "$scenario" "$hist" "$bd" "$bc" "${DRAIN_S:-}" \
        "$CPU_PCT" "$WRK_CPU_PCT" >>"$ROWS" <<'PYEOF'
import json, os, sys
scenario, hist, bd, bc, drain, cpu, wcpu = sys.argv[1:]
w, s = json.loads(os.environ["WRK_JSON"]), json.loads(os.environ["SAGA"])
num = lambda v: float(v) if v not in ("", None) else None
row = {"scenario": scenario, "requests": w["requests"],
       "rps": round(w["requests"] / (w["duration_us"] / 1e6), 1) if w["duration_us"] else None,
       "p50_ms": w["p50_us"] / 1000, "p99_ms": w["p99_us"] / 1000, "max_ms": w["max_us"] / 1000,
       "non2xx": w["non2xx"],
       "socket_errors": w["connect_err"] + w["read_err"] + w["write_err"] + w["timeouts"],
       "duration_s": round(w["duration_us"] / 1e6, 2),
       "cpu_busy_pct": num(cpu), "wrk_cpu_pct": num(wcpu)}
if hist:
    row.update({"saga_histogram": hist, "saga_count": s.get("count"), "saga_p50_ms": s.get("p50_ms"),
                "saga_p99_ms": s.get("p99_ms"), "saga_mean_ms": s.get("mean_ms"),
                "saga_over_max_bucket": s.get("over_max_bucket"),
                "drain_s": num(drain), "drained": drain != "",
                "backlog_dialogs": num(bd), "backlog_counters": num(bc)})
print(json.dumps(row))
PYEOF
    local errs
    errs=$(printf '%s' "$WRK_JSON" | $PY -c 'import json,sys; w=json.load(sys.stdin); print(w["non2xx"], w["connect_err"]+w["read_err"]+w["write_err"]+w["timeouts"])')
    if [ "$errs" != "0 0" ]; then
        say "warning: $scenario: non-2xx / socket errors = $errs; statuses: $(grep -m1 '^BENCH_STATUS' "$WORK/$scenario.wrk" | cut -d' ' -f2-)"
    fi
}

# saga_phase NAME LUA LIMIT HISTOGRAM: load, backlog at stop, drain, histogram deltas
saga_phase() {
    local name="$1" lua="$2" limit="$3" hist="$4" bd bc
    $PY "$HELPER" snap "$WORK/before_$name.json" "${DIALOGS_URLS[@]}"
    run_wrk "$name" "$lua" "$limit" "$name"
    bd=$($PY "$HELPER" gauge saga_outbox_backlog "${DIALOGS_URLS[@]}")
    bc=$($PY "$HELPER" gauge saga_outbox_backlog "${COUNTERS_URLS[@]}")
    say "$name: load stopped; outbox backlog dialogs=${bd:-?} counters=${bc:-?}; $($PY "$HELPER" peek "$WORK/before_$name.json" "${DIALOGS_URLS[@]}")"
    drain "$name"
    $PY "$HELPER" snap "$WORK/after_$name.json" "${DIALOGS_URLS[@]}"
    row "$name" "$hist" "$bd" "$bc"
}

saga_phase send bench/send.lua "$N" saga_send_to_unread_seconds
saga_phase list bench/list.lua "$READ_N" saga_read_to_read_seconds

$PY "$HELPER" snap "$WORK/before_unread.json" "${DIALOGS_URLS[@]}"
DRAIN_S=""
run_wrk unread bench/unread.lua "$UNREAD_N" unread
row unread

META=$(printf '{"timestamp":"%s","N":%s,"C":%s,"USERS":%s,"DURATION":%s,"threads":%s,"cores":%s,"backend":"%s","git":"%s","note":"wrk runs on the same machine as the stack"}' \
    "$TS" "$N" "$C" "$USERS" "${DURATION:-null}" "$THREADS" "$(nproc)" "$BACKEND_URL" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)")
printf '%s\n' "$META" >"$WORK/meta.json"
echo
$PY "$HELPER" report "$ROWS" "$OUT_DIR/bench_saga_$TS.json" "$WORK/meta.json"
echo
say "wrote $OUT_DIR/bench_saga_$TS.json (raw output in $WORK/); wrk shared the $(nproc) cores with the stack (wrk cpu% = its share of the machine)"
