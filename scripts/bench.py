#!/usr/bin/python3
"""The one benchmark runner: every figure next to the physical limit measured in the same run.

  scripts/bench.py [--quick] [options] [area ...]      (all areas by default, in this order)

areas
  limits  the limits themselves: bench/pgbench_send.sh (dialogs' send transaction alone in
          PostgreSQL), bench/http_ceiling.sh (backend /healthz, counters /counters/ping direct
          and through the gateway), build/tools/amqp_bench/amqp_bench (RabbitMQ through libs/amqp).
          Other areas measure the limits they are quoted against when `limits` did not.
  send    POST /dialog/{id}/send alone: counters (and counters-2) stopped, so the saga consumers
          are paused while dialogs' outbox relay keeps publishing into the queue; wrk at each
          concurrency, ratio vs pgbench_send at the same concurrency (target >= 0.8). Then
          counters starts again and the drain is timed until `sagactl check` passes.
  saga    the whole saga, everything running. A ladder of paced send rates (wrk delay(), each
          step --saga-step s at --saga-connections connections; rungs are fractions of the
          pgbench rate at that concurrency) finds the highest rate it keeps pace with: the rate
          achieved, the PENDING backlog not growing, everything drained (sagactl check) within 2 s
          of the load stopping. Bisected --saga-refine times between the last rung kept and the
          first missed. Then --sustain s at that rate (target >= 0.6 x pgbench) and --half s at
          half of what that run held (target: send->UNREAD p99 <= 50 ms, from dialogs'
          saga_send_to_unread_seconds histogram deltas). CPU per operation here is per
          completed saga, load plus drain.
          Last, --half s of each recipient listing its dialog, which marks it read: list req/s,
          read->READ p50/p99 (saga_read_to_read_seconds) and the drain.
  reads   GET /counters/unread (bench/unread.lua; target >= 0.5 x gateway ceiling, p99 <= 2 ms
          at c16) and GET /dialog/{id}/list of dialogs holding 100 messages (bench/list.lua, as
          the recipient; target >= 0.3 x gateway ceiling). dialogs is restarted with
          MARK_AS_READ_ON_LISTING=0 for these runs, so listing reads only (no read events), and
          restarted with its defaults afterwards.
  feed    GET /post/feed warm (bench/feed.lua; target >= 0.4 x backend /healthz ceiling), then
          the cold rebuild and post->WebSocket latency of scripts/bench_feed.py.
  search  bench/search.py per concurrency on a million users (scripts/gen_data.py --users
          1000000 first when the users table holds fewer than 950,000); target p99 <= 20 ms at c16.

Every run first empties dialogs' and counters' tables (messages, unread counters, outboxes,
inboxes) and purges the saga's queues, with both services stopped, then loads the same background
of --dialogs dialogs holding --messages messages in all (10,000 and 1,000,000; between existing
users, with their unread counters; scripts/gen_data.py, ~5 s) before starting them again
(--keep-data skips all of it): the users, posts and friends stay. Runs then start alike instead of
on the millions of messages every earlier run left behind, and on tables of a realistic size
rather than empty ones.

For every load run: req/s, latency p50/p99/p99.9 (wrk), CPU microseconds per operation summed
over every process of the stack (each component's process tree from `scripts/stack pid NAME`:
utime+stime plus the children it reaped, so PostgreSQL backends that came and went count;
wrk's own CPU separately), and each service's peak RSS (VmHWM after `echo 5 > clear_refs`).
Prints a progress line on stderr, then a table on stdout; writes results/bench_<UTC>.json (all
of it), results/bench_<UTC>.png (gnuplot) and results/bench_<UTC>/ (raw outputs). wrk, the
limits and the stack share the machine's cores: the figures are for this machine, as ratios.

The Makefile targets (make bench, bench-limits, bench-send, bench-saga, bench-reads,
bench-feed, bench-search) build, bring the stack up and run this; BENCH_ARGS passes options.
Durations: --quick is ~5 minutes for all areas, the default ~15-20.
"""
import argparse
import contextlib
import datetime
import json
import math
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.dont_write_bytecode = True  # bench/saga_metrics.py and scripts/bench_feed.py are imported
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "scripts"))

import pika  # noqa: E402  (Debian's python3-pika)
import psycopg2  # noqa: E402
import requests  # noqa: E402

import saga_metrics  # noqa: E402  (bench/saga_metrics.py)

AREAS = ("limits", "send", "saga", "reads", "feed", "search")
STACK = str(REPO / "scripts/stack")
SAGACTL = str(REPO / "build/tools/sagactl/sagactl")
AMQP_BENCH = str(REPO / "build/tools/amqp_bench/amqp_bench")
SERVICES = ("backend", "dialogs", "counters", "dialogs-2", "counters-2")
COMPONENTS = SERVICES + ("postgres", "rabbitmq", "redis")
QUEUES = ("counters.unreadMessages", "dialogs.unreadMessagesCounted")
RSS_LIMIT_MIB = 64
KEEP_PACE_DRAIN_S = 2.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

def parse_args(argv):
    """Options; --quick only changes the defaults of the durations not given explicitly."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    ap.add_argument("areas", nargs="*", metavar="area", help="one of %s (default: all)" % ", ".join(AREAS))
    ap.add_argument("--quick", action="store_true", help="short durations: a whole pass in ~5 minutes")
    ap.add_argument("--duration", type=int, help="seconds per load run and per limit (15; quick 5)")
    ap.add_argument("--concurrency", default="1,16,64", help="wrk connections, comma-separated (1,16,64)")
    ap.add_argument("--pairs", type=int, default=50, help="sender/recipient pairs for send and saga (50)")
    ap.add_argument("--saga-connections", type=int, default=16, help="connections of the paced saga runs (16)")
    ap.add_argument("--saga-step", type=int, help="seconds per ladder rung (15; quick 5)")
    ap.add_argument("--saga-rates", help="explicit ladder, sends/s comma-separated (default: pgbench fractions)")
    ap.add_argument("--saga-refine", type=int, help="bisections after the ladder (2; quick 1)")
    ap.add_argument("--sustain", type=int, help="seconds of the sustained saga run (60; quick 15)")
    ap.add_argument("--half", type=int, help="seconds of the half-rate saga run (30; quick 10)")
    ap.add_argument("--drain-cap", type=int, default=300, help="give up waiting for a drain after this (300 s)")
    ap.add_argument("--out", default=str(REPO / "results"), help="results folder (results/)")
    ap.add_argument("--no-plot", action="store_true", help="skip the gnuplot PNG")
    ap.add_argument("--keep-data", action="store_true",
                    help="keep the messages, counters and saga queues of earlier runs (default: empty them first)")
    ap.add_argument("--dialogs", type=int, default=10_000, help="dialogs of the background loaded first (10,000)")
    ap.add_argument("--messages", type=int, default=1_000_000,
                    help="messages of the background, spread over its dialogs (1,000,000; 0: none)")
    args = ap.parse_args(argv)
    for area in args.areas:
        if area not in AREAS:
            ap.error("unknown area %r (one of %s)" % (area, ", ".join(AREAS)))
    args.areas = [a for a in AREAS if a in args.areas] if args.areas else list(AREAS)
    quick = args.quick
    defaults = {"duration": (15, 5), "saga_step": (15, 5), "saga_refine": (2, 1), "sustain": (60, 15),
                "half": (30, 10)}
    for name, (full, short) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, short if quick else full)
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    return args


# ---------------------------------------------------------------------------------------------
# Progress and logging
# ---------------------------------------------------------------------------------------------

class Progress:
    """One status line on stderr: rewritten in place on a terminal, else printed every 5 s."""

    def __init__(self):
        self.tty = sys.stderr.isatty()
        self.t0 = time.monotonic()
        self.last_print = 0.0
        self.shown = False
        self.lock = threading.Lock()

    def _stamp(self):
        e = int(time.monotonic() - self.t0)
        return "[%02d:%02d]" % (e // 60, e % 60)

    def show(self, text):
        """Replace the status line (or print it, at most every 5 s, when stderr is not a tty)."""
        line = "%s %s  load %s" % (self._stamp(), text, open("/proc/loadavg").read().split()[0])
        with self.lock:
            if self.tty:
                cols = shutil.get_terminal_size((120, 20)).columns
                sys.stderr.write("\r\033[K" + line[:cols - 1])
                self.shown = True
            elif time.monotonic() - self.last_print >= 5:
                sys.stderr.write(line + "\n")
                self.last_print = time.monotonic()
            sys.stderr.flush()

    def say(self, text):
        """A log line that stays (clears the status line first)."""
        with self.lock:
            if self.shown:
                sys.stderr.write("\r\033[K")
                self.shown = False
            sys.stderr.write("%s %s\n" % (self._stamp(), text))
            sys.stderr.flush()


@contextlib.contextmanager
def ticking(bench, label, seconds=None, extra=None):
    """Refresh the progress line every 0.5 s while the body runs (label, elapsed, extra())."""
    stop = threading.Event()
    t0 = time.monotonic()

    def loop():
        while not stop.wait(0.5):
            text = "%s %.0f%s" % (label, time.monotonic() - t0, "/%ds" % seconds if seconds else "s")
            if extra:
                try:
                    text += "  " + extra()
                except Exception:  # a progress detail must never stop the run
                    pass
            bench.progress.show(text)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


# ---------------------------------------------------------------------------------------------
# The stack
# ---------------------------------------------------------------------------------------------

def stack(*args, env=None, check=True):
    """scripts/stack ARGS; returns the completed process (stdout and stderr captured)."""
    return subprocess.run([STACK, *args], capture_output=True, text=True, check=check,
                          env=dict(os.environ, **(env or {})))


def stack_env():
    """The stack's coordinates (ports, DSNs, URLs) from `scripts/stack env`."""
    env = {}
    for line in stack("env").stdout.splitlines():
        if line.startswith("export "):
            for token in shlex.split(line[len("export "):]):
                key, _, value = token.partition("=")
                env[key] = value
    # The superuser's password, for psycopg2 and the pgbench/psql this starts (the stack asks for one).
    if "PGPASSFILE" in env:
        os.environ.setdefault("PGPASSFILE", env["PGPASSFILE"])
    return env


def is_running(name):
    return stack("pid", name, check=False).returncode == 0


def proc_table():
    """{pid: (ppid, cpu ticks, start time, comm)} of every process; cpu = utime + stime +
    cutime + cstime, i.e. its own time plus that of the children it has reaped."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, "rb") as f:
                data = f.read()
        except OSError:
            continue
        rest = data[data.rindex(b")") + 2:].split()
        comm = data[data.index(b"(") + 1:data.rindex(b")")].decode(errors="replace")
        table[int(entry)] = (int(rest[1]), sum(int(x) for x in rest[11:15]), int(rest[19]), comm)
    return table


def tree_ticks(root, table, children):
    """CPU ticks of a process and all its descendants (reaped ones included via cutime)."""
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            total += table[pid][1]
            todo.extend(children.get(pid, ()))
    return total


def children_of(table):
    kids = {}
    for pid, (ppid, *_) in table.items():
        kids.setdefault(ppid, []).append(pid)
    return kids


class Roots:
    """Main PID of each running component (`scripts/stack pid NAME`), resolved again only when
    one of them is gone or bench.py itself stopped or started something (invalidate())."""

    def __init__(self):
        self.cache = None

    def invalidate(self):
        self.cache = None

    def get(self, table):
        if self.cache is None or any(table.get(pid, (0, 0, None, ""))[2] != start
                                     for pid, start in self.cache.values()):
            with ThreadPoolExecutor(len(COMPONENTS)) as pool:
                outs = pool.map(lambda n: stack("pid", n, check=False), COMPONENTS)
            self.cache = {}
            for name, out in zip(COMPONENTS, outs):
                pid = out.stdout.strip()
                if out.returncode == 0 and pid.isdigit() and int(pid) in table:
                    self.cache[name] = (int(pid), table[int(pid)][2])
        return {name: pid for name, (pid, _) in self.cache.items()}


def foreign_load(table):
    """Load generators (wrk, pgbench, amqp_bench) running that bench.py did not start: somebody
    else is loading the machine, maybe this very stack."""
    mine, kids = set(), children_of(table)
    todo = [os.getpid()]
    while todo:
        pid = todo.pop()
        mine.add(pid)
        todo.extend(kids.get(pid, ()))
    return sorted("%s:%d" % (v[3], pid) for pid, v in table.items()
                  if v[3] in ("wrk", "pgbench", "amqp_bench") and pid not in mine)


def status_kb(pid, field):
    """A /proc/PID/status field in kB (VmRSS, VmHWM), or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss(pid):
    """Make VmHWM start again from the current RSS (Linux clear_refs 5)."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
    except OSError:
        pass


def machine_ticks():
    """(busy, total) jiffies of the whole machine from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    total = sum(fields)
    return total - fields[3] - fields[4], total


class Meter:
    """CPU of every process of the stack and peak RSS of each service over one window."""

    def __init__(self, roots):
        self.roots = roots

    def start(self):
        table = proc_table()
        self.roots0 = self.roots.get(table)
        for name, pid in self.roots0.items():
            if name in SERVICES:
                reset_peak_rss(pid)
        kids = children_of(table)
        self.ticks0 = {n: tree_ticks(p, table, kids) for n, p in self.roots0.items()}
        self.foreign0 = foreign_load(table)
        self.machine0 = machine_ticks()
        self.t0 = time.monotonic()
        return self

    def stop(self):
        """{"cpu_us": per component, "cpu_total_us", "rss_peak_mib": per service, ...}.
        A component restarted inside the window counts only its new process (the old one's
        last moments are lost): listed under "restarted"."""
        seconds = time.monotonic() - self.t0
        table = proc_table()
        roots1 = self.roots.get(table)
        kids = children_of(table)
        cpu, restarted = {}, []
        for name, pid in roots1.items():
            ticks = tree_ticks(pid, table, kids)
            if self.roots0.get(name) == pid:
                ticks -= self.ticks0[name]
            elif name in self.roots0:
                restarted.append(name)
            cpu[name] = round(ticks * 1e6 / CLK_TCK)
        busy0, total0 = self.machine0
        busy1, total1 = machine_ticks()
        rss = {n: round(status_kb(p, "VmHWM") / 1024, 1) for n, p in roots1.items()
               if n in SERVICES and status_kb(p, "VmHWM") is not None}
        return {"seconds": round(seconds, 2), "cpu_us": cpu, "cpu_total_us": sum(cpu.values()),
                "rss_peak_mib": rss, "restarted": restarted,
                "foreign_load": sorted(set(self.foreign0) | set(foreign_load(table))),
                "machine_busy_us": round((busy1 - busy0) * 1e6 / CLK_TCK),
                "machine_total_us": round((total1 - total0) * 1e6 / CLK_TCK),
                "machine_busy_pct": round(100 * (busy1 - busy0) / max(1, total1 - total0), 1)}


class RssWatch:
    """Peak VmRSS of each service over the whole run, set-up (user registration...) included:
    sampled every 200 ms from the PIDs Roots knows."""

    def __init__(self, roots):
        self.roots = roots
        self.peaks = {}
        self.stop_event = threading.Event()
        roots.get(proc_table())
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop_event.wait(0.2):
            for name, (pid, _) in list((self.roots.cache or {}).items()):
                kb = status_kb(pid, "VmRSS") if name in SERVICES else None
                if kb is not None:
                    self.peaks[name] = max(self.peaks.get(name, 0), round(kb / 1024, 1))

    def stop(self):
        self.stop_event.set()
        self.thread.join()
        return self.peaks


# ---------------------------------------------------------------------------------------------
# Saga state: backlog, queues, drain
# ---------------------------------------------------------------------------------------------

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
                params = pika.URLParameters(self.env["AMQP_URL"])  # the stack's admin user
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


# ---------------------------------------------------------------------------------------------
# Load: wrk and the baseline commands
# ---------------------------------------------------------------------------------------------

def run_wrk(bench, name, lua, concurrency, seconds, env=None, label=None, extra=None):
    """wrk -t min(2,C) -cC -dS --latency -s LUA against the backend; its BENCH_JSON as a dict
    plus wrk_cpu_us (wrk's own CPU). Raw output in the run's folder as NAME.wrk."""
    threads = min(2, concurrency)
    cmd = ["wrk", "-t%d" % threads, "-c%d" % concurrency, "-d%ds" % seconds, "--timeout", "10s",
           "--latency", "-s", lua, bench.env["BACKEND_URL"]]
    wenv = dict(os.environ, BENCH_THREADS=str(threads), **(env or {}))
    path = bench.work / (name + ".wrk")
    with open(path, "w") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=wenv)
    _, usage = wait_ticking(bench, proc, label or name, seconds, extra)
    text = path.read_text()
    line = next((l for l in text.splitlines() if l.startswith("BENCH_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError("wrk failed (%s): %s" % (name, text[-600:]))
    result = json.loads(line[len("BENCH_JSON "):])
    result["wrk_cpu_us"] = round((usage.ru_utime + usage.ru_stime) * 1e6)
    return result


def wait_ticking(bench, proc, label, seconds, extra=None):
    """Wait for proc with the progress line ticking; (its stdout if piped, else None; its rusage).
    Terminated if the wait is interrupted."""
    stdout = None
    try:
        with ticking(bench, label, seconds, extra):
            if proc.stdout is not None:
                stdout = proc.stdout.read()
            _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if proc.returncode is None:
            proc.terminate()
            proc.wait()
    return stdout, usage


def run_json_command(bench, name, cmd, seconds=None, label=None):
    """Run a baseline/benchmark command (stderr to NAME.log); its last stdout line as JSON plus
    loadgen_cpu_us (its CPU and its children's). {"error": ...} when it failed or is missing."""
    if not Path(cmd[0]).exists() and not shutil.which(cmd[0]):
        return {"error": "missing: %s" % cmd[0]}
    with open(bench.work / (name + ".log"), "w") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=log, text=True)
        stdout, usage = wait_ticking(bench, proc, label or name, seconds)
    (bench.work / (name + ".out")).write_text(stdout)
    lines = [l for l in stdout.splitlines() if l.strip()]
    try:
        result = json.loads(lines[-1])
    except (IndexError, ValueError):
        result = {"error": "no JSON last line (exit %s); see %s.log" % (proc.returncode, name)}
    if proc.returncode != 0 and "error" not in result:
        result["error"] = "exit %d; see %s.log" % (proc.returncode, name)
    result["loadgen_cpu_us"] = round((usage.ru_utime + usage.ru_stime) * 1e6)
    return result


def measured(bench, body):
    """(body(), Meter result) with the meter around the body."""
    meter = Meter(bench.roots).start()
    value = body()
    return value, meter.stop()


# ---------------------------------------------------------------------------------------------
# Rows of the report
# ---------------------------------------------------------------------------------------------

def per_op(total, ops):
    return round(total / ops, 1) if total is not None and ops else None


def other_cpu_pct(meter, loadgen_us):
    """CPU the machine spent outside the stack and the load generator during the window (other
    sessions, bench.py itself), in % of all cores: the noise under the figure."""
    if not meter.get("machine_total_us"):
        return None
    other = meter["machine_busy_us"] - meter["cpu_total_us"] - loadgen_us
    return round(max(0.0, 100.0 * other / meter["machine_total_us"]), 1)


def wrk_row(area, scenario, concurrency, w, meter, ops=None):
    """A report row from a wrk result and its meter; ops (default: requests) divides the CPU."""
    seconds = w["duration_us"] / 1e6
    ops = w["requests"] if ops is None else ops
    return {"area": area, "scenario": scenario, "concurrency": concurrency,
            "requests": w["requests"], "seconds": round(seconds, 2),
            "rps": round(w["requests"] / seconds, 1) if seconds else None,
            "p50_ms": w["p50_us"] / 1000, "p99_ms": w["p99_us"] / 1000, "p999_ms": w["p999_us"] / 1000,
            "max_ms": w["max_us"] / 1000, "non2xx": w["non2xx"],
            "socket_errors": w["connect_err"] + w["read_err"] + w["write_err"] + w["timeouts"],
            "cpu_us_per_op": per_op(meter["cpu_total_us"], ops),
            "wrk_cpu_us_per_op": per_op(w["wrk_cpu_us"], w["requests"]), "meter": meter,
            "other_cpu_pct": other_cpu_pct(meter, w["wrk_cpu_us"])}


def judge(row, limit_name, limit_value, factor=None, checks=()):
    """Set ratio (row req/s over the limit), target text and PASS/MISS. factor: the minimum ratio;
    checks: more (text, ok) conditions. No target at all: pass stays None."""
    row["limit"] = {"name": limit_name, "value": limit_value}
    row["ratio"] = round(row["rps"] / limit_value, 3) if limit_value and row.get("rps") else None
    texts, oks = [], []
    if factor is not None:
        texts.append(">=%gx %s" % (factor, limit_name))
        oks.append(row["ratio"] is not None and row["ratio"] >= factor)
    for text, ok in checks:
        texts.append(text)
        oks.append(bool(ok))
    if row.get("non2xx") or row.get("socket_errors"):
        texts.append("no errors")
        oks.append(False)
    row["target"] = ", ".join(texts)
    row["pass"] = all(oks) if oks else None
    return row


def limit_row(scenario, concurrency, rps, p50=None, p99=None, meter=None, ops=None, loadgen_us=0, note=""):
    """A row for a measured limit (no target)."""
    return {"area": "limits", "scenario": scenario, "concurrency": concurrency, "rps": rps,
            "p50_ms": p50, "p99_ms": p99, "p999_ms": None, "pass": None, "target": "", "note": note,
            "cpu_us_per_op": per_op(meter["cpu_total_us"], ops) if meter else None, "meter": meter,
            "other_cpu_pct": other_cpu_pct(meter, loadgen_us) if meter else None}


class Limits:
    """The physical limits of this run, each measured once, when first needed."""

    def __init__(self, bench):
        self.bench = bench
        self.pg, self.http, self.amqp_result = {}, {}, None

    def pgbench(self, c):
        """pgbench_send tps at c clients (bench/pgbench_send.sh), or None."""
        if c not in self.pg:
            b = self.bench
            cmd = [str(REPO / "bench/pgbench_send.sh"), "--clients", str(c), "--seconds", str(b.args.duration)]
            res, meter = measured(b, lambda: run_json_command(b, "limit_pgbench_c%d" % c, cmd, b.args.duration,
                                                              "limits: pgbench send tx c=%d" % c))
            self.pg[c] = res
            b.add(limit_row("limit pgbench send tx", c, res.get("tps"), res.get("latency_p50_ms"),
                            res.get("latency_p99_ms"), meter, res.get("transactions"), res.get("loadgen_cpu_us", 0),
                            res.get("error", "PostgreSQL CPU per tx")))
        return self.pg[c].get("tps")

    def ceiling(self, c, key):
        """http_ceiling rps at concurrency c; key: backend_healthz, counters_direct or gateway."""
        if c not in self.http:
            b = self.bench
            cmd = [str(REPO / "bench/http_ceiling.sh"), "--concurrency", str(c), "--seconds", str(b.args.duration)]
            res, meter = measured(b, lambda: run_json_command(b, "limit_http_c%d" % c, cmd, 3 * b.args.duration,
                                                              "limits: http ceiling c=%d (3 targets)" % c))
            self.http[c] = res
            for k, title in (("backend_healthz", "limit http backend /healthz"),
                             ("counters_direct", "limit http ping direct"),
                             ("gateway", "limit http ping via gateway")):
                b.add(limit_row(title, c, res.get(k + "_rps"), res.get(k + "_p50_ms"), res.get(k + "_p99_ms"),
                                meter, None, res.get("loadgen_cpu_us", 0), res.get("error", "")))
        return self.http[c].get(key + "_rps")

    def amqp(self):
        """amqp_bench's result (publish/consume/both rates, latency)."""
        if self.amqp_result is None:
            b = self.bench
            res, meter = measured(b, lambda: run_json_command(b, "limit_amqp", [AMQP_BENCH, "--seconds",
                                                                                 str(b.args.duration)],
                                                              4 * b.args.duration, "limits: amqp_bench"))
            self.amqp_result = res
            err, gen = res.get("error", ""), res.get("loadgen_cpu_us", 0)
            b.add(limit_row("limit amqp publish+confirm", None, res.get("publish_per_s"), None, None, meter, None,
                            gen, err))
            b.add(limit_row("limit amqp consume+ack", None, res.get("consume_per_s"), None, None, meter, None,
                            gen, err))
            b.add(limit_row("limit amqp both at once", None, res.get("both_per_s"), res.get("latency_p50_ms"),
                            res.get("latency_p99_ms"), meter, None, gen, err or "latency publish->consume"))
        return self.amqp_result


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------

class Bench:
    """What one run shares: options, stack coordinates, output folder, progress, limits, rows."""

    def __init__(self, args):
        self.args = args
        self.ts = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self.out = Path(args.out)
        self.work = self.out / ("bench_" + self.ts)
        self.work.mkdir(parents=True, exist_ok=True)
        self.progress = Progress()
        self.env = stack_env()
        self.roots = Roots()
        self.rss_watch = RssWatch(self.roots)
        self.limits = Limits(self)
        self.rows, self.details = [], {}
        self._pairs = None

    def add(self, row):
        self.rows.append(row)
        if row.get("pass") is False:
            self.progress.say("MISS %s c=%s: %s" % (row["scenario"], row.get("concurrency"), row.get("target")))
        return row

    def pairs(self):
        """The pairs file of the send and saga areas (--pairs pairs, registered once per run)."""
        if self._pairs is None:
            self._pairs = str(self.work / "pairs.txt")
            with ticking(self, "registering %d users" % (2 * self.args.pairs)):
                saga_metrics.make_pairs(self.env["BACKEND_URL"], self.args.pairs, self._pairs)
        return self._pairs

    def dialogs_metrics(self):
        return ["http://127.0.0.1:%s/metrics" % self.env[k] for k in ("DIALOGS_PORT", "DIALOGS2_PORT")]

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


# ---------------------------------------------------------------------------------------------
# Areas
# ---------------------------------------------------------------------------------------------

def area_limits(bench):
    """Every limit at every concurrency: pgbench send tx, the HTTP ceilings, RabbitMQ."""
    for c in bench.args.concurrency:
        bench.limits.pgbench(c)
    for c in bench.args.concurrency:
        bench.limits.ceiling(c, "gateway")
    bench.limits.amqp()


def area_send(bench):
    """The send path alone, saga consumers paused; then the drain once counters is back."""
    pairs = bench.pairs()
    for c in bench.args.concurrency:
        bench.limits.pgbench(c)
    probe = SagaProbe(bench.env)
    try:
        wait_drained(bench, probe, "send: waiting for a quiet saga before")
        consumers = [n for n in ("counters", "counters-2") if is_running(n)]
        bench.progress.say("send: stopping %s (the saga consumers); dialogs keeps publishing" % ", ".join(consumers))
        bench.control("stop", consumers)
        try:
            for c in bench.args.concurrency:
                w, meter = measured(bench, lambda: run_wrk(bench, "send_c%d" % c, "bench/send.lua", c,
                                                           bench.args.duration, {"BENCH_PAIRS": pairs},
                                                           "send (consumers paused) c=%d" % c))
                bench.add(judge(wrk_row("send", "send, consumers paused", c, w, meter),
                                "pgbench c%d" % c, bench.limits.pgbench(c), 0.8))
        except BaseException:
            bench.control("start", consumers)
            raise
        # The drain counts from `scripts/stack start counters`: its consumer works before it is ready.
        backlog = probe.snapshot()
        before = saga_metrics.scrape(bench.dialogs_metrics())
        meter = Meter(bench.roots).start()
        t0 = time.monotonic()
        bench.control("start", consumers)
        startup = time.monotonic() - t0
        rest = wait_drained(bench, probe, "send: drain of %d sagas" % backlog["pending"])
        m = meter.stop()
        drain = None if rest is None else round(startup + rest, 2)
        done = saga_metrics.histogram_delta(before, saga_metrics.scrape(bench.dialogs_metrics()),
                                            "saga_send_to_unread_seconds")["count"]
        row = {"area": "send", "scenario": "send: drain after restart", "concurrency": None,
               "rps": round(done / drain, 1) if drain else None, "drain_s": drain, "backlog": backlog,
               "counters_startup_s": round(startup, 2), "sagas_completed": done,
               "cpu_us_per_op": per_op(m["cpu_total_us"], done), "meter": m, "target": "", "pass": None,
               "note": "%d PENDING drained %s s after `stack start counters` (ready after %.1f s); "
                       "req/s = sagas/s, CPU per saga" % (backlog["pending"], drain, startup)}
        bench.add(row)
    finally:
        probe.close()


def saga_run(bench, probe, name, rate, seconds):
    """Paced sends at RATE/s for SECONDS, then the drain: one row, CPU per completed saga over
    load + drain, send->UNREAD latency from the histogram deltas, the backlog samples."""
    c = bench.args.saga_connections
    pairs = bench.pairs()  # registered before the meter starts
    wait_drained(bench, probe, "%s: waiting for a quiet saga before" % name)
    before = saga_metrics.scrape(bench.dialogs_metrics())
    meter = Meter(bench.roots).start()
    with BacklogSampler(bench.env) as sampler:
        w = run_wrk(bench, "%s_%d" % (name.replace(" ", "_"), rate), "bench/send.lua", c, seconds,
                    {"BENCH_PAIRS": pairs, "BENCH_RATE": str(rate)},
                    "%s at %d/s c=%d" % (name, rate, c), sampler.last)
    at_stop = probe.snapshot()
    drain = wait_drained(bench, probe, "%s: drain" % name)
    m = meter.stop()
    saga = saga_metrics.histogram_delta(before, saga_metrics.scrape(bench.dialogs_metrics()),
                                        "saga_send_to_unread_seconds")
    row = wrk_row("saga", name, c, w, m, ops=saga["count"] or None)
    grows = backlog_grows(sampler.samples, rate)
    row.update({"target_rate": rate, "saga": saga, "drain_s": drain, "backlog_at_stop": at_stop,
                "backlog_samples": sampler.samples, "backlog_grows": grows})
    row["kept_pace"] = (row["rps"] >= 0.95 * rate and drain is not None and drain <= KEEP_PACE_DRAIN_S
                        and not grows and not row["non2xx"] and not row["socket_errors"])
    short = ", achieved only %d%%" % (100 * row["rps"] / rate) if row["rps"] < 0.95 * rate else ""
    row["note"] = "paced %d/s%s: e2e p50/p99 %s/%s ms, drain %s s, pending at stop %d%s" % (
        rate, short, saga["p50_ms"], saga["p99_ms"], drain, at_stop["pending"], ", backlog grew" if grows else "")
    return row


def read_saga_run(bench, probe):
    """The read side of the saga: each recipient lists its dialog as dialogs marks it read (the
    default MARK_AS_READ_ON_LISTING), wrk for --half s; read->READ latency from dialogs'
    saga_read_to_read_seconds histogram deltas, and the drain. CPU per list request."""
    c = bench.args.saga_connections
    pairs = bench.pairs()
    wait_drained(bench, probe, "saga reads: waiting for a quiet saga before")
    before = saga_metrics.scrape(bench.dialogs_metrics())
    meter = Meter(bench.roots).start()
    w = run_wrk(bench, "saga_reads", "bench/list.lua", c, bench.args.half, {"BENCH_PAIRS": pairs},
                "saga reads: list, marking read, c=%d" % c)
    drain = wait_drained(bench, probe, "saga reads: drain")
    m = meter.stop()
    saga = saga_metrics.histogram_delta(before, saga_metrics.scrape(bench.dialogs_metrics()),
                                        "saga_read_to_read_seconds")
    row = wrk_row("saga", "saga reads (list marks read)", c, w, m)
    row.update({"saga": saga, "drain_s": drain, "target": "", "pass": None,
                "note": "%d messages read: read->READ p50/p99 %s/%s ms, drain %s s" % (
                    saga["count"], saga["p50_ms"], saga["p99_ms"], drain)})
    return row


def saga_ladder(bench, base):
    """The rates to try first: fractions of the pgbench rate, or --saga-rates, or 250 x 1.4^k."""
    if bench.args.saga_rates:
        return [float(r) for r in bench.args.saga_rates.split(",")]
    if base:
        return [round(base * f) for f in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)]
    return [round(250 * 1.4 ** k) for k in range(10)]


def find_keep_pace_rate(bench, probe, base, base_name):
    """Climb the ladder to the first rung missed (or step down by halves when the first is
    missed), then bisect --saga-refine times: the highest rate kept, or None."""
    kept, missed = None, None

    def step(rate):
        nonlocal kept, missed
        row = judge(saga_run(bench, probe, "saga step", rate, bench.args.saga_step), base_name, base)
        row["target"], row["result"] = "keeps pace (drain<=2s)", "kept" if row["kept_pace"] else "missed"
        bench.rows.append(row)
        bench.progress.say("saga step %d/s: achieved %.0f/s, drain %s s, e2e p99 %s ms -> %s" % (
            rate, row["rps"], row["drain_s"], row["saga"]["p99_ms"], "kept pace" if row["kept_pace"] else "missed"))
        if row["kept_pace"]:
            kept = rate if kept is None else max(kept, rate)
        else:
            missed = rate if missed is None else min(missed, rate)
        return row["kept_pace"]

    ladder = saga_ladder(bench, base)
    for rate in ladder:
        if not step(rate):
            break
    if kept is None:
        rate = ladder[0]
        for _ in range(4):
            rate = round(rate / 2)
            if step(rate):
                break
    for _ in range(bench.args.saga_refine if kept and missed else 0):
        mid = round(math.sqrt(kept * missed))
        if mid in (kept, missed):
            break
        step(mid)
    return kept


def half_rate(sustained):
    """The pace of the half-rate run: half the rate the sustained run held. A 15 s rung of the
    ladder can keep pace at a rate the 60 s run then falls short of; half of that paced rate would
    measure the latency nearer the ceiling than the target's "half the rate it keeps pace with"."""
    held = sustained["target_rate"]
    if not sustained["kept_pace"]:
        held = min(held, sustained["rps"])
    return max(1, round(held / 2))


def area_saga(bench):
    """Keep-pace rate, sustained run at it, half-rate run for the end-to-end p99, then the reads
    that mark all those messages read (read->READ latency and drain)."""
    c = bench.args.saga_connections
    base = bench.limits.pgbench(c)
    probe = SagaProbe(bench.env)
    try:
        rate = find_keep_pace_rate(bench, probe, base, "pgbench c%d" % c)
        bench.details["saga_keep_pace_rate"] = rate
        if rate is None:
            bench.add({"area": "saga", "scenario": "saga sustained", "concurrency": c, "rps": None,
                       "target": ">=0.6x pgbench c%d" % c, "pass": False, "note": "no rate kept pace"})
            return
        row = saga_run(bench, probe, "saga sustained", rate, bench.args.sustain)
        bench.add(judge(row, "pgbench c%d" % c, base, 0.6, [("kept pace", row["kept_pace"])]))
        row = saga_run(bench, probe, "saga half rate", half_rate(row), bench.args.half)
        p99 = row["saga"]["p99_ms"]
        bench.add(judge(row, "pgbench c%d" % c, base, None, [("e2e p99<=50ms", p99 is not None and p99 <= 50)]))
        bench.add(read_saga_run(bench, probe))
        queues = rabbitmq_queues()
        bench.details["saga_queues_after"] = queues
        dead = {q: n for q, n in queues.items() if q.endswith(".dead") and n}
        if dead:
            bench.progress.say("warning: dead-lettered messages: %s" % dead)
    finally:
        probe.close()


def seed_dialogs(bench, pairs, per_pair):
    """per_pair messages from each sender to its recipient, 8 requests at a time."""
    base = bench.env["BACKEND_URL"]

    def send(job):
        s_id, s_tok, r_id, _ = job[0]
        r = requests.post("%s/dialog/%s/send" % (base, r_id), json={"text": "seed %d" % job[1]},
                          headers={"Authorization": "Bearer " + s_tok}, timeout=30)
        r.raise_for_status()

    jobs = [(p, i) for p in pairs for i in range(per_pair)]
    with ticking(bench, "reads: seeding %d messages" % len(jobs)), ThreadPoolExecutor(8) as pool:
        list(pool.map(send, jobs))


def list_states(bench, pair):
    """States of the messages the recipient lists in one dialog."""
    s_id, _, _, r_tok = pair
    r = requests.get("%s/dialog/%s/list" % (bench.env["BACKEND_URL"], s_id),
                     headers={"Authorization": "Bearer " + r_tok}, timeout=10)
    r.raise_for_status()
    return [m["state"] for m in r.json()]


def area_reads(bench):
    """GET /counters/unread and GET /dialog/{id}/list (100 messages, not marked read)."""
    for c in bench.args.concurrency:
        bench.limits.ceiling(c, "gateway")
    path = str(bench.work / "reads_pairs.txt")
    with ticking(bench, "reads: registering 40 users"):
        pairs = saga_metrics.make_pairs(bench.env["BACKEND_URL"], 20, path, tag="Reads")
    seed_dialogs(bench, pairs, 100)
    probe = SagaProbe(bench.env)
    try:
        wait_drained(bench, probe, "reads: drain of the seeded messages")
    finally:
        probe.close()
    copies = [n for n in ("dialogs", "dialogs-2") if is_running(n)]
    bench.progress.say("reads: restarting %s with MARK_AS_READ_ON_LISTING=0" % ", ".join(copies))
    bench.control("restart", copies, env={"MARK_AS_READ_ON_LISTING": "0"})
    try:
        list_states(bench, pairs[0])
        states = list_states(bench, pairs[0])
        if len(states) != 100 or set(states) != {"UNREAD"}:
            raise RuntimeError("reads: a listed dialog holds %d messages in states %s, want 100 UNREAD"
                               % (len(states), sorted(set(states))))
        env = {"BENCH_PAIRS": path}
        for c in bench.args.concurrency:
            w, m = measured(bench, lambda: run_wrk(bench, "unread_c%d" % c, "bench/unread.lua", c,
                                                   bench.args.duration, env, "reads: GET /counters/unread c=%d" % c))
            row = wrk_row("reads", "GET /counters/unread", c, w, m)
            checks = [("p99<=2ms", row["p99_ms"] <= 2)] if c == 16 else []
            bench.add(judge(row, "gateway c%d" % c, bench.limits.ceiling(c, "gateway"), 0.5, checks))
        for c in bench.args.concurrency:
            w, m = measured(bench, lambda: run_wrk(bench, "list_c%d" % c, "bench/list.lua", c,
                                                   bench.args.duration, env, "reads: GET /dialog/list c=%d" % c))
            bench.add(judge(wrk_row("reads", "GET /dialog/{id}/list x100", c, w, m),
                            "gateway c%d" % c, bench.limits.ceiling(c, "gateway"), 0.3))
        if set(list_states(bench, pairs[0])) != {"UNREAD"}:
            bench.progress.say("warning: reads: listing marked messages read after all")
    finally:
        bench.control("restart", copies, env={"MARK_AS_READ_ON_LISTING": ""})  # empty: not passed on
        bench.progress.say("reads: %s restarted with the default MARK_AS_READ_ON_LISTING" % ", ".join(copies))


def area_feed(bench):
    """Warm feed reads with wrk; cold rebuild and live WebSocket latency from bench_feed."""
    import bench_feed  # scripts/bench_feed.py

    for c in bench.args.concurrency:
        bench.limits.ceiling(c, "backend_healthz")
    with ticking(bench, "feed: users, follows and posts"):
        reader, authors = bench_feed.prepare()
    token = reader["Authorization"].split(" ", 1)[1]
    for c in bench.args.concurrency:
        w, m = measured(bench, lambda: run_wrk(bench, "feed_c%d" % c, "bench/feed.lua", c, bench.args.duration,
                                               {"BENCH_TOKEN": token}, "feed: GET /post/feed warm c=%d" % c))
        bench.add(judge(wrk_row("feed", "GET /post/feed warm", c, w, m),
                        "/healthz c%d" % c, bench.limits.ceiling(c, "backend_healthz"), 0.4))
    with ticking(bench, "feed: cold reads (Redis flushed)"):
        readers = bench_feed.cold_readers(authors)
        cold, m = measured(bench, lambda: bench_feed.cold(readers))
    bench.add({"area": "feed", "scenario": "GET /post/feed cold", "concurrency": cold["concurrency"],
               "rps": cold["rps"], "p50_ms": cold["p50_ms"], "p99_ms": cold["p99_ms"], "meter": m,
               "cpu_us_per_op": per_op(m["cpu_total_us"], cold["reads"]), "target": "", "pass": None,
               "note": "each read rebuilds the feed from PostgreSQL (python client, 16 threads)"})
    with ticking(bench, "feed: post -> WebSocket"):
        live = bench_feed.live()
    bench.add({"area": "feed", "scenario": "post -> WebSocket", "concurrency": 1, "rps": None,
               "p50_ms": live["p50_ms"], "p99_ms": live["p99_ms"], "target": "", "pass": None,
               "note": "%d/%d delivered" % (live["delivered"], live["posts"])})


def users_count(bench):
    conn = psycopg2.connect(bench.env["BACKEND_PG_DSN"])
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM users")
            return cur.fetchone()[0]
    finally:
        conn.close()


def area_search(bench):
    """bench/search.py once per concurrency (with the meter around it) on >= ~1M users."""
    n = users_count(bench)
    if n < 950_000:
        bench.progress.say("search: %d users; generating a million (scripts/gen_data.py)" % n)
        res = run_json_command(bench, "gen_data", [str(REPO / "scripts/gen_data.py"), "--users", "1000000"],
                               label="search: scripts/gen_data.py --users 1000000")
        bench.details["gen_data"] = res
        if "error" in res:
            raise RuntimeError("gen_data.py failed: %s" % res["error"])
    search = str(REPO / "bench/search.py")
    run_json_command(bench, "search_warmup", [search, "--concurrency", "16", "--duration", "3", "--warmup", "0"],
                     3, "search: warm-up")
    for c in bench.args.concurrency:
        cmd = [search, "--concurrency", str(c), "--duration", str(bench.args.duration), "--warmup", "0"]
        res, m = measured(bench, lambda: run_json_command(bench, "search_c%d" % c, cmd, bench.args.duration,
                                                          "search: GET /user/search c=%d" % c))
        if "error" in res or not res.get("runs"):
            bench.add({"area": "search", "scenario": "GET /user/search", "concurrency": c, "rps": None,
                       "pass": False if c == 16 else None, "target": "p99<=20ms" if c == 16 else "",
                       "note": res.get("error", "no runs")})
            continue
        run = res["runs"][0]
        requests_done = run.get("requests") or round(run["rps"] * bench.args.duration)
        row = {"area": "search", "scenario": "GET /user/search", "concurrency": c, "rps": run["rps"],
               "requests": requests_done, "p50_ms": run["p50_ms"], "p99_ms": run["p99_ms"],
               "p999_ms": run.get("p999_ms"), "non2xx": run.get("non2xx", 0),
               "socket_errors": run.get("socket_errors", 0), "meter": m,
               "cpu_us_per_op": per_op(m["cpu_total_us"], requests_done),
               "wrk_cpu_us_per_op": per_op(res["loadgen_cpu_us"], requests_done),
               "other_cpu_pct": other_cpu_pct(m, res["loadgen_cpu_us"]),
               "note": "1M users; wrk CPU includes search.py"}
        ceiling = bench.limits.http.get(c, {}).get("backend_healthz_rps")
        checks = [("p99<=20ms", run["p99_ms"] <= 20)] if c == 16 else []
        bench.add(judge(row, "/healthz c%d" % c, ceiling, None, checks))


# ---------------------------------------------------------------------------------------------
# Report: table, JSON, plot
# ---------------------------------------------------------------------------------------------

def fmt(v, nd=1):
    if v is None or v == "":
        return "-"
    if isinstance(v, float):
        return ("%." + str(nd) + "f") % v
    return str(v)


def peak_rss(bench):
    """{"windows": highest VmHWM of each service over the measured windows, "run": highest
    sampled VmRSS over the whole run, set-up included, "max": the higher of the two}."""
    windows = {}
    for row in bench.rows:
        for name, mib in ((row.get("meter") or {}).get("rss_peak_mib") or {}).items():
            windows[name] = max(windows.get(name, 0), mib)
    run = bench.rss_watch.stop()
    names = sorted(set(windows) | set(run))
    return {"windows": windows, "run": run,
            "max": {n: max(windows.get(n, 0), run.get(n, 0)) for n in names}}


def print_table(bench, peaks):
    """The summary table on stdout."""
    cols = [("scenario", 30), ("c", 3), ("req/s", 9), ("p50 ms", 7), ("p99 ms", 7), ("p99.9", 7),
            ("CPU us/op", 9), ("wrk us/op", 9), ("RSS MiB", 7), ("other%", 6), ("ratio", 6), ("target", 30),
            ("result", 6)]
    print(" ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(cols)) + "  note")
    for r in bench.rows:
        rss = {} if r["area"] == "limits" else (r.get("meter") or {}).get("rss_peak_mib") or {}
        cells = [r["scenario"][:30], fmt(r.get("concurrency")), fmt(r.get("rps"), 0), fmt(r.get("p50_ms"), 2),
                 fmt(r.get("p99_ms"), 2), fmt(r.get("p999_ms"), 2), fmt(r.get("cpu_us_per_op"), 0),
                 fmt(r.get("wrk_cpu_us_per_op"), 0), fmt(max(rss.values()) if rss else None),
                 fmt(r.get("other_cpu_pct"), 0) + ("!" if (r.get("meter") or {}).get("foreign_load") else ""),
                 fmt(r.get("ratio"), 2), r.get("target") or "",
                 r.get("result") or {True: "PASS", False: "MISS", None: ""}[r.get("pass")]]
        print(" ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, (_, w)) in enumerate(zip(cells, cols)))
              + "  " + (r.get("note") or ""))
    print("CPU us/op: every process of the stack per request (saga rows: per completed saga, load + drain); "
          "wrk us/op: the load generator's;\nRSS MiB: the highest service peak in the window; other%: CPU used "
          "outside the stack and wrk meanwhile (other sessions on the machine), in % of all cores;\n"
          "!: somebody else's wrk/pgbench/amqp_bench was running too (it may have loaded this very stack).")
    print()
    print("%-12s %22s %30s  target < %d MiB" % ("peak RSS MiB", "in measured windows", "whole run, set-up included",
                                               RSS_LIMIT_MIB))
    for name, v in peaks["max"].items():
        print("%-12s %22s %30s  %s" % (name, fmt(peaks["windows"].get(name)), fmt(peaks["run"].get(name)),
                                       "PASS" if v < RSS_LIMIT_MIB else "MISS"))
    sustained = next((r for r in bench.rows if r["scenario"] == "saga sustained" and r.get("meter")), None)
    if sustained:
        print("CPU per completed saga (sustained run, load + drain, all processes): %s us; wrk %s us per send"
              % (fmt(sustained["cpu_us_per_op"], 0), fmt(sustained["wrk_cpu_us_per_op"], 0)))


def write_json(bench, peaks, path):
    """Everything: options, limits' raw results, every row with its meter and details."""
    data = {"timestamp": bench.ts, "git": git_head(), "cores": os.cpu_count(),
            "args": {k: v for k, v in vars(bench.args).items()},
            "limits": {"pgbench_send": bench.limits.pg, "http_ceiling": bench.limits.http,
                       "amqp": bench.limits.amqp_result},
            "rows": bench.rows, "details": bench.details,
            "peak_rss_mib": peaks, "rss_target_mib": RSS_LIMIT_MIB,
            "note": "wrk, the limits and the stack share this machine's cores"}
    path.write_text(json.dumps(data, indent=1, default=str) + "\n")


def git_head():
    out = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return out.stdout.strip() or None


def plot_series(bench):
    """[(title, is_limit, [(c, rps, p99)])] for the concurrency plots."""
    series = {}
    for r in bench.rows:
        if r.get("concurrency") and r.get("rps") and r["scenario"] not in ("saga step",):
            key = r["scenario"]
            series.setdefault(key, []).append((r["concurrency"], r["rps"], r.get("p99_ms")))
    return [(k, k.startswith("limit "), sorted(v)) for k, v in series.items()]


PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#000000", "#393b79", "#637939", "#843c39", "#7b4173", "#3182bd")


def write_plot(bench, png):
    """Two panels: req/s and p99 against concurrency (log-log), limits dashed."""
    series = plot_series(bench)
    if not series or not shutil.which("gnuplot"):
        return None
    dat = bench.work / "plot.dat"
    with open(dat, "w") as f:
        for title, _, points in series:
            f.write("# %s\n" % title)
            for c, rps, p99 in points:
                f.write("%d %s %s\n" % (c, rps, p99 if p99 is not None else "NaN"))
            f.write("\n\n")

    def plots(column):
        return ", ".join("'%s' index %d using 1:%d with linespoints lw 2 lc rgb '%s' %s title '%s'" % (
            dat, i, column, PALETTE[i % len(PALETTE)], "dt 2 pt 6" if limit else "dt 1 pt 7",
            title.replace("'", "").replace("limit ", "limit: ")) for i, (title, limit, _) in enumerate(series))

    script = "\n".join([
        "set terminal pngcairo size 1800,750 font ',10' noenhanced",
        "set output '%s'" % png,
        "set multiplot layout 1,2 title 'bench %s (%s, %d cores): dashed = limits measured in the same run'"
        % (bench.ts, git_head(), os.cpu_count()),
        "set logscale xy", "set xrange [0.8:80]", "set xtics (1, 4, 16, 64)", "set grid",
        "set xlabel 'concurrency (wrk connections)'", "unset key",
        "set ylabel 'req/s'", "set title 'throughput'", "plot " + plots(2),
        "set key outside right top vertical font ',9'",
        "set ylabel 'p99 latency, ms'", "set title 'p99 latency'", "plot " + plots(3),
        "unset multiplot"])
    (bench.work / "plot.gp").write_text(script + "\n")
    out = subprocess.run(["gnuplot", str(bench.work / "plot.gp")], capture_output=True, text=True)
    if out.returncode != 0:
        bench.progress.say("warning: gnuplot failed: %s" % out.stderr[-400:])
        return None
    return png


def report(bench):
    peaks = peak_rss(bench)
    print_table(bench, peaks)
    path = bench.out / ("bench_%s.json" % bench.ts)
    write_json(bench, peaks, path)
    png = None if bench.args.no_plot else write_plot(bench, bench.out / ("bench_%s.png" % bench.ts))
    print("\nwrote %s%s (raw outputs in %s/)" % (path, " and %s" % png if png else "", bench.work))


def main(argv):
    args = parse_args(argv)
    bench = Bench(args)
    check_ready(bench)
    bench.progress.say("bench %s: areas %s, %d s per run, concurrency %s -> %s" % (
        bench.ts, " ".join(args.areas), args.duration, args.concurrency, bench.work))
    failed = []
    try:
        if not args.keep_data:
            reset_saga_data(bench)
        for area in args.areas:
            try:
                globals()["area_" + area](bench)
            except Exception as e:  # one area failing must not lose the others' results
                failed.append(area)
                detail = getattr(e, "stderr", "") or ""
                with open(bench.work / "errors.log", "a") as log:
                    log.write("area %s:\n%s%s\n" % (area, traceback.format_exc(), detail))
                bench.progress.say("error: area %s failed: %r %s (traceback in %s/errors.log)"
                                   % (area, e, detail[-400:], bench.work))
                bench.details.setdefault("errors", {})[area] = repr(e)
    except KeyboardInterrupt:
        bench.progress.say("interrupted: reporting what was measured")
        failed.append("interrupted")
    bench.progress.say("done")
    report(bench)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
