#!/usr/bin/env bash
# Baseline: the HTTP ceiling of the stack's own servers, so request rates can be quoted as a
# fraction of what a request that does nothing achieves on the same machine in the same run.
#
#   bench/http_ceiling.sh --concurrency C --seconds S
#
# wrk -t min(2,C) -cC --latency, S seconds each, on
#   backend_healthz  GET http://127.0.0.1:8080/healthz        one hop, public, no token check
#   counters_direct  GET http://127.0.0.1:8082/counters/ping  one hop, the token verified
#   gateway          GET http://127.0.0.1:8080/counters/ping  backend verifies the token and forwards
#                    over its pooled keep-alive upstream to counters, which verifies it again
# Every request carries the same Authorization header (bench/ping.lua), of a user this script
# registers and logs in through the API. wrk shares the machine's 2 cores with the servers.
#
# Env: BACKEND_URL (http://127.0.0.1:8080), COUNTERS_URL (http://127.0.0.1:8082).
# Progress on stderr; the last stdout line is one JSON object:
#   {"baseline":"http_ceiling","concurrency":C,"backend_healthz_rps":..,"counters_direct_rps":..,
#    "gateway_rps":.., "<target>_p50_ms":.., "<target>_p99_ms":.., ...}
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONCURRENCY=""
SECONDS_=""
usage() { echo "usage: $0 --concurrency C --seconds S" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --concurrency) CONCURRENCY="${2:-}"; shift 2 || usage ;;
        --seconds) SECONDS_="${2:-}"; shift 2 || usage ;;
        -h|--help) usage ;;
        *) echo "http_ceiling: unknown argument $1" >&2; usage ;;
    esac
done
[[ "$CONCURRENCY" =~ ^[1-9][0-9]*$ ]] || usage
[[ "$SECONDS_" =~ ^[1-9][0-9]*$ ]] || usage

BACKEND_URL="${BACKEND_URL:-http://127.0.0.1:8080}"
COUNTERS_URL="${COUNTERS_URL:-http://127.0.0.1:8082}"
THREADS=$((CONCURRENCY < 2 ? CONCURRENCY : 2))   # wrk wants at least one connection per thread
PY=/usr/bin/python3

say() { echo "http_ceiling: $*" >&2; }
fail() {
    say "error: $*"
    $PY -c 'import json,sys; print(json.dumps({"baseline": "http_ceiling", "concurrency": int(sys.argv[1]), "error": sys.argv[2]}))' \
        "$CONCURRENCY" "$*"
    exit 1
}
command -v wrk >/dev/null || fail "wrk is not installed (apt-get install -y wrk)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/http_ceiling.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# A user of our own, logged in through the API (contracts/otus-openapi-1.2.0.json).
PASSWORD="bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
register="$(curl -fsS --max-time 10 -H 'Content-Type: application/json' \
    -d "{\"first_name\":\"Bench\",\"second_name\":\"HttpCeiling\",\"birthdate\":\"1990-01-01\",\"biography\":\"\",\"city\":\"Bench\",\"password\":\"$PASSWORD\"}" \
    "$BACKEND_URL/user/register")" || fail "POST /user/register failed (is the stack up? scripts/stack up)"
USER_ID="$(printf '%s' "$register" | $PY -c 'import json,sys; print(json.load(sys.stdin)["user_id"])')"
login="$(curl -fsS --max-time 10 -H 'Content-Type: application/json' \
    -d "{\"id\":\"$USER_ID\",\"password\":\"$PASSWORD\"}" "$BACKEND_URL/login")" || fail "POST /login failed"
export BENCH_TOKEN
BENCH_TOKEN="$(printf '%s' "$login" | $PY -c 'import json,sys; print(json.load(sys.stdin)["token"])')"

# Each target answers 200 before it is measured: a 404 or 401 would make a fast, wrong ceiling.
for url in "$BACKEND_URL/healthz" "$COUNTERS_URL/counters/ping" "$BACKEND_URL/counters/ping"; do
    code="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $BENCH_TOKEN" "$url")" || code=000
    [ "$code" = 200 ] || fail "GET $url answered $code"
done

# run NAME URL: wrk's summary on stderr, its PING_JSON line into $WORK/NAME.json
run() {
    local name="$1" url="$2"
    say "$name: wrk -t$THREADS -c$CONCURRENCY -d${SECONDS_}s $url"
    wrk -t"$THREADS" -c"$CONCURRENCY" -d"${SECONDS_}s" --timeout 10s --latency -s "$REPO_DIR/bench/ping.lua" \
        "$url" >"$WORK/$name.out" 2>&1 || { cat "$WORK/$name.out" >&2; fail "wrk failed on $url"; }
    grep -v '^PING_JSON ' "$WORK/$name.out" >&2 || true
    grep -m1 '^PING_JSON ' "$WORK/$name.out" | cut -d' ' -f2- >"$WORK/$name.json"
    [ -s "$WORK/$name.json" ] || fail "wrk printed no PING_JSON line for $url"
}

run backend_healthz "$BACKEND_URL/healthz"
run counters_direct "$COUNTERS_URL/counters/ping"
run gateway "$BACKEND_URL/counters/ping"

$PY - "$WORK" "$CONCURRENCY" "$THREADS" "$SECONDS_" <<'PY'
import json, sys

work, concurrency, threads, seconds = sys.argv[1:]
result = {"baseline": "http_ceiling", "concurrency": int(concurrency)}
extra = {"wrk_threads": int(threads), "seconds": int(seconds)}
for name in ("backend_healthz", "counters_direct", "gateway"):
    w = json.load(open(f"{work}/{name}.json"))
    seconds_run = w["duration_us"] / 1e6
    result[f"{name}_rps"] = round(w["requests"] / seconds_run, 1) if seconds_run else None
    result[f"{name}_p50_ms"] = round(w["p50_us"] / 1000, 3)
    result[f"{name}_p99_ms"] = round(w["p99_us"] / 1000, 3)
    extra[f"{name}_errors"] = w["non2xx"] + w["connect_err"] + w["read_err"] + w["write_err"] + w["timeouts"]
    if extra[f"{name}_errors"]:
        print(f"http_ceiling: warning: {name}: {w['non2xx']} non-2xx, "
              f"{w['connect_err'] + w['read_err'] + w['write_err'] + w['timeouts']} socket errors", file=sys.stderr)
result.update(extra)
print(json.dumps(result))
PY
