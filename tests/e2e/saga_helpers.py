"""Helpers for the unread-counter saga tests (tests/e2e/test_saga.py).

Everything here talks to the running stack (scripts/stack up): the backend's HTTP API,
the dialogs and counters databases, RabbitMQ (pika) and build/tools/sagactl.
Env: BACKEND_URL, DIALOGS_PG_DSN, COUNTERS_PG_DSN, AMQP_URL, SAGACTL (path to sagactl).
"""
import json
import os
import re
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pika
import psycopg2
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
STACK = os.environ.get("STACK", str(REPO_ROOT / "scripts" / "stack"))
SAGACTL = os.environ.get("SAGACTL", str(REPO_ROOT / "build" / "tools" / "sagactl" / "sagactl"))
DIALOGS_DSN = os.environ.get("DIALOGS_PG_DSN", "host=127.0.0.1 port=55432 dbname=dialogs user=postgres")
COUNTERS_DSN = os.environ.get("COUNTERS_PG_DSN", "host=127.0.0.1 port=55432 dbname=counters user=postgres")
AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:55672/")

REQUEST_EXCHANGE = "unreadMessages"
REQUEST_QUEUE = "counters.unreadMessages"
REQUEST_DEAD = "counters.unreadMessages.dead"
REPLY_QUEUE = "dialogs.unreadMessagesCounted"
HTTP_TIMEOUT = 30


# --------------------------------------------------------------------------
# polling
# --------------------------------------------------------------------------
def wait_for(predicate, timeout=30.0, interval=0.1, desc="condition"):
    """Poll predicate() until it returns a truthy value; return it, or fail with the last value."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = predicate()
        except (requests.RequestException, psycopg2.Error) as e:  # a component may be restarting
            last = e
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {desc}; last value: {last!r}")
        time.sleep(interval)


def metric(port, name, labels=""):
    """One sample of a service's /metrics (0 when absent)."""
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    m = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


# --------------------------------------------------------------------------
# sagactl and scripts/stack
# --------------------------------------------------------------------------
def sagactl(*args):
    """Run sagactl; return (exit code, parsed JSON report or the raw text)."""
    p = subprocess.run([SAGACTL, *args], capture_output=True, text=True, timeout=120)
    out = p.stdout.strip()
    try:
        report = json.loads(out.splitlines()[-1]) if out else None
    except ValueError:
        report = out
    if report is None:
        report = p.stderr.strip()
    return p.returncode, report


def wait_quiet(timeout=60.0, interval=0.25):
    """Poll `sagactl check` until it exits 0 (no saga in flight, no drift); return its report.
    Fails with the last report otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        rc, report = sagactl("check")
        if rc == 0:
            return report
        if time.monotonic() >= deadline:
            raise AssertionError(f"saga not quiet after {timeout}s: sagactl check exit {rc}: {report}")
        time.sleep(interval)


def stack(*args, env=None, timeout=180, check=True):
    """Run scripts/stack with extra environment variables."""
    full_env = dict(os.environ)
    for k in ("SWEEPER_INTERVAL_MS", "SWEEPER_TIMEOUT_MS", "MARK_AS_READ_ON_LISTING", "HASH_QUEUE_LIMIT",
              "RECONCILE_INTERVAL_MS"):
        full_env.pop(k, None)  # only what the caller passes reaches the services
    full_env.update(env or {})
    p = subprocess.run([STACK, *args], capture_output=True, text=True, env=full_env, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"scripts/stack {' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


# Each component's HTTP port, from the variables scripts/stack reads.
PORTS = {"backend": int(os.environ.get("BACKEND_PORT", 8080)),
         "dialogs": int(os.environ.get("DIALOGS_PORT", 8081)),
         "counters": int(os.environ.get("COUNTERS_PORT", 8082)),
         "backend-2": int(os.environ.get("BACKEND2_PORT", 8180)),
         "dialogs-2": int(os.environ.get("DIALOGS2_PORT", 8181)),
         "counters-2": int(os.environ.get("COUNTERS2_PORT", 8182))}
DATA_DIR = Path(os.environ.get("STACK_DATA_DIR", str(REPO_ROOT / ".data")))


def component_states():
    """{name: (state, pid or None)} of the stack's components, in one supervisorctl call
    (`scripts/stack ps` asks once per component and takes seconds)."""
    p = subprocess.run(["supervisorctl", "-c", str(DATA_DIR / "supervisord.conf"), "status"],
                       capture_output=True, text=True, timeout=30)
    states = {}
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            pid = parts[3].rstrip(",") if len(parts) >= 4 and parts[2] == "pid" else None
            states[parts[0]] = (parts[1], pid)
    if not states:
        raise AssertionError(f"supervisorctl status gave nothing: {p.stdout}{p.stderr}")
    return states


def component_state(name):
    return component_states().get(name, (None, None))[0]


def component_pid(name):
    return component_states().get(name, (None, None))[1]


def rabbitmqctl(*args):
    return stack("rabbitmqctl", *args).stdout


def wait_services_ready(names=("dialogs", "counters", "backend"), timeout=90, drain=True):
    def ready():
        for n in names:
            r = requests.get(f"http://127.0.0.1:{PORTS[n]}/readyz", timeout=2)
            if r.status_code != 200:
                return False
        return True

    wait_for(ready, timeout=timeout, interval=0.25, desc=f"{names} ready")
    if drain:
        drain_gateway()


_probe = {}


def new_chat_user(base_url, tag="user"):
    """Register and log in a throwaway user (plain requests, raising on failure): a ChatUser."""
    base = base_url.rstrip("/")
    pw = "probe password " + uuid.uuid4().hex
    r = requests.post(base + "/user/register", json={
        "first_name": tag, "second_name": uuid.uuid4().hex[:8], "birthdate": "1990-01-01",
        "biography": "", "city": "X", "password": pw}, timeout=HTTP_TIMEOUT)
    r.raise_for_status()
    uid = r.json()["user_id"]
    r = requests.post(base + "/login", json={"id": uid, "password": pw}, timeout=HTTP_TIMEOUT)
    r.raise_for_status()
    return ChatUser(base, uid, r.json()["token"])


def _probe_users():
    """Two throwaway users whose dialog the gateway probes use."""
    if not _probe:
        base = os.environ.get("BACKEND_URL", "http://127.0.0.1:8080")
        _probe["users"] = [new_chat_user(base, tag) for tag in ("probe-a", "probe-b")]
    return _probe["users"]


def drain_gateway(max_tries=100):
    """After dialogs or counters restarts, the backend's pooled keep-alive connections to the old
    process are dead and each request fails on two of them with a 503 (see
    test_gateway_answers_after_upstream_restart). Burn them with harmless requests so that tests
    about something else are not hit by that bug. Returns how many 503s it took."""
    a, b = _probe_users()
    failures = 0
    for path in (f"/dialog/{b.id}/list", "/counters/unread"):
        for _ in range(max_tries):
            r = a.http.get(a.base_url + path, headers=a.headers, timeout=HTTP_TIMEOUT)
            if r.status_code == 200:
                break
            failures += 1
        else:
            raise AssertionError(f"gateway still failing on {path}: {r.status_code} {r.text[:200]}")
    return failures


# --------------------------------------------------------------------------
# databases (a fresh connection per call: the tests restart PostgreSQL)
# --------------------------------------------------------------------------
def query(dsn, sql, args=None):
    conn = psycopg2.connect(dsn, connect_timeout=5)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall() if cur.description else cur.rowcount
    finally:
        conn.close()


def dialogs_q(sql, args=None):
    return query(DIALOGS_DSN, sql, args)


def counters_q(sql, args=None):
    return query(COUNTERS_DSN, sql, args)


def message_states(author, recipient):
    """{state: count} of the messages author -> recipient."""
    rows = dialogs_q("SELECT state, count(*) FROM messages WHERE author_id = %s AND recipient_id = %s "
                     "GROUP BY state", (author, recipient))
    return {s: n for s, n in rows}


def db_counter(author, recipient):
    """counters' unread_messages.count for the pair, None when there is no row."""
    rows = counters_q("SELECT count FROM unread_messages WHERE author_id = %s AND recepient_id = %s",
                      (author, recipient))
    return rows[0][0] if rows else None


def set_db_counter(author, recipient, count):
    counters_q("INSERT INTO unread_messages (author_id, recepient_id, count) VALUES (%s, %s, %s) "
               "ON CONFLICT (author_id, recepient_id) DO UPDATE SET count = EXCLUDED.count",
               (author, recipient, count))


def pair_snapshot(a, b):
    """What a bad request must not change for the dialog a<->b, in both databases."""
    msgs = dialogs_q("SELECT id::text, author_id::text, state, event_id::text, read_requested FROM messages "
                     "WHERE (author_id = %s AND recipient_id = %s) OR (author_id = %s AND recipient_id = %s) "
                     "ORDER BY id", (a, b, b, a))
    outbox = dialogs_q("SELECT count(*) FROM outbox WHERE routing_key IN (%s, %s)",
                       (f"{a}.{b}", f"{b}.{a}"))[0][0]
    return {"messages": msgs, "outbox": outbox, "counter_ab": db_counter(a, b), "counter_ba": db_counter(b, a)}


def stored_sends(text_like, ok_ids, ambiguous, pair=None):
    """What became of the acknowledged sends whose texts match the LIKE pattern `text_like` (each
    logical send has a unique text), of one (author, recipient) pair or of all: `stored` rows,
    `lost` ids that got a 200 but are not stored, `unexplained` {text: n} stored more than once
    although no attempt of theirs failed (a send applied twice), and `extra` rows that retries after
    an ambiguous failure legitimately added."""
    where, args = "text LIKE %s", [text_like]
    if pair:
        where += " AND author_id = %s AND recipient_id = %s"
        args += list(pair)
    per_text = dict(dialogs_q(f"SELECT text, count(*) FROM messages WHERE {where} GROUP BY text", args))
    ids = {r[0] for r in dialogs_q(f"SELECT id::text FROM messages WHERE {where}", args)}
    dups = {t: n for t, n in per_text.items() if n > 1}
    return {"stored": sum(per_text.values()), "texts": per_text, "lost": sorted(set(ok_ids) - ids),
            "unexplained": {t: n for t, n in dups.items() if t not in ambiguous},
            "extra": sum(n - 1 for n in dups.values())}


# --------------------------------------------------------------------------
# RabbitMQ
# --------------------------------------------------------------------------
def amqp_connection():
    return pika.BlockingConnection(pika.URLParameters(AMQP_URL))


def queue_depth(queue):
    """Ready messages in a queue (passive declare)."""
    conn = amqp_connection()
    try:
        return conn.channel().queue_declare(queue=queue, passive=True).method.message_count
    finally:
        conn.close()


def queue_totals(queue):
    """(ready, unacked) of a queue, from rabbitmqctl."""
    out = rabbitmqctl("list_queues", "-q", "name", "messages_ready", "messages_unacknowledged")
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == queue:
            return int(parts[1]), int(parts[2])
    raise AssertionError(f"queue {queue} not found in:\n{out}")


def publish_raw(body, routing_key, exchange=REQUEST_EXCHANGE, message_id=None, correlation_id=None):
    """Publish one persistent message with confirms, mandatory (so an unroutable one fails)."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    conn = amqp_connection()
    try:
        ch = conn.channel()
        ch.confirm_delivery()
        ch.basic_publish(
            exchange=exchange, routing_key=routing_key, body=body, mandatory=True,
            properties=pika.BasicProperties(
                content_type="application/json", delivery_mode=2,
                message_id=message_id or str(uuid.uuid4()), correlation_id=correlation_id or "",
                headers={"x-request-id": "e2e-" + uuid.uuid4().hex[:16]}))
    finally:
        conn.close()


# --------------------------------------------------------------------------
# API client
# --------------------------------------------------------------------------
class ChatUser:
    """A registered, logged-in user with its own HTTP session."""

    def __init__(self, base_url, user_id, token):
        self.base_url = base_url
        self.id = user_id
        self.token = token
        self.headers = {"Authorization": f"Bearer {token}"}
        self.http = requests.Session()

    def __repr__(self):
        return f"ChatUser({self.id})"

    def send(self, to, text, base_url=None, session=None):
        return (session or self.http).post(f"{base_url or self.base_url}/dialog/{to}/send", json={"text": text},
                                           headers=self.headers, timeout=HTTP_TIMEOUT)

    def send_ok(self, to, text):
        r = self.send(to, text)
        assert r.status_code == 200, f"send failed {r.status_code}: {r.text[:300]}"
        return r.json()

    def list(self, other, **params):
        return self.http.get(f"{self.base_url}/dialog/{other}/list", params=params, headers=self.headers,
                             timeout=HTTP_TIMEOUT)

    def list_ok(self, other, **params):
        r = self.list(other, **params)
        assert r.status_code == 200, f"list failed {r.status_code}: {r.text[:300]}"
        body = r.json()
        assert isinstance(body, list), body
        return body

    def read(self, other):
        return self.http.post(f"{self.base_url}/dialog/{other}/read", headers=self.headers, timeout=HTTP_TIMEOUT)

    def unread_from(self, author):
        """Unread messages from `author` to me, from counters (through the backend)."""
        r = self.http.get(f"{self.base_url}/counters/{author}/unreadMessages", headers=self.headers,
                          timeout=HTTP_TIMEOUT)
        assert r.status_code == 200, f"counter failed {r.status_code}: {r.text[:300]}"
        body = r.json()
        assert body["user_id"] == author, body
        return body["count"]

    def unread_all(self):
        r = self.http.get(f"{self.base_url}/counters/unread", headers=self.headers, timeout=HTTP_TIMEOUT)
        assert r.status_code == 200, f"counters failed {r.status_code}: {r.text[:300]}"
        return r.json()


def audit_burst(a, b, burst):
    """stored_sends of a burst's pair once the saga is quiet, plus the logical sends missing by text
    (`lost`), the pair's states and counter, and `double`: counted more than there are UNREAD."""
    sends = stored_sends(f"{burst.prefix}-%", burst.ok_ids, burst.ambiguous, pair=(a.id, b.id))
    lost = [burst.text(i) for i in range(burst.total) if burst.text(i) not in sends["texts"]] + sends["lost"]
    states, counter = message_states(a.id, b.id), db_counter(a.id, b.id)
    return {**sends, "lost": lost, "states": states, "counter": counter,
            "double": max(0, counter - states.get("UNREAD", 0))}


# --------------------------------------------------------------------------
# burst of sends under faults
# --------------------------------------------------------------------------
class Burst:
    """`total` logical sends author -> recipient from `threads` threads, each with its own
    requests.Session. A send that fails with a 5xx or a connection error is retried until it
    gets a 200; each logical send has a unique text, so duplicates created by an ambiguous
    failure (committed, but the answer lost) can be told apart afterwards."""

    RETRY_STATUSES = {500, 502, 503, 504}

    def __init__(self, author, recipient, total, threads=8, prefix=None, base_urls=None, deadline=240):
        self.author, self.recipient, self.total, self.threads = author, recipient, total, threads
        self.prefix = prefix or f"burst-{uuid.uuid4().hex[:8]}"
        self.base_urls = base_urls or [author.base_url]
        self.deadline = deadline
        self.lock = threading.Lock()
        self.next_index = 0
        self.ok = 0                  # 200 responses
        self.failed_attempts = 0     # 5xx / connection errors (retried)
        self.ambiguous = set()       # texts whose send had a failed attempt before its 200
        self.unexpected = []         # any other status: a test failure
        self.ok_ids = set()
        self.failure_times = []      # time.time() of every failed attempt, for unavailability windows
        self._workers = []
        self.started = time.monotonic()
        self.finished = None

    def text(self, i):
        return f"{self.prefix}-{i:05d}"

    def _take(self):
        with self.lock:
            if self.next_index >= self.total:
                return None
            i = self.next_index
            self.next_index += 1
            return i

    def _worker(self, k):
        session = requests.Session()
        base = self.base_urls[k % len(self.base_urls)]
        stop_at = self.started + self.deadline
        try:
            while True:
                i = self._take()
                if i is None:
                    return
                text = self.text(i)
                while True:
                    if time.monotonic() > stop_at:
                        with self.lock:
                            self.unexpected.append((text, "gave up: deadline"))
                        return
                    try:
                        r = self.author.send(self.recipient.id, text, base_url=base, session=session)
                    except requests.RequestException:
                        status = None
                    else:
                        status = r.status_code
                    if status == 200:
                        with self.lock:
                            self.ok += 1
                            self.ok_ids.add(r.json()["id"])
                        break
                    if status is None or status in self.RETRY_STATUSES:
                        with self.lock:
                            self.failed_attempts += 1
                            self.ambiguous.add(text)
                            self.failure_times.append(time.time())
                        time.sleep(0.05)
                        continue
                    with self.lock:
                        self.unexpected.append((text, status, r.text[:200]))
                    break
        finally:
            session.close()

    def start(self):
        for k in range(self.threads):
            t = threading.Thread(target=self._worker, args=(k,), daemon=True)
            t.start()
            self._workers.append(t)
        return self

    def progress(self):
        with self.lock:
            return self.ok

    def stop(self):
        """No new logical sends: the ones begun are finished (retried to a 200) and the total
        becomes what was taken."""
        with self.lock:
            self.total = self.next_index
        return self

    def join(self):
        for t in self._workers:
            t.join()
        self.finished = time.monotonic()
        return self
