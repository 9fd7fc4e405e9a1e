"""One run: what it shares (Bench), its readiness check and the data every run starts from."""
import contextlib
import datetime
import os
import shutil
import sys
from pathlib import Path

import psycopg2
import requests

import saga_metrics  # bench/saga_metrics.py
from benchlib.common import (REPO, SAGACTL, Progress, components, dialogs_metrics_urls, is_running, stack, stack_env,
                             ticking)
from benchlib.limits import Limits
from benchlib.meter import Roots, RssWatch
from benchlib.runner import run_json_command
from benchlib.saga_state import rabbitmq_queues


class Bench:
    """What one run shares: options, stack coordinates, output folder, progress, limits, rows."""

    def __init__(self, args):
        self.args = args
        self.ts = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self.out = Path(args.out)
        self.work = self.out / ("bench_" + self.ts)
        self.work.mkdir(parents=True, exist_ok=True)
        self.progress = Progress()
        self.base_env = dict(os.environ)  # what bench.py was started with (use_stack)
        self.roots = Roots(())
        self.use_stack()
        self.rss_watch = RssWatch(self.roots)
        self.limits = Limits(self)
        self.rows, self.details = [], {}
        self._pairs = {}  # per profile: each has its own users
        self.legs = {"send": {}, "drain": None}  # the saga's measured legs (send.saga_legs)

    def add(self, row):
        self.rows.append(row)
        if row.get("pass") is False:
            self.progress.say("MISS %s c=%s: %s" % (row["scenario"], row.get("concurrency"), row.get("target")))
        return row

    def use_stack(self):
        """The running stack's coordinates (`scripts/stack env`) into self.env and into this
        process's environment, which every command the bench starts inherits: http_ceiling.sh,
        pgbench_send.sh, sagactl, gen_data.py, bench_feed.py default to the default ports, so
        without it they measured (and checked) whatever stack listens there. Called again when
        the cluster area switches profiles (after restore_env, so that the profile coming up does
        not inherit the coordinates of the one before); the meter then follows its components."""
        self.env = stack_env()
        self.restore_env(**self.env)
        self.profile = self.env.get("STACK_PROFILE", "single")
        self.roots.names = components(self.env)
        self.roots.invalidate()

    def restore_env(self, **extra):
        """This process's environment back to what it was started with, plus EXTRA."""
        os.environ.clear()
        os.environ.update(self.base_env, **extra)

    def pairs(self):
        """The pairs file of the send and saga areas (--pairs pairs, registered once per run and
        profile)."""
        if self.profile not in self._pairs:
            path = str(self.work / ("pairs.txt" if self.profile == "single" else "pairs_%s.txt" % self.profile))
            with ticking(self, "registering %d users" % (2 * self.args.pairs)):
                saga_metrics.make_pairs(self.env["BACKEND_URL"], self.args.pairs, path)
            self._pairs[self.profile] = path
        return self._pairs[self.profile]

    def dialogs_metrics(self):
        return dialogs_metrics_urls(self.env)

    def control(self, verb, names, env=None):
        """scripts/stack VERB NAME for each of NAMES (start and restart wait for readiness)."""
        for name in names:
            stack(verb, name, env=env)
        self.roots.invalidate()


def check_ready(bench):
    """Fail early, with the fix, when the stack or a tool is not there."""
    try:
        requests.get(bench.env["BACKEND_URL"] + "/readyz", timeout=3).raise_for_status()
    except requests.RequestException as e:
        sys.exit("bench: the stack is not up (%s): run `scripts/stack up` (make bench does)" % e)
    for tool in ("wrk", SAGACTL):
        if not shutil.which(tool) and not Path(tool).exists():
            sys.exit("bench: %s is missing (make build; apt-get install wrk)" % tool)


def reset_saga_data(bench):
    """Empties dialogs' and counters' tables and the saga's queues (dead letters included), with
    both services stopped, so that every run starts from the same place: without it each run
    inherited the millions of messages of the runs before, and autovacuum working through them.
    Then loads the background dialogs (--dialogs, --messages) while they are still stopped."""
    services = [name for name in ("dialogs", "dialogs-2", "counters", "counters-2") if is_running(name)]
    with ticking(bench, "resetting messages, counters and saga queues (--keep-data keeps them)"):
        bench.control("stop", services)
        for key, tables in (("DIALOGS_PG_DSN", "messages, outbox, inbox"),
                            ("COUNTERS_PG_DSN", "unread_messages, outbox, inbox")):
            with contextlib.closing(psycopg2.connect(bench.env[key], application_name="bench.py")) as conn:
                with conn, conn.cursor() as cur:
                    cur.execute("TRUNCATE " + tables)
        for queue in rabbitmq_queues():
            if queue.startswith(("dialogs.", "counters.")):
                stack("rabbitmqctl", "purge_queue", queue)
    try:
        if bench.args.messages:
            load_background(bench)
    finally:
        bench.control("start", services)


def load_background(bench):
    """--messages in --dialogs between existing users (scripts/gen_data.py --users 0), or between
    as many new ones as it takes when the database holds fewer than two users per dialog."""
    dialogs, messages = bench.args.dialogs, bench.args.messages
    users = 0 if users_count(bench) >= 2 * dialogs else 2 * dialogs
    cmd = [str(REPO / "scripts/gen_data.py"), "--users", str(users), "--dialogs", str(dialogs),
           "--messages", str(messages)]
    res = run_json_command(bench, "background", cmd,
                           label="loading the background: %d messages in %d dialogs" % (messages, dialogs))
    bench.details["background"] = res
    if "error" in res:
        raise RuntimeError("scripts/gen_data.py failed: %s" % res["error"])
    bench.progress.say("background: %d messages in %d dialogs (%d unread) loaded in %s s"
                       % (messages, dialogs, res.get("unread", 0), res.get("total_seconds")))


def users_count(bench):
    conn = psycopg2.connect(bench.env["BACKEND_PG_DSN"])
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM users")
            return cur.fetchone()[0]
    finally:
        conn.close()
