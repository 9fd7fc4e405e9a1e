"""The backend's read-only queries on the standby (PG_READ_DSN, target_session_attrs=prefer-standby).

Run after the fault rounds (file order), on the cluster profile:
    eval "$(scripts/stack env)"; /usr/bin/python3 -m pytest -s tests/cluster/test_standby_reads.py
1. User get and search run on the standby: its pg_stat_activity shows the backends' read
   connections (application_name backend-read) with those queries, and the backends count them in
   pg_reads_total{server="standby"}; a user just registered is found at once all the same (a miss
   on the standby is asked of the primary).
2. While readers get, search and page through a feed from the tables, the standby is SIGKILLed and
   started again: no read fails (the read pool runs a read once more after its connection's
   server went away and connects to the primary meanwhile), and once the standby is back the reads
   return to it (PG_READ_REOPEN_SECONDS).
"""
import os
import sys
import time
import uuid

import psycopg2
import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from saga_helpers import HTTP_TIMEOUT, new_chat_user, stack, wait_for  # noqa: E402
from test_faults import BASE, Readers, pg_states, topology  # noqa: E402

pytestmark = pytest.mark.skipif(os.environ.get("STACK_PROFILE") != "cluster",
                                reason="needs the cluster profile (make cluster-up)")

SELECT_BY_ID = "FROM users WHERE id = $1"   # UserRepository's kSelectById
SEARCH = "WITH hits AS"                      # and kSearch


def standby():
    names = [n for n, (reported, goal) in pg_states().items() if (reported, goal) == ("secondary", "secondary")]
    return names[0] if names else None


def read_queries_on(node):
    """The last statement of each backend-read connection on `node`."""
    part = topology()[node]
    conn = psycopg2.connect(host=part["host"], port=part["port"], user="postgres", dbname="backend",
                            connect_timeout=3)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT query FROM pg_stat_activity WHERE application_name = 'backend-read'")
            return [q for (q,) in cur.fetchall()]
    finally:
        conn.close()


def backend_reads(server=None):
    """pg_reads_total{pool="read"|"search", server} summed over both backend copies; without a
    server, pg_read_retries_total."""
    prefix, label = ("pg_reads_total{", f'server="{server}"') if server else ("pg_read_retries_total{", "")
    total = 0.0
    for part in topology().values():
        if part["role"] != "backend":
            continue
        text = requests.get(f"http://{part['host']}:{part['port']}/metrics", timeout=5).text
        for line in text.splitlines():
            if line.startswith(prefix) and label in line:
                total += float(line.split()[-1])
    return total


def register(tag):
    r = requests.post(f"{BASE}/user/register", json={
        "first_name": tag, "second_name": uuid.uuid4().hex[:8], "birthdate": "1990-01-01", "biography": "",
        "city": "X", "password": "standby reads " + uuid.uuid4().hex}, timeout=HTTP_TIMEOUT)
    r.raise_for_status()
    return r.json()["user_id"]


@pytest.fixture(scope="module")
def reader():
    wait_for(lambda: requests.get(f"{BASE}/readyz", timeout=2).status_code == 200, timeout=60, desc="backend")
    wait_for(standby, timeout=120, interval=0.5, desc="a standby (the fault rounds may have left one rejoining)")
    return new_chat_user(BASE, "standbyreader")


def test_user_get_and_search_run_on_the_standby(reader):
    node = standby()
    before = backend_reads("standby")
    # A user registered this instant is found: the standby may not have it yet, the primary has.
    for i in range(20):
        uid = register(f"Standbyreads{i}")
        r = requests.get(f"{BASE}/user/get/{uid}", timeout=HTTP_TIMEOUT)
        assert r.status_code == 200, (uid, r.status_code, r.text)

    def on_standby():
        for _ in range(10):  # both copies, every pooled connection (each reopens after PG_READ_REOPEN_SECONDS)
            assert requests.get(f"{BASE}/user/get/{reader.id}", timeout=HTTP_TIMEOUT).status_code == 200
            requests.get(f"{BASE}/user/search", params={"first_name": "Standbyreads", "last_name": "a"},
                         timeout=HTTP_TIMEOUT).raise_for_status()
        queries = read_queries_on(node)
        return any(SELECT_BY_ID in q for q in queries) and any(SEARCH in q for q in queries) and queries

    queries = wait_for(on_standby, timeout=30, interval=0.5, desc=f"user get and search on the standby {node}")
    assert backend_reads("standby") > before
    print(f"\nstandby {node}: {len(queries)} backend-read connections; "
          f"pg_reads_total{{server=standby}} +{backend_reads('standby') - before:.0f}")


def test_reads_carry_on_while_the_standby_is_killed_and_return_to_it(reader):
    node = standby()
    assert node, pg_states()
    retries = backend_reads()
    search = {"first_name": "Standbyreads", "last_name": "a"}
    readers = Readers([
        lambda s: s.get(f"{BASE}/user/get/{reader.id}", timeout=HTTP_TIMEOUT),
        lambda s: s.get(f"{BASE}/user/search", params=search, timeout=HTTP_TIMEOUT),
        # Past the 1,000 cached entries: from the tables, on the read pool.
        lambda s: s.get(f"{BASE}/post/feed", params={"offset": 995, "limit": 10}, headers=reader.headers,
                        timeout=HTTP_TIMEOUT),
        lambda s: s.get(f"{BASE}/user/get/{reader.id}", timeout=HTTP_TIMEOUT),
    ]).start()
    try:
        time.sleep(2)
        stack("kill", node)
        on_primary = backend_reads("primary")
        wait_for(lambda: backend_reads("primary") > on_primary + 50, timeout=30, desc="reads on the primary")
        time.sleep(3)
        stack("start", node)
        wait_for(lambda: pg_states()[node] == ("secondary", "secondary"), timeout=120, interval=0.5,
                 desc=f"{node} back as a standby")
        on_standby = backend_reads("standby")
        wait_for(lambda: backend_reads("standby") > on_standby + 50, timeout=30, interval=0.5,
                 desc=f"reads back on {node}")
    finally:
        readers.stop()
    retried = backend_reads() - retries
    print(f"\nstandby {node} killed and back: {readers.ok} reads answered 200, {len(readers.failures)} failed, "
          f"{retried:.0f} read again after their connection died")
    assert readers.ok > 100
    assert retried > 0, "the kill broke no open read connection: the test proved nothing"
    assert not readers.failures, f"reads failed while the standby was away: {readers.errors[:5]}"
