"""Mixed traffic for the soak (scripts/soak/soak.py): paced worker threads, each a logged-in user
with its own HTTP session, alternating between the backend's copies, plus WebSocket clients of the
live feed. Every request is recorded as (start, seconds, op, status or None for no answer)."""
import http.client
import json
import random
import select
import threading
import time
import urllib.parse

import requests
import websocket

from saga_helpers import HTTP_TIMEOUT

# op -> weight: what the traffic is made of (sends dominate: they drive the saga). A new user is
# two Argon2id hashes (register, login), tens of ms of a core each: one in 500 requests.
MIX = {"send": 50, "list": 8, "read": 4, "unread": 8, "pair_unread": 4, "post": 3, "feed": 9,
       "search": 5, "user_get": 5, "post_get": 4, "new_user": 0.2}
SEND_RETRY = {500, 502, 503, 504, None}


class Answer:
    def __init__(self, status, body):
        self.status_code, self.body = status, body

    def json(self):
        return json.loads(self.body)


class KeepAlive:
    """HTTP/1.1 with one kept-alive connection per backend copy, over http.client: a fifth of the
    CPU per call that requests takes, and on two shared cores the client's CPU is the stack's
    capacity. Like urllib3 it does not reuse a connection the server has closed (readable while
    idle); any failure drops the connection and raises OSError or http.client.HTTPException."""

    def __init__(self, timeout):
        self.timeout, self.conns = timeout, {}

    def connection(self, base):
        conn = self.conns.get(base)
        if conn is not None and conn.sock is not None and select.select([conn.sock], [], [], 0)[0]:
            conn.close()  # closed (or written to) while idle
        if conn is None:
            url = urllib.parse.urlsplit(base)
            conn = self.conns[base] = http.client.HTTPConnection(url.hostname, url.port, timeout=self.timeout)
        return conn

    def request(self, method, base, path, headers, params=None, body=None):
        if params:
            path += "?" + urllib.parse.urlencode(params)
        headers = dict(headers)
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn = self.connection(base)
        try:
            conn.request(method, path, body=payload, headers=headers)
            r = conn.getresponse()
            answer = Answer(r.status, r.read())
        except (OSError, http.client.HTTPException):
            conn.close()
            del self.conns[base]
            raise
        if r.will_close:
            conn.close()
        return answer

    def close(self):
        for conn in self.conns.values():
            conn.close()


class Recorder:
    """Every request of the run (appends are atomic under the GIL)."""

    def __init__(self):
        self.t0 = time.monotonic()
        self.samples = []   # (t, seconds, op, status)
        self.ok_ids = set()
        self.ambiguous = set()
        self.ws_messages = 0
        self.ws_connects = 0
        self.lock = threading.Lock()

    def add(self, start, op, status):
        self.samples.append((start - self.t0, time.monotonic() - start, op, status))


class Worker(threading.Thread):
    def __init__(self, k, user, peers, base_urls, rate, recorder, rng_seed, stop, prefix, register):
        super().__init__(daemon=True)
        self.k, self.user, self.base_urls = k, user, base_urls
        self.peers = [p for p in peers if p.id != user.id]
        self.period = 1.0 / rate
        self.rec, self.rng, self.stop_event = recorder, random.Random(rng_seed), stop
        self.prefix, self.register = prefix, register
        self.http = KeepAlive(HTTP_TIMEOUT)
        self.sent = 0
        self.posts = []

    def base(self):
        return self.base_urls[self.rng.randrange(len(self.base_urls))]

    def call(self, op, method, path, params=None, body=None):
        start = time.monotonic()
        try:
            r = self.http.request(method, self.base(), path, self.user.headers, params, body)
        except (OSError, http.client.HTTPException):
            self.rec.add(start, op, None)
            return None
        self.rec.add(start, op, r.status_code)
        return r

    def send(self):
        peer = self.rng.choice(self.peers)
        text = f"{self.prefix}-{self.k}-{self.sent}"
        self.sent += 1
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # a send under way is finished even after the stop
            r = self.call("send", "POST", f"/dialog/{peer.id}/send", body={"text": text})
            status = r.status_code if r is not None else None
            if status == 200:
                self.rec.ok_ids.add(r.json()["id"])
                return
            if status not in SEND_RETRY:
                return
            self.rec.ambiguous.add(text)
            time.sleep(0.1)

    def one(self, op):
        peer = self.rng.choice(self.peers)
        if op == "send":
            self.send()
        elif op == "list":
            self.call(op, "GET", f"/dialog/{peer.id}/list", params={"limit": 20})
        elif op == "read":
            self.call(op, "POST", f"/dialog/{peer.id}/read")
        elif op == "unread":
            self.call(op, "GET", "/counters/unread")
        elif op == "pair_unread":
            self.call(op, "GET", f"/counters/{peer.id}/unreadMessages")
        elif op == "post":
            r = self.call(op, "POST", "/post/create", body={"text": f"soak post {self.k}-{self.rng.random()}"})
            if r is not None and r.status_code == 200:
                body = r.json()
                self.posts.append(body if isinstance(body, str) else body.get("id"))
        elif op == "feed":
            self.call(op, "GET", "/post/feed", params={"offset": 0, "limit": 10})
        elif op == "search":
            self.call(op, "GET", "/user/search", params={"first_name": "soak", "last_name": peer.id[:2], "limit": 10})
        elif op == "user_get":
            self.call(op, "GET", f"/user/get/{peer.id}")
        elif op == "post_get" and self.posts:
            self.call(op, "GET", f"/post/get/{self.rng.choice(self.posts)}")
        elif op == "new_user":
            start = time.monotonic()
            try:
                self.register(self.base())
                self.rec.add(start, op, 200)
            except requests.HTTPError as e:
                self.rec.add(start, op, e.response.status_code)
            except requests.RequestException:
                self.rec.add(start, op, None)

    def run(self):
        ops, weights = list(MIX), list(MIX.values())
        next_at = time.monotonic() + self.rng.random() * self.period
        while not self.stop_event.is_set():
            now = time.monotonic()
            if now < next_at:
                time.sleep(next_at - now)
            next_at = max(next_at + self.period, time.monotonic() - 1.0)  # never more than 1 s of catch-up
            self.one(self.rng.choices(ops, weights)[0])
        self.http.close()


class LiveClient(threading.Thread):
    """A WebSocket client of /post/feed/posted that reconnects whenever it is dropped."""

    def __init__(self, user, ws_url, recorder, stop):
        super().__init__(daemon=True)
        self.user, self.url, self.rec, self.stop_event = user, ws_url, recorder, stop

    def run(self):
        while not self.stop_event.is_set():
            try:
                ws = websocket.create_connection(self.url, header=[f"Authorization: Bearer {self.user.token}"],
                                                 timeout=5)
            except Exception:  # noqa: BLE001 - any failure: retry after a pause
                time.sleep(1)
                continue
            self.rec.ws_connects += 1
            try:
                while not self.stop_event.is_set():
                    try:
                        ws.recv()
                        self.rec.ws_messages += 1
                    except websocket.WebSocketTimeoutException:
                        continue
            except Exception:  # noqa: BLE001 - dropped (a fault): reconnect
                time.sleep(0.5)
            finally:
                ws.close()


def run_share(share, users, base_urls, rate, threads, live_clients, t0, seed, stop, prefix, register, conn):
    """One process's part of the traffic (a client process is limited by its GIL, so the soak
    spreads the load over several): `threads` paced workers at `rate` requests/s in all, and
    `live_clients` WebSocket clients, until `stop` is set; then sends what it recorded on `conn`."""
    rec = Recorder()
    rec.t0 = t0
    local_stop = threading.Event()
    workers = [Worker(share * 1000 + k, users[(share * threads + k) % len(users)], users, base_urls, rate / threads,
                      rec, seed * 10_000 + share * 1000 + k, local_stop, prefix, register) for k in range(threads)]
    live = [LiveClient(users[(share * live_clients + i) % len(users)],
                       base_urls[i % len(base_urls)].replace("http", "ws", 1) + "/post/feed/posted", rec, local_stop)
            for i in range(live_clients)]
    for t in workers + live:
        t.start()
    stop.wait()
    local_stop.set()
    for t in workers:
        t.join(timeout=180)
    for t in live:
        t.join(timeout=30)
    conn.send((rec.samples, rec.ok_ids, rec.ambiguous, rec.ws_messages, rec.ws_connects))
    conn.close()


class Traffic:
    """The whole traffic: `procs` processes (fork) running run_share; merged into one Recorder."""

    def __init__(self, procs, **share_args):
        import multiprocessing  # noqa: PLC0415
        self.mp = multiprocessing.get_context("fork")
        self.stop = self.mp.Event()
        self.rec = Recorder()
        self.procs, self.share_args, self.children = procs, share_args, []

    def start(self):
        for share in range(self.procs):
            parent, child = self.mp.Pipe(duplex=False)
            p = self.mp.Process(target=run_share, daemon=True,
                                kwargs=dict(self.share_args, share=share, t0=self.rec.t0, stop=self.stop, conn=child))
            p.start()
            self.children.append((p, parent))
        return self

    def finish(self):
        self.stop.set()
        for p, parent in self.children:
            if parent.poll(300):
                samples, ok_ids, ambiguous, ws_messages, ws_connects = parent.recv()
                self.rec.samples += samples
                self.rec.ok_ids |= ok_ids
                self.rec.ambiguous |= ambiguous
                self.rec.ws_messages += ws_messages
                self.rec.ws_connects += ws_connects
            p.join(timeout=30)
        self.rec.samples.sort()
        return self.rec
