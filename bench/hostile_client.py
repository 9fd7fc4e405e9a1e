#!/usr/bin/python3
"""Figures of docs/notes/hard.md: a 10 MB register from urllib, and logins at 8 and 64 at once against
the password-hash line. Run against a stack: eval "$(scripts/stack env)"; bench/hostile_client.py"""
import concurrent.futures, json, os, time, urllib.request, urllib.error, uuid, statistics
import requests
base = os.environ["BACKEND_URL"]
body = json.dumps({"first_name": "Fig", "second_name": "Ures", "birthdate": "1990-01-01",
                   "biography": "x" * (10 * 1024 * 1024), "password": "password123"}).encode()
t = time.monotonic()
try:
    urllib.request.urlopen(urllib.request.Request(base + "/user/register", data=body, method="POST",
                           headers={"Content-Type": "application/json"}), timeout=30)
except urllib.error.HTTPError as e:
    print("10 MB register via urllib:", e.code, "in %.3f s" % (time.monotonic() - t))
r = requests.post(base + "/user/register", json={"first_name": "Fig", "second_name": "Ures",
                  "birthdate": "1990-01-01", "password": "password123"}, timeout=30)
uid = r.json()["user_id"]
def login(_):
    s = time.monotonic()
    r = requests.post(base + "/login", json={"id": uid, "password": "password123"}, timeout=60)
    return r.status_code, time.monotonic() - s
for threads in (8, 64):
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        t = time.monotonic()
        res = list(pool.map(login, range(threads * 4)))
        took = time.monotonic() - t
    ok = [d for c, d in res if c == 200]; no = [d for c, d in res if c == 503]
    print(f"{len(res)} logins, {threads} at once (HASH_QUEUE_LIMIT default 32): {len(ok)} x 200 "
          f"(p50 {statistics.median(ok):.3f} s, max {max(ok):.3f} s), {len(no)} x 503"
          + (f" (p50 {statistics.median(no):.3f} s)" if no else "") + f"; {took:.1f} s in all")
