#!/usr/bin/python3
"""The search statement alone, in PostgreSQL: the service's own query (read from the C++ source
by bench/search.py) planned for each of N realistic prefix pairs, as the service plans it on every
call, timed by EXPLAIN ANALYZE (planning + execution). No HTTP, no concurrency: for comparing
indexes and query shapes, whose effect the loaded benchmark hides in queueing.

  bench/search_plans.py [--pairs 300] [--seed 2]

Prints mean, p50, p90, p99 and max in ms, then the slowest pairs. Env: BACKEND_PG_DSN.
"""
import argparse
import random
import statistics

import psycopg2

from search import BACKEND_DSN, prefix_pairs, service_search_sql


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=300)
    ap.add_argument("--seed", type=int, default=2)
    args = ap.parse_args()
    sql = service_search_sql().replace("$1", "%(first)s").replace("$2", "%(last)s").replace("$3", "100")
    conn = psycopg2.connect(BACKEND_DSN)
    cur = conn.cursor()
    timed = []
    for first, last in prefix_pairs(random.Random(args.seed), args.pairs):
        cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, {"first": first, "last": last})
        plan = cur.fetchone()[0][0]
        timed.append((plan["Planning Time"] + plan["Execution Time"], first, last))
    conn.close()
    timed.sort()
    ms = [t for t, _, _ in timed]
    pick = lambda q: ms[min(len(ms) - 1, int(len(ms) * q))]  # noqa: E731
    print("%d pairs: mean %.2f ms, p50 %.2f, p90 %.2f, p99 %.2f, max %.2f"
          % (len(ms), statistics.fmean(ms), pick(0.5), pick(0.9), pick(0.99), ms[-1]))
    print("slowest:", ", ".join("%s+%s %.1f" % (f, l, t) for t, f, l in timed[-6:]))


if __name__ == "__main__":
    main()
