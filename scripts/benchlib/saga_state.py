"""The saga's state: its backlog (PENDING messages, outboxes, queues) and its drain."""
import statistics
import subprocess
import threading
import time

import pika  # Debian's python3-pika
import psycopg2

from benchlib.common import QUEUES, SAGACTL, stack, ticking


class SagaProbe:
    """Cheap looks at the saga's backlog: PENDING messages (dialogs' partial pending index), the
    rows in both outboxes, the messages ready in both work queues (passive queue.declare)."""

    def __init__(self, env):
        self.env = env
        self.dialogs = self._pg("DIALOGS_PG_DSN")
        self.counters = self._pg("COUNTERS_PG_DSN")
        self.amqp = None

    def _pg(self, key):
        conn = psycopg2.connect(self.env[key], application_name="bench.py")
        conn.autocommit = True
        return conn

    @staticmethod
    def _one(conn, sql):
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchone()[0]

    def any_pending(self):
        return self._one(self.dialogs, "SELECT EXISTS (SELECT 1 FROM messages "
                                       "WHERE state IN ('PENDING_UNREAD', 'PENDING_READ'))")

    def pending(self):
        return self._one(self.dialogs, "SELECT count(*) FROM messages "
                                       "WHERE state IN ('PENDING_UNREAD', 'PENDING_READ')")

    def queue_ready(self, queue):
        """Messages ready in QUEUE (not those delivered and unacked), None if unreachable."""
        try:
            if self.amqp is None or not self.amqp.is_open:
                params = pika.URLParameters(self.env["AMQP_URL"].split(",")[0])  # the stack's admin user
                self.amqp = pika.BlockingConnection(params)
            channel = self.amqp.channel()
            try:
                return channel.queue_declare(queue=queue, passive=True).method.message_count
            finally:
                if channel.is_open:
                    channel.close()
        except Exception:
            self.amqp = None
            return None

    def snapshot(self):
        return {"pending": self.pending(),
                "outbox_dialogs": self._one(self.dialogs, "SELECT count(*) FROM outbox"),
                "outbox_counters": self._one(self.counters, "SELECT count(*) FROM outbox"),
                **{"queue_" + q: self.queue_ready(q) for q in QUEUES}}

    def close(self):
        for conn in (self.dialogs, self.counters):
            conn.close()
        if self.amqp is not None and self.amqp.is_open:
            self.amqp.close()


class BacklogSampler:
    """SagaProbe.snapshot() once a second in a thread of its own, while the body runs."""

    def __init__(self, env):
        self.env = env
        self.samples = []
        self.stop_event = threading.Event()

    def __enter__(self):
        self.t0 = time.monotonic()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.thread.join()

    def _run(self):
        probe = SagaProbe(self.env)
        try:
            while not self.stop_event.wait(1.0):
                self.samples.append((round(time.monotonic() - self.t0, 1), probe.snapshot()))
        finally:
            probe.close()

    def last(self):
        """The latest sample as a short progress text."""
        if not self.samples:
            return ""
        s = self.samples[-1][1]
        return "pending %s outbox d/c %s/%s queued %s" % (
            s["pending"], s["outbox_dialogs"], s["outbox_counters"],
            "/".join(str(s["queue_" + q]) for q in QUEUES))


def backlog_grows(samples, rate):
    """True when the PENDING backlog rose by more than half a second of sends over the run:
    the mean of the last third of the samples against the mean of the first third."""
    values = [s["pending"] for _, s in samples]
    k = len(values) // 3
    if k == 0:
        return False
    return statistics.mean(values[-k:]) - statistics.mean(values[:k]) > 0.5 * rate


def wait_drained(bench, probe, label, cap=None):
    """Seconds until the saga is drained: no PENDING message (cheap poll every 50 ms), then
    `sagactl check` exits 0; the time is taken at the poll that the passing check followed.
    None when not drained within cap seconds (--drain-cap)."""
    cap = bench.args.drain_cap if cap is None else cap
    t0 = time.monotonic()
    with ticking(bench, label, extra=lambda: "pending %d" % probe.pending()):
        while time.monotonic() - t0 < cap:
            seen = time.monotonic()
            if not probe.any_pending():
                check = subprocess.run([SAGACTL, "check"], capture_output=True, text=True)
                if check.returncode == 0:
                    return round(seen - t0, 2)
                bench.last_check = check.stdout[-400:] + check.stderr[-400:]
            time.sleep(0.05)
    bench.progress.say("warning: %s: not drained after %d s: %s" % (label, cap, getattr(bench, "last_check", "")))
    return None


def rabbitmq_queues():
    """{queue: messages} of every queue, dead-letter queues included (rabbitmqctl)."""
    out = stack("rabbitmqctl", "list_queues", "-q", "name", "messages", check=False).stdout
    queues = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            queues[parts[0]] = int(parts[1])
    return queues
