#!/usr/bin/python3
"""Feed benchmark against a running stack (`scripts/stack up`): prints a table of
feed reads/s with Redis warm (wrk, one reader following 20 authors) and cold (each read rebuilds
a flushed feed from PostgreSQL), and post-to-WebSocket latency p50/p99.

Env: BACKEND_URL (http://127.0.0.1:8080), BENCH_SECONDS (10), BENCH_CONNECTIONS (32),
     BENCH_COLD_READERS (300), BENCH_LIVE_POSTS (200).
"""
import json
import os
import statistics
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import websocket

URL = os.environ.get("BACKEND_URL", "http://127.0.0.1:8080").rstrip("/")
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
COLD_READERS = int(os.environ.get("BENCH_COLD_READERS", "300"))
LIVE_POSTS = int(os.environ.get("BENCH_LIVE_POSTS", "200"))
STACK = str(Path(__file__).resolve().parent / "stack")
session = requests.Session()


def user():
    password = "bench password " + uuid.uuid4().hex
    r = session.post(URL + "/user/register", json={"first_name": "Bench", "second_name": "Feed",
                                                   "birthdate": "1990-01-01", "password": password})
    r.raise_for_status()
    uid = r.json()["user_id"]
    token = session.post(URL + "/login", json={"id": uid, "password": password}).json()["token"]
    return uid, {"Authorization": "Bearer " + token}


def post(headers, text):
    r = session.post(URL + "/post/create", json={"text": text}, headers=headers)
    r.raise_for_status()
    return r.json()


def follow(headers, friend):
    session.put(f"{URL}/friend/set/{friend}", headers=headers).raise_for_status()


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    print("setting up users and posts ...", flush=True)
    reader, rh = user()
    authors = [user() for _ in range(20)]
    for uid, h in authors:
        follow(rh, uid)
        for i in range(10):
            post(h, f"bench post {i} " + "x" * 200)
    time.sleep(1)
    assert len(session.get(URL + "/post/feed?limit=10", headers=rh).json()) == 10

    rows = []
    # warm: wrk, one reader, Redis holds the feed
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency",
                          "-H", f"Authorization: {rh['Authorization']}", URL + "/post/feed?limit=10"],
                         capture_output=True, text=True, check=True).stdout
    rps = next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec"))
    p99 = next((line.split()[1] for line in out.splitlines() if line.strip().startswith("99%")), "?")
    rows.append(("feed reads/s, Redis warm (wrk)", f"{float(rps):,.0f}", f"p99 {p99}"))

    # cold: many readers, Redis flushed, each first read rebuilds from PostgreSQL
    readers = []
    for _ in range(COLD_READERS // 10):
        readers.append(user())
    for _, h in readers:
        for uid, _ in authors:
            follow(h, uid)
    time.sleep(1)
    readers = readers * 10  # the same users again after flushes below
    subprocess.run([STACK, "redis-cli", "FLUSHALL"], check=True, capture_output=True)
    latencies = []
    chunk = COLD_READERS // 10

    def read(h):
        s = requests.Session()
        t0 = time.monotonic()
        s.get(URL + "/post/feed?limit=10", headers=h).raise_for_status()
        latencies.append(time.monotonic() - t0)

    total = 0.0
    for i in range(10):
        subprocess.run([STACK, "redis-cli", "FLUSHALL"], check=True, capture_output=True)
        t0 = time.monotonic()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(read, [h for _, h in readers[i * chunk:(i + 1) * chunk]]))
        total += time.monotonic() - t0
    rows.append(("feed reads/s, Redis cold (rebuild)", f"{len(latencies) / total:,.0f}",
                 f"p99 {percentile(latencies, 99) * 1000:.1f}ms"))

    # live: post -> WebSocket
    fan, fh = user()
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
    rows.append(("post -> WebSocket latency p50", f"{percentile(delays, 50) * 1000:.1f} ms",
                 f"{len(delays)}/{LIVE_POSTS} delivered"))
    rows.append(("post -> WebSocket latency p99", f"{percentile(delays, 99) * 1000:.1f} ms", ""))

    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure'.ljust(width)}  {'value':>12}  note")
    print("-" * (width + 40))
    for name, value, note in rows:
        print(f"{name.ljust(width)}  {value:>12}  {note}")


if __name__ == "__main__":
    main()
