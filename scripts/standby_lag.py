#!/usr/bin/python3
"""How far the cluster's standby trails the primary: what a read from the standby may miss.

Run on the cluster profile (make cluster-up):
    eval "$(scripts/stack env)"; /usr/bin/python3 scripts/standby_lag.py [--samples 500] [--writers 4]

While `--writers` threads insert rows on the primary (each its own commit: a write load like the
sends'), a probe commits one row at a time on the primary and then polls the standby until the row
is there: the time from the primary's COMMIT returning to the row being visible on the standby is
what a reader of the standby misses. Meanwhile pg_stat_replication's replay_lag is sampled on the
primary. Prints synchronous_commit and the median, p99 and max of both. Writes only to a table of
its own (sn_standby_lag_probe in the database `postgres`), dropped at the end.
"""
import argparse
import os
import re
import statistics
import threading
import time

import psycopg2

TABLE = "sn_standby_lag_probe"


def node_dsn(dsn, attrs):
    """The cluster DSN (BACKEND_PG_DSN lists every node) for the `postgres` database, on the node
    libpq picks for target_session_attrs=attrs."""
    dsn = re.sub(r"\bdbname=\S+", "dbname=postgres", dsn)
    dsn = re.sub(r"\btarget_session_attrs=\S+", "", dsn)
    return f"{dsn} target_session_attrs={attrs} application_name=standby_lag"


def pct(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(label, values_ms):
    if not values_ms:
        return f"{label}: no samples"
    return (f"{label}: n={len(values_ms)} median {statistics.median(values_ms):.3f} ms, "
            f"p99 {pct(values_ms, 0.99):.3f} ms, max {max(values_ms):.3f} ms")


def writer(dsn, stop, counts, k):
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    payload = "x" * 200
    with conn.cursor() as cur:
        while not stop.is_set():
            cur.execute(f"INSERT INTO {TABLE} (payload) VALUES (%s)", (payload,))
            counts[k] += 1
    conn.close()


def replication_sampler(dsn, stop, lags_ms):
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        while not stop.is_set():
            cur.execute("SELECT extract(epoch FROM replay_lag) * 1000 FROM pg_stat_replication")
            for (lag,) in cur.fetchall():
                if lag is not None:  # NULL once the standby has replayed everything and nothing is new
                    lags_ms.append(float(lag))
            time.sleep(0.05)
    conn.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--writers", type=int, default=4, help="threads inserting on the primary meanwhile")
    parser.add_argument("--interval-ms", type=float, default=10, help="pause between two probes")
    parser.add_argument("--remote-apply", action="store_true",
                        help="the probe commits with synchronous_commit=remote_apply (waits for the standby to apply)")
    parser.add_argument("--dsn", default=os.environ.get("BACKEND_PG_DSN", ""),
                        help="the cluster's multi-host DSN (default: BACKEND_PG_DSN from scripts/stack env)")
    args = parser.parse_args()
    if "," not in args.dsn:
        raise SystemExit("needs the cluster's multi-host DSN: eval \"$(scripts/stack env)\" on the cluster profile")
    primary_dsn, standby_dsn = node_dsn(args.dsn, "primary"), node_dsn(args.dsn, "standby")

    primary = psycopg2.connect(primary_dsn)
    primary.autocommit = True
    standby = psycopg2.connect(standby_dsn)
    standby.autocommit = True
    pcur, scur = primary.cursor(), standby.cursor()
    pcur.execute("SELECT current_setting('synchronous_commit'), current_setting('synchronous_standby_names'), "
                 "inet_server_port()")
    sync_commit, sync_names, pport = pcur.fetchone()
    scur.execute("SELECT inet_server_port(), pg_is_in_recovery()")
    sport, in_recovery = scur.fetchone()
    assert in_recovery, "the standby DSN reached a primary"
    print(f"primary port {pport}: synchronous_commit={sync_commit} synchronous_standby_names='{sync_names}'; "
          f"standby port {sport}")
    if args.remote_apply:
        pcur.execute("SET synchronous_commit = remote_apply")
    pcur.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, payload text, "
                 "at timestamptz DEFAULT clock_timestamp())")
    time.sleep(0.5)  # the table reaches the standby

    stop = threading.Event()
    counts = [0] * args.writers
    replay_ms = []
    threads = [threading.Thread(target=writer, args=(primary_dsn, stop, counts, k), daemon=True)
               for k in range(args.writers)]
    threads.append(threading.Thread(target=replication_sampler, args=(primary_dsn, stop, replay_ms), daemon=True))
    for t in threads:
        t.start()
    time.sleep(0.5)
    visible_ms, commit_ms, first_poll = [], [], 0
    started = time.monotonic()
    try:
        for _ in range(args.samples):
            sent = time.monotonic()
            pcur.execute(f"INSERT INTO {TABLE} (payload) VALUES ('probe') RETURNING id")
            (row_id,) = pcur.fetchone()
            committed = time.monotonic()   # autocommit: COMMIT has returned
            commit_ms.append((committed - sent) * 1000)
            polls = 0
            deadline = committed + 10
            while True:
                scur.execute(f"SELECT 1 FROM {TABLE} WHERE id = %s", (row_id,))
                polls += 1
                if scur.fetchone():
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"row {row_id} not on the standby after 10 s")
            seen = time.monotonic()
            first_poll += polls == 1
            visible_ms.append((seen - committed) * 1000)
            time.sleep(args.interval_ms / 1000)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
        elapsed = time.monotonic() - started
        pcur.execute(f"DROP TABLE IF EXISTS {TABLE}")
    print(f"write load: {args.writers} writers, {sum(counts) / elapsed:.0f} commits/s on the primary; "
          f"probe commits with synchronous_commit={'remote_apply' if args.remote_apply else sync_commit}")
    print(summary("probe INSERT + COMMIT on the primary", commit_ms))
    print(summary("commit on the primary -> row visible on the standby (incl. one poll's round trip)", visible_ms))
    print(f"  visible at the first poll: {first_poll}/{len(visible_ms)}")
    print(summary("pg_stat_replication.replay_lag (non-NULL samples, every 50 ms)", replay_ms))


if __name__ == "__main__":
    main()
