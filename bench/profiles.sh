#!/usr/bin/env bash
# The price of replication: the send at c16 (wrk, bench/send.lua) and how long the saga then takes
# to settle, on the single-node profile and on the cluster profile, one after the other in one run.
# On one machine every replica shares the same cores, so the cluster's figure is a floor of what it
# costs, not what separate hosts would show.
#
#   bench/profiles.sh [SECONDS]        (default 20; brings each profile up and leaves the stack down)
#
# Prints, per profile: sends/s, p50 and p99 of the send, and the seconds from the end of the load
# until `sagactl check` passes (every message counted). Needs `make build`.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

make_pairs() {  # 50 sender/recipient pairs with tokens, in bench/common.lua's format
    local i s r
    for i in $(seq 50); do
        s="$(user_token "s$i")"; r="$(user_token "r$i")"
        echo "$s $r"
    done >"$out/pairs.txt"
}

user_token() {  # "<id> <token>" of a new user
    local id
    id="$(curl -fsS -H 'Content-Type: application/json' -d "{\"first_name\":\"Bench\",\"second_name\":\"$1\",\"birthdate\":\"1990-01-01\",\"biography\":\"\",\"city\":\"X\",\"password\":\"bench password\"}" "$BACKEND_URL/user/register" | jq -r .user_id)"
    echo "$id $(curl -fsS -H 'Content-Type: application/json' -d "{\"id\":\"$id\",\"password\":\"bench password\"}" "$BACKEND_URL/login" | jq -r .token)"
}

measure() {  # PROFILE
    if [ "$1" = cluster ]; then make -s cluster-up >/dev/null; else make -s up >/dev/null; fi
    eval "$(scripts/stack env)"
    make_pairs
    BENCH_PAIRS="$out/pairs.txt" wrk -t2 -c16 -d"${seconds}s" --latency -s bench/send.lua "$BACKEND_URL" >"$out/$1.wrk"
    local end=$SECONDS
    until build/tools/sagactl/sagactl check >/dev/null 2>&1; do
        [ $((SECONDS - end)) -lt 300 ] || { echo "profiles: $1: saga not settled in 300 s" >&2; break; }
        sleep 0.5
    done
    local settle=$((SECONDS - end))
    printf '%-8s %10s %8s %8s %10s\n' "$1" "$(awk '/^Requests\/sec/ {printf "%.0f", $2}' "$out/$1.wrk")" \
        "$(awk '$1 == "50%" {print $2}' "$out/$1.wrk")" "$(awk '$1 == "99%" {print $2}' "$out/$1.wrk")" "${settle}s" \
        >>"$out/table"
    grep -E "Non-2xx|Socket errors" "$out/$1.wrk" >>"$out/table" || true
    scripts/stack down >/dev/null
}

measure single
measure cluster
printf '%-8s %10s %8s %8s %10s\n' profile "sends/s" p50 p99 settled
cat "$out/table"
