#!/usr/bin/python3
"""What idle live-feed connections cost the backend: opens N WebSocket connections to
/post/feed/posted (one user's token, raw sockets: the handshake only, then silence), and prints
the backend's resident memory before and with them, per connection.

  bench/ws_idle.py [--connections 2000]

Env: BACKEND_URL (http://127.0.0.1:8080). The backend's PID comes from `scripts/stack pid backend`.
The last stdout line is one JSON object.
"""
import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

import requests

REPO_DIR = Path(__file__).resolve().parent.parent
BACKEND_URL = os.environ.get("BACKEND_URL", "http://127.0.0.1:8080").rstrip("/")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def token():
    password = "ws idle " + uuid.uuid4().hex
    r = requests.post(BACKEND_URL + "/user/register", json={
        "first_name": "Ws", "second_name": "Idle", "birthdate": "1990-01-01", "password": password}, timeout=30)
    r.raise_for_status()
    uid = r.json()["user_id"]
    r = requests.post(BACKEND_URL + "/login", json={"id": uid, "password": password}, timeout=30)
    r.raise_for_status()
    return r.json()["token"]


def open_ws(host, port, bearer):
    s = socket.create_connection((host, port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /post/feed/posted HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               f"Authorization: Bearer {bearer}\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("closed during the handshake")
        head += chunk
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(head.split(b"\r\n")[0].decode())
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--connections", type=int, default=2000)
    args = ap.parse_args()
    pid = int(subprocess.run([str(REPO_DIR / "scripts/stack"), "pid", "backend"], check=True,
                             capture_output=True, text=True).stdout.strip())
    url = urllib.parse.urlparse(BACKEND_URL)
    bearer = token()
    before = rss_kib(pid)
    sockets = []
    for i in range(args.connections):
        sockets.append(open_ws(url.hostname, url.port or 80, bearer))
        if (i + 1) % 500 == 0:
            print(f"ws-idle: {i + 1} open", file=sys.stderr)
    time.sleep(1)
    during = rss_kib(pid)
    for s in sockets:
        s.close()
    result = {"scenario": "ws_idle", "connections": args.connections, "rss_before_mib": round(before / 1024, 1),
              "rss_with_mib": round(during / 1024, 1),
              "kib_per_connection": round((during - before) / args.connections, 1)}
    print(f"ws-idle: backend RSS {result['rss_before_mib']} MiB -> {result['rss_with_mib']} MiB with "
          f"{args.connections} idle connections: {result['kib_per_connection']} KiB each", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
