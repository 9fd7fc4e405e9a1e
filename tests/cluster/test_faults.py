"""The saga through the cluster's own failures (the cluster profile: make cluster-up).

Run: STACK_PROFILE=cluster scripts/stack up; eval "$(scripts/stack env)"; /usr/bin/python3 -m pytest -s tests/cluster
While four pairs of users send (every send retried until it gets a 200, as a client would) and two
readers list, one fault at a time strikes the cluster and the part is brought back. After each:
lost 0 (every send answered 200 is in the dialog), double-counted 0 (no counter above its pair's
stored messages), stuck 0 (no PENDING_* once the sweeper has run), drift 0 (`sagactl check`), and
the seconds in which clients saw non-2xx answers, printed as a table at the end (conftest.py).
"""
import json
import os
import subprocess
import sys
import threading
import time

import psycopg2
import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from saga_helpers import (  # noqa: E402
    HTTP_TIMEOUT, Burst, audit_burst, new_chat_user, sagactl, stack, wait_for, wait_quiet,
)

BASE = os.environ.get("BACKEND_URL", "http://127.0.0.1:8080")
MONITOR_DSN = os.environ.get("PG_MONITOR_DSN", "host=127.0.0.1 port=55430 user=postgres dbname=pg_auto_failover")
SAGA_QUEUE = "counters.unreadMessages"
RMQ_NODES = ("rabbitmq-1", "rabbitmq-2", "rabbitmq-3")
PAIRS = 4
QUIET_TIMEOUT = 150   # the sweeper republishes a saga stuck for 30 s, every 5 s
RESULTS = []          # one row per fault, printed by conftest.py

pytestmark = pytest.mark.skipif(os.environ.get("STACK_PROFILE") != "cluster",
                                reason="needs the cluster profile (make cluster-up)")


# --------------------------------------------------------------------------
# the cluster's state
# --------------------------------------------------------------------------
def rabbitmqctl(*args, node=None):
    env = {"RABBITMQ_NODE": node} if node else None
    return stack("rabbitmqctl", "-q", *args, env=env, timeout=60).stdout


def rabbit_component(node_name):
    """rabbitmq2@127.0.0.12 -> rabbitmq-2 (scripts/stack.d/cluster.sh names them so)."""
    short = node_name.split("@")[0]
    return next(n for n in RMQ_NODES if n.replace("-", "") == short)


def queue_leader(queue=SAGA_QUEUE, node=None):
    for line in rabbitmqctl("list_queues", "name", "leader", node=node).splitlines()[1:]:
        name, _, leader = line.partition("\t")
        if name == queue:
            return rabbit_component(leader.strip())
    raise AssertionError(f"queue {queue} not found")


def running_rabbit_nodes(node):
    status = json.loads(rabbitmqctl("cluster_status", "--formatter", "json", node=node))
    return {rabbit_component(n) for n in status["running_nodes"]}


def rabbit_node_sees_all(node):
    try:
        return running_rabbit_nodes(node) == set(RMQ_NODES)
    except (AssertionError, subprocess.SubprocessError, ValueError):  # paused or restarting: rabbitmqctl fails
        return False


def pg_states():
    conn = psycopg2.connect(MONITOR_DSN, connect_timeout=3)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT nodename, reportedstate, goalstate FROM pgautofailover.node ORDER BY nodeid")
            return {name: (reported, goal) for name, reported, goal in cur.fetchall()}
    finally:
        conn.close()


def pg_primary():
    """The node the monitor has made primary and that says it is one (a dead primary still
    reports `primary` while its goal is already `demoted`)."""
    primaries = [n for n, (reported, goal) in pg_states().items()
                 if goal in ("primary", "wait_primary", "single") and reported == goal]
    return primaries[0] if len(primaries) == 1 else None


def topology():
    """{name: {"role", "host", "port"}} of deploy/cluster.topology (what scripts/stack generated from)."""
    parts = {}
    with open(os.environ.get("CLUSTER_TOPOLOGY", "deploy/cluster.topology")) as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 4 and not fields[0].startswith("#"):
                parts[fields[0]] = {"role": fields[1], "host": fields[2], "port": fields[3]}
    return parts


def redis_role(name):
    part = topology()[name]
    out = subprocess.run(["redis-cli", "-h", part["host"], "-p", part["port"], "role"], capture_output=True,
                         text=True, timeout=10).stdout
    return out.split("\n")[0].strip()


def redis_primary():
    """The Redis component the first sentinel names as primary now."""
    parts = topology()
    sentinel = next(p for p in parts.values() if p["role"] == "sentinel")
    host, port = subprocess.run(["redis-cli", "-h", sentinel["host"], "-p", sentinel["port"], "sentinel",
                                 "get-master-addr-by-name", os.environ.get("REDIS_MASTER", "sn-redis")],
                                capture_output=True, text=True, timeout=10).stdout.split()
    return next(n for n, p in parts.items() if p["role"] == "redis" and (p["host"], p["port"]) == (host, port))


# --------------------------------------------------------------------------
# traffic
# --------------------------------------------------------------------------
class Readers:
    """Threads making GET calls as fast as they get answers; every non-2xx is timed and the first
    ones kept. Thread k makes the calls calls[k::threads] in turn; a call takes a requests.Session."""

    def __init__(self, calls, threads=2):
        self.calls, self.stop_flag, self.failures, self.errors, self.ok = calls, threading.Event(), [], [], 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(k, calls[k::threads]), daemon=True)
                        for k in range(threads)]

    def _run(self, k, calls):
        session = requests.Session()
        deadline = time.monotonic() + 600
        i = 0
        while not self.stop_flag.is_set() and time.monotonic() < deadline:
            i += 1
            try:
                r = calls[i % len(calls)](session)
                good, what = r.status_code == 200, f"{r.status_code} {r.text[:200]}"
            except requests.RequestException as e:
                good, what = False, repr(e)
            with self.lock:
                if good:
                    self.ok += 1
                else:
                    self.failures.append(time.time())
                    if len(self.errors) < 20:
                        self.errors.append((time.strftime("%H:%M:%S"), what))
            time.sleep(0.02)

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.stop_flag.set()
        for t in self.threads:
            t.join()


def dialog_list(me, other):
    """A call listing me's dialog with other (which marks it read: the read saga runs too)."""
    return lambda session: session.get(f"{BASE}/dialog/{other.id}/list", params={"limit": 20}, headers=me.headers,
                                       timeout=HTTP_TIMEOUT)


def unavailable_seconds(times):
    """Seconds of the wall clock in which at least one request failed, and the span first..last."""
    if not times:
        return 0, 0.0
    return len({int(t) for t in times}), max(times) - min(times)


@pytest.fixture(scope="module")
def pairs():
    wait_for(lambda: requests.get(f"{BASE}/readyz", timeout=2).status_code == 200, timeout=60, desc="backend")
    return [(new_chat_user(BASE, f"sender{i}"), new_chat_user(BASE, f"recipient{i}")) for i in range(PAIRS)]


def run_round(name, pairs, inject, recover):
    """Traffic, then inject() (returns a description), then recover(), then the audit."""
    wait_quiet(QUIET_TIMEOUT)
    bursts = [Burst(a, b, 1_000_000, threads=2, prefix=f"{name}-{i}", deadline=400).start()
              for i, (a, b) in enumerate(pairs)]
    readers = Readers([dialog_list(b, a) for a, b in pairs[:2]]).start()  # two recipients list
    try:
        wait_for(lambda: sum(x.progress() for x in bursts) >= 100, timeout=60, desc="traffic flowing")
        started = time.time()
        detail = inject()
        recover()
        # The system must carry on after the part is back: more sends succeed.
        after = sum(x.progress() for x in bursts)
        wait_for(lambda: sum(x.progress() for x in bursts) >= after + 100, timeout=60, desc="traffic after recovery")
    finally:
        for x in bursts:
            x.stop()
        for x in bursts:
            x.join()
        readers.stop()
    sends_ok = sum(x.ok for x in bursts)
    failures = [t for x in bursts for t in x.failure_times] + readers.failures
    seconds, span = unavailable_seconds([t for t in failures if t >= started])
    unexpected = [u for x in bursts for u in x.unexpected]

    quiet_error = None
    try:
        wait_quiet(QUIET_TIMEOUT)
    except AssertionError as e:
        quiet_error = str(e)
    audits = [(a, b, audit_burst(a, b, x)) for (a, b), x in zip(pairs, bursts)]
    lost = [(a.id, b.id, t) for a, b, au in audits for t in au["lost"]]
    double = [(a.id, b.id, au["counter"], au["stored"]) for a, b, au in audits if au["double"]]
    unexplained = [(a.id, b.id, t) for a, b, au in audits for t in au["unexplained"]]
    stuck = [(a.id, b.id, au["states"]) for a, b, au in audits if any(s.startswith("PENDING") for s in au["states"])]
    rc, report = sagactl("check")
    RESULTS.append({"fault": name, "detail": detail, "sends_ok": sends_ok, "lists_ok": readers.ok,
                    "failed_attempts": len(failures), "non2xx_seconds": seconds, "non2xx_span_s": round(span, 1),
                    "lost": len(lost), "double": len(double), "stuck": len(stuck), "drift": 0 if rc == 0 else 1})
    assert not unexpected, f"{name}: answers that are neither 2xx nor retryable: {unexpected[:5]}"
    assert quiet_error is None, f"{name}: {quiet_error}"
    assert not lost, f"{name}: {len(lost)} acknowledged sends missing (author, recipient, text): {lost[:5]}"
    assert not unexplained, f"{name}: stored twice without a client retry: {unexplained[:5]}"
    assert not double, f"{name}: counted more than unread (author, recipient, counter, stored): {double[:5]}"
    assert not stuck, f"{name}: sagas in flight after the sweeper (author, recipient, states): {stuck[:5]}"
    assert rc == 0, f"{name}: sagactl check: {report}"


# --------------------------------------------------------------------------
# the four faults, in this order
# --------------------------------------------------------------------------
def test_1_kill_the_saga_queue_leader(pairs):
    state = {}

    def inject():
        state["node"] = leader = queue_leader()
        stack("kill", leader)
        other = next(n for n in RMQ_NODES if n != leader)
        wait_for(lambda: queue_leader(node=other) != leader, timeout=60, desc="a new leader")
        time.sleep(5)  # traffic on the two remaining nodes
        return f"SIGKILL {leader}"

    def recover():
        stack("start", state["node"])
        wait_for(lambda: running_rabbit_nodes(state["node"]) == set(RMQ_NODES), timeout=90, desc="3 nodes again")

    run_round("rabbitmq leader killed", pairs, inject, recover)


def test_2_kill_the_postgresql_primary(pairs):
    state = {}

    def inject():
        state["node"] = primary = pg_primary()
        assert primary, pg_states()
        stack("kill", primary)
        wait_for(lambda: pg_primary() not in (None, primary), timeout=90, interval=0.5,
                 desc=f"the standby promoted (states {pg_states()})")
        time.sleep(3)
        return f"SIGKILL {primary} (pg_autoctl and postgres), {pg_primary()} promoted"

    def recover():
        stack("start", state["node"])
        wait_for(lambda: pg_states()[state["node"]] == ("secondary", "secondary"), timeout=120, interval=0.5,
                 desc=f"{state['node']} back as a standby")

    run_round("postgresql primary killed", pairs, inject, recover)


# The partition's rules match only the RabbitMQ nodes' own addresses (deploy/cluster.topology); the
# table is named after them, so clusters of two topologies on one machine do not share it.
def nft_table():
    return "sn_fault_partition_" + min(rabbit_addresses().values()).replace(".", "_")


def nft(script):
    subprocess.run(["nft", "-f", "-"], input=script, text=True, check=True, timeout=10)


def rabbit_addresses():
    return {n: p["host"] for n, p in topology().items() if p["role"] == "rabbitmq"}


def test_3_partition_one_rabbitmq_node(pairs):
    hosts = rabbit_addresses()
    table = nft_table()
    state = {}

    def inject():
        state["node"] = cut = queue_leader()
        others = ", ".join(h for n, h in hosts.items() if n != cut)
        nft(f"""table inet {table} {{
    chain out {{
        type filter hook output priority 0; policy accept;
        ip saddr {hosts[cut]} ip daddr {{ {others} }} drop
        ip daddr {hosts[cut]} ip saddr {{ {others} }} drop
    }}
}}
""")
        state["cut"] = True
        other = next(n for n in RMQ_NODES if n != cut)
        wait_for(lambda: cut not in running_rabbit_nodes(other), timeout=60, desc=f"the majority sees {cut} gone")
        wait_for(lambda: queue_leader(node=other) != cut, timeout=60, desc="a leader on the majority side")
        time.sleep(5)
        return f"{cut} ({hosts[cut]}) cut off from {others}"

    def recover():
        nft(f"delete table inet {table}\n")
        state["cut"] = False
        wait_for(lambda: running_rabbit_nodes(next(n for n in RMQ_NODES if n != state["node"])) == set(RMQ_NODES),
                 timeout=120, desc="the partition healed")
        # The majority's view is not enough: the node that was cut off paused itself (pause_minority)
        # and must have restarted, seeing the whole cluster, before the round is over.
        wait_for(lambda: rabbit_node_sees_all(state["node"]), timeout=180, interval=1,
                 desc=f"{state['node']} itself running in the whole cluster again")

    try:
        run_round("rabbitmq node partitioned", pairs, inject, recover)
    finally:
        if state.get("cut"):
            subprocess.run(["nft", "delete", "table", "inet", table], timeout=10)


def test_4_kill_a_copy_of_each_service_and_the_redis_primary(pairs):
    state = {}

    def inject():
        state["redis"] = primary = redis_primary()
        for name in ("backend", "dialogs", "counters", primary):
            stack("kill", name)
        wait_for(lambda: redis_primary() != primary, timeout=60, desc="Sentinel promoted the replica")
        time.sleep(3)
        return f"SIGKILL backend, dialogs, counters (first copies) and {primary}"

    def recover():
        stack("start", state["redis"])
        wait_for(lambda: redis_role(state["redis"]) == "slave", timeout=60, desc=f"{state['redis']} back as a replica")
        for name in ("backend", "dialogs", "counters"):
            wait_for(lambda n=name: stack("pid", n, check=False).returncode == 0, timeout=60, desc=f"{name} restarted")

    run_round("service copies + redis primary killed", pairs, inject, recover)
