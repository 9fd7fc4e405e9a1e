#!/usr/bin/python3
"""User search benchmark on generated users (scripts/gen_data.py): wrk runs
GET /user/search?first_name=&last_name= with random 1-3 letter prefixes of first names and
surnames drawn from bench/names.py (the lists the users were generated from, popular names more
often), once per concurrency.

  bench/search.py [--concurrency 1,16,64] [--duration 10] [--warmup 3] [--explain Ал,Ив]

The endpoint is public (Access::kPublic in services/backend/src/handlers/users.cpp), so no token.
First it prints to stderr the EXPLAIN ANALYZE of the service's own search query, read from
services/backend/src/storage/user_repository.cpp, for one prefix pair, planned for those very
prefixes as the service has it planned on every call (pg::Connection::ExecPlannedPerCall).

Prints a table to stderr and, as the last stdout line, one JSON object
{"scenario": "search", "runs": [{"concurrency", "rps", "p50_ms", "p99_ms", "p999_ms", "non2xx", ...}]};
writes it, the prefixes and the raw wrk output to results/bench_search_<timestamp>/.
wrk runs on the same machine as the stack and takes CPU from it: the figures are a lower bound.
Env: BACKEND_URL, BACKEND_PG_DSN (defaults: the local stack). Needs wrk, python3-psycopg2.
"""
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import psycopg2

import names  # bench/names.py, beside this file

REPO_DIR = Path(__file__).resolve().parent.parent
BACKEND_URL = os.environ.get("BACKEND_URL", "http://127.0.0.1:8080").rstrip("/")
BACKEND_DSN = os.environ.get("BACKEND_PG_DSN", "host=127.0.0.1 port=55432 user=postgres dbname=backend")
REPOSITORY_CPP = REPO_DIR / "services/backend/src/storage/user_repository.cpp"
LUA = "bench/search.lua"


def say(*args):
    print("bench-search:", *args, file=sys.stderr, flush=True)


def prefix_pairs(rng, k):
    """k (first_name prefix, surname prefix) pairs, 1 to 3 letters each, of realistic names."""
    return [(first[:rng.randint(1, 3)], last[:rng.randint(1, 3)]) for first, last in names.sample_names(rng, k)]


def service_search_sql():
    """The backend's kSearch constant: its C++ string literals, joined."""
    m = re.search(r'kSearch\s*=\s*((?:"[^"]*"\s*)+);', REPOSITORY_CPP.read_text())
    if not m:
        sys.exit(f"bench-search: no kSearch in {REPOSITORY_CPP}")
    return "".join(re.findall(r'"([^"]*)"', m.group(1)))


def explain(cur, pair):
    """EXPLAIN ANALYZE of the service's query for pair, planned for its values. Returns the plan."""
    sql = service_search_sql().replace("$1", "%(first)s").replace("$2", "%(last)s").replace("$3", "100")
    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, {"first": pair[0], "last": pair[1]})
    return "\n".join(r[0] for r in cur.fetchall())


def run_wrk(out_dir, name, concurrency, seconds, prefixes_file):
    """One wrk run; returns (BENCH_JSON, BENCH_PCTL) as dicts. Raw output in out_dir/name.wrk."""
    threads = min(2, concurrency)  # wrk needs at least one connection per thread
    cmd = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "10s", "--latency",
           "-s", LUA, BACKEND_URL]
    proc = subprocess.run(cmd, cwd=REPO_DIR, env={**os.environ, "BENCH_PREFIXES": str(prefixes_file)},
                          capture_output=True, text=True)
    (out_dir / f"{name}.wrk").write_text(proc.stdout + proc.stderr)
    found = {}
    for line in proc.stdout.splitlines():
        key, _, rest = line.partition(" ")
        if key in ("BENCH_JSON", "BENCH_PCTL"):
            found[key] = json.loads(rest)
    if proc.returncode != 0 or len(found) != 2:
        sys.exit(f"bench-search: wrk failed ({' '.join(cmd)}):\n{proc.stdout}{proc.stderr}")
    return found["BENCH_JSON"], found["BENCH_PCTL"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--concurrency", default="1,16,64", help="comma-separated wrk connection counts")
    ap.add_argument("--duration", type=int, default=10, help="seconds per concurrency")
    ap.add_argument("--warmup", type=int, default=3, help="seconds of unreported load first (0: none)")
    ap.add_argument("--prefixes", type=int, default=10_000, help="distinct prefix pairs to draw from")
    # Default: one letter of the commonest names (Александр Иванов), the heaviest kind of query.
    ap.add_argument("--explain", default=names.MALE_FIRST_NAMES[0][0] + "," + names.SURNAMES[0][0],
                    help="FIRST,LAST prefixes for the EXPLAIN ANALYZE")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    if not shutil.which("wrk"):
        sys.exit("bench-search: wrk is not installed (apt-get install -y wrk)")

    rng = random.Random(args.seed)
    pairs = prefix_pairs(rng, args.prefixes)
    ts = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out_dir = REPO_DIR / "results" / f"bench_search_{ts}"
    out_dir.mkdir(parents=True)
    prefixes_file = out_dir / "prefixes.txt"
    prefixes_file.write_text("".join(f"{quote(f)} {quote(s)}\n" for f, s in pairs))

    conn = psycopg2.connect(BACKEND_DSN)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM users")
    users = cur.fetchone()[0]
    say(f"{users} users; {len(pairs)} prefix pairs in {prefixes_file.relative_to(REPO_DIR)}")
    if users < 10_000:
        say("warning: few users: generate them first (scripts/gen_data.py)")
    explain_pair = tuple(args.explain.split(","))
    plan = explain(cur, explain_pair)
    conn.close()
    say(f"EXPLAIN ANALYZE of the service's search for {explain_pair}:\n{plan}")
    (out_dir / "explain.txt").write_text(plan + "\n")

    if args.warmup > 0:
        say(f"warm-up: {args.warmup} s at 16 connections")
        run_wrk(out_dir, "warmup", 16, args.warmup, prefixes_file)
    runs = []
    for c in levels:
        say(f"concurrency {c}: {args.duration} s")
        w, pctl = run_wrk(out_dir, f"c{c}", c, args.duration, prefixes_file)
        runs.append({"concurrency": c,
                     "rps": round(w["requests"] / (w["duration_us"] / 1e6), 1),
                     "p50_ms": pctl["p50_us"] / 1000, "p99_ms": pctl["p99_us"] / 1000,
                     "p999_ms": pctl["p999_us"] / 1000, "max_ms": pctl["max_us"] / 1000,
                     "non2xx": w["non2xx"], "requests": w["requests"],
                     "socket_errors": w["connect_err"] + w["read_err"] + w["write_err"] + w["timeouts"]})

    print(f"{'concurrency':>11} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'max ms':>8} "
          f"{'non-2xx':>8} {'sock err':>8}", file=sys.stderr)
    for r in runs:
        print(f"{r['concurrency']:>11} {r['rps']:>9.1f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['p999_ms']:>9.2f} "
              f"{r['max_ms']:>8.1f} {r['non2xx']:>8} {r['socket_errors']:>8}", file=sys.stderr)
    result = {"scenario": "search", "users": users, "duration_s": args.duration, "runs": runs}
    (out_dir / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    say(f"wrote {out_dir.relative_to(REPO_DIR)}/ (wrk shares the {os.cpu_count()} cores with the stack)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
