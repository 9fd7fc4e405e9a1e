"""Random faults for the soak (scripts/soak/soak.py), one at a time from a seeded RNG: SIGKILL of
any service copy, SIGKILL of PostgreSQL, a RabbitMQ restart, SIGKILL of Redis, SIGSTOP of a
service copy for 5 s. Each fault's window runs from the moment it strikes until every part is
ready again, plus a grace period: failures inside a window are expected, outside one they are not."""
import os
import signal
import socket
import threading
import time

import requests

from saga_helpers import PORTS, component_pid, component_states, stack

SERVICES = ("backend", "dialogs", "counters", "backend-2", "dialogs-2", "counters-2")
KINDS = ("kill-service", "kill-postgres", "restart-rabbitmq", "kill-redis", "stop-service")
GRACE = 5.0          # seconds after everything is ready again that still count as the fault's
RECOVER_LIMIT = 180  # a part not ready by then is a failure of the run


def redis_ready():
    try:
        with socket.create_connection(("127.0.0.1", int(os.environ.get("REDIS_PORT", 56379))), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def postgres_ready():
    import psycopg2  # noqa: PLC0415 - only here
    try:
        psycopg2.connect(os.environ.get("DIALOGS_PG_DSN", "host=127.0.0.1 dbname=dialogs user=postgres"),
                         connect_timeout=2).close()
        return True
    except psycopg2.Error:
        return False


def services_ready():
    try:
        return all(requests.get(f"http://127.0.0.1:{PORTS[n]}/readyz", timeout=2).status_code == 200
                   for n in SERVICES)
    except requests.RequestException:
        return False


def all_ready():
    states = component_states()
    running = all(states.get(n, ("",))[0] == "RUNNING" for n in SERVICES + ("postgres", "rabbitmq", "redis"))
    return running and redis_ready() and postgres_ready() and services_ready()


def wait_all_ready(limit=RECOVER_LIMIT):
    """Seconds until every component is up and every service copy ready; None past `limit`."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if all_ready():
            return time.monotonic() - start
        time.sleep(0.25)
    return None


def kill(name):
    stack("kill", name)


def stop_for(name, seconds=5.0):
    pid = int(component_pid(name))
    os.kill(pid, signal.SIGSTOP)
    time.sleep(seconds)
    os.kill(pid, signal.SIGCONT)


class Injector(threading.Thread):
    """Strikes a fault every gap_min..gap_max seconds (from the previous strike, and never before
    the previous fault's window closed) until stopped; records each fault's window."""

    def __init__(self, rng, gap_min, gap_max, t0, stop):
        super().__init__(daemon=True)
        self.rng, self.gap_min, self.gap_max, self.t0, self.stop_event = rng, gap_min, gap_max, t0, stop
        self.faults = []   # dicts: name, start, ready (s to recover or None), end (window end), all relative to t0
        self.error = None

    def pick(self):
        kind = self.rng.choice(KINDS)
        if kind in ("kill-service", "stop-service"):
            return f"{kind}:{self.rng.choice(SERVICES)}"
        return kind

    def strike(self, name):
        kind, _, target = name.partition(":")
        if kind == "kill-service":
            kill(target)
        elif kind == "kill-postgres":
            kill("postgres")
        elif kind == "restart-rabbitmq":
            stack("restart", "rabbitmq", timeout=240)
        elif kind == "kill-redis":
            kill("redis")
        elif kind == "stop-service":
            stop_for(target)

    def run(self):
        next_at = time.monotonic() + self.rng.uniform(self.gap_min, self.gap_max)
        try:
            while not self.stop_event.is_set():
                if self.stop_event.wait(max(0.0, next_at - time.monotonic())):
                    break
                name = self.pick()
                start = time.monotonic()
                next_at = start + self.rng.uniform(self.gap_min, self.gap_max)
                self.strike(name)
                time.sleep(1.0)  # let the fault be seen (a killed process is restarted in well under that)
                took = wait_all_ready()
                end = time.monotonic() + GRACE
                fault = {"name": name, "start": start - self.t0, "ready": None if took is None else
                         time.monotonic() - start, "end": end - self.t0}
                self.faults.append(fault)
                recovered = "NEVER" if took is None else f"{fault['ready']:.1f}s"
                print(f"soak: t={fault['start']:7.1f}s {name:28s} ready again after {recovered}", flush=True)
                if took is None:
                    self.error = f"{name}: the stack did not recover within {RECOVER_LIMIT}s"
                    return
                time.sleep(max(0.0, end - time.monotonic()))
        except Exception as e:  # noqa: BLE001 - reported by the run as a failure
            self.error = f"fault injector failed: {e!r}"

    def in_window(self, t):
        return any(f["start"] <= t <= f["end"] for f in self.faults)
