#!/usr/bin/python3
"""The feed's benchmark set-up and the two feed measures wrk cannot make, against a running stack
(`scripts/stack up`). `make bench-feed` (scripts/bench.py feed) imports this module: it calls
prepare(), measures the warm reads itself with wrk at concurrency 1, 16 and 64 (with CPU and peak
RSS, like every other scenario), then calls cold() and live().

- prepare(): one reader following 20 authors with 10 posts each (Redis then holds its feed);
- cold_readers(authors), cold(readers): feed reads/s and latency when each read rebuilds a
  flushed feed from PostgreSQL (BENCH_COLD_READERS reads: a tenth of that many readers read 10
  times, Redis FLUSHALL before each round, 16 at a time);
- live(): post -> WebSocket delivery latency p50/p99 (one follower, one author).

Standalone, `scripts/bench_feed.py` runs the three, prints a table and, as its last stdout line,
one JSON object {"scenario": "feed", "cold": {...}, "live": {...}}.

Env: BACKEND_URL (http://127.0.0.1:8080), BENCH_COLD_READERS (300), BENCH_LIVE_POSTS (200).
"""
import json
import os
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import websocket

URL = os.environ.get("BACKEND_URL", "http://127.0.0.1:8080").rstrip("/")
COLD_READERS = int(os.environ.get("BENCH_COLD_READERS", "300"))
LIVE_POSTS = int(os.environ.get("BENCH_LIVE_POSTS", "200"))
AUTHORS = 20
POSTS_PER_AUTHOR = 10
STACK = str(Path(__file__).resolve().parent / "stack")
session = requests.Session()


def user():
    """Register and log in a fresh user: (user_id, Authorization headers)."""
    password = "bench password " + uuid.uuid4().hex
    r = session.post(URL + "/user/register", json={"first_name": "Bench", "second_name": "Feed",
                                                   "birthdate": "1990-01-01", "password": password})
    r.raise_for_status()
    uid = r.json()["user_id"]
    token = session.post(URL + "/login", json={"id": uid, "password": password}).json()["token"]
    return uid, {"Authorization": "Bearer " + token}


def post(headers, text):
    """Create a post; returns its id."""
    r = session.post(URL + "/post/create", json={"text": text}, headers=headers)
    r.raise_for_status()
    return r.json()


def follow(headers, friend):
    session.put(f"{URL}/friend/set/{friend}", headers=headers).raise_for_status()


def percentile(values, p):
    """Nearest-rank percentile of a list (None when empty)."""
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def flush_redis():
    subprocess.run([STACK, "redis-cli", "FLUSHALL"], check=True, capture_output=True)


def prepare():
    """One reader following AUTHORS authors with POSTS_PER_AUTHOR posts each, its feed read once
    (so Redis holds it): returns (reader headers, [(author id, author headers)])."""
    reader, rh = user()
    authors = [user() for _ in range(AUTHORS)]
    for uid, h in authors:
        follow(rh, uid)
        for i in range(POSTS_PER_AUTHOR):
            post(h, f"bench post {i} " + "x" * 200)
    time.sleep(1)
    feed = session.get(URL + "/post/feed?limit=10", headers=rh)
    feed.raise_for_status()
    assert len(feed.json()) == 10, "the reader's feed does not hold 10 posts"
    return rh, authors


def cold_readers(authors):
    """A tenth of BENCH_COLD_READERS readers, each following every author: their headers."""
    readers = [user()[1] for _ in range(max(1, COLD_READERS // 10))]
    for h in readers:
        for uid, _ in authors:
            follow(h, uid)
    time.sleep(1)
    return readers


def cold(readers):
    """Reads/s and latency (ms) when every read rebuilds a flushed feed from PostgreSQL."""
    latencies = []

    def read(h):
        s = requests.Session()
        t0 = time.monotonic()
        s.get(URL + "/post/feed?limit=10", headers=h).raise_for_status()
        latencies.append(time.monotonic() - t0)

    total = 0.0
    for _ in range(10):  # the same readers again after each flush
        flush_redis()
        t0 = time.monotonic()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(read, readers))
        total += time.monotonic() - t0
    return {"reads": len(latencies), "concurrency": 16, "rps": round(len(latencies) / total, 1),
            "p50_ms": round(percentile(latencies, 50) * 1000, 2),
            "p99_ms": round(percentile(latencies, 99) * 1000, 2)}


def live():
    """Post -> WebSocket delivery latency (ms) of LIVE_POSTS posts 10 ms apart."""
    _, fh = user()
    author, ah = user()
    follow(fh, author)
    ws = websocket.create_connection(URL.replace("http://", "ws://") + "/post/feed/posted",
                                     header=[f"Authorization: {fh['Authorization']}"])
    time.sleep(0.3)
    received = {}

    def listen():
        while len(received) < LIVE_POSTS:
            msg = json.loads(ws.recv())
            received[msg["postId"]] = time.monotonic()

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    sent = {}
    for i in range(LIVE_POSTS):
        t0 = time.monotonic()
        sent[post(ah, f"live {i}")] = t0
        time.sleep(0.01)
    listener.join(timeout=10)
    ws.close()
    delays = [received[k] - v for k, v in sent.items() if k in received]
    return {"posts": LIVE_POSTS, "delivered": len(delays),
            "p50_ms": round(percentile(delays, 50) * 1000, 2) if delays else None,
            "p99_ms": round(percentile(delays, 99) * 1000, 2) if delays else None}


def main():
    print("setting up users and posts ...", flush=True)
    _, authors = prepare()
    result = {"scenario": "feed", "cold": cold(cold_readers(authors)), "live": live()}
    c, lv = result["cold"], result["live"]
    rows = [("feed reads/s, Redis cold (rebuild)", f"{c['rps']:,.0f}", f"p99 {c['p99_ms']:.1f} ms"),
            ("post -> WebSocket latency p50", f"{lv['p50_ms']} ms", f"{lv['delivered']}/{lv['posts']} delivered"),
            ("post -> WebSocket latency p99", f"{lv['p99_ms']} ms", "")]
    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure'.ljust(width)}  {'value':>12}  note")
    print("-" * (width + 40))
    for name, value, note in rows:
        print(f"{name.ljust(width)}  {value:>12}  {note}")
    print("(warm reads: scripts/bench.py feed)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
