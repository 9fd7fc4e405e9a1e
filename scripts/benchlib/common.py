"""What every part of the bench shares: the repository's paths, the stack's coordinates and
control (scripts/stack), the progress line."""
import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
AREAS = ("limits", "send", "saga", "reads", "feed", "search", "cluster")  # the order they run in
STACK = str(REPO / "scripts/stack")
SAGACTL = str(REPO / "build/tools/sagactl/sagactl")
AMQP_BENCH = str(REPO / "build/tools/amqp_bench/amqp_bench")
SERVICES = ("backend", "dialogs", "counters", "backend-2", "dialogs-2", "counters-2")
COMPONENTS = SERVICES + ("postgres", "rabbitmq", "redis")  # the single profile's
QUEUES = ("counters.unreadMessages", "dialogs.unreadMessagesCounted")
RSS_LIMIT_MIB = 64
KEEP_PACE_DRAIN_S = 2.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


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


def topology(env):
    """[(name, role, host, port)] of the cluster profile's topology file (CLUSTER_TOPOLOGY, or
    deploy/cluster.topology), the one source scripts/stack generates the cluster from."""
    path = env.get("CLUSTER_TOPOLOGY") or str(REPO / "deploy/cluster.topology")
    rows = []
    with open(path) as f:
        for line in f:
            fields = line.split("#", 1)[0].split()
            if len(fields) >= 4:
                rows.append((fields[0], fields[1], fields[2], int(fields[3])))
    return rows


def components(env):
    """The names `scripts/stack pid` knows in the running profile (epmd aside: it is RabbitMQ's)."""
    if env.get("STACK_PROFILE") != "cluster":
        return COMPONENTS
    return tuple(name for name, role, _, _ in topology(env) if role != "epmd")


def dialogs_metrics_urls(env):
    """/metrics of each dialogs copy, directly (in the cluster DIALOGS_PORT is HAProxy's)."""
    if env.get("STACK_PROFILE") != "cluster":
        return ["http://127.0.0.1:%s/metrics" % env[k] for k in ("DIALOGS_PORT", "DIALOGS2_PORT")]
    return ["http://%s:%d/metrics" % (host, port) for _, role, host, port in topology(env) if role == "dialogs"]


def is_running(name):
    return stack("pid", name, check=False).returncode == 0
