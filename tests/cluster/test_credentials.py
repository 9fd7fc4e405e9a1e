"""Each service its own credentials on the cluster (issue 17): the single profile's checks
(tests/e2e/credential_checks.py) against the cluster's primary and every RabbitMQ node, and what
the cluster adds: pg_auto_failover's own logins work with passwords required, and nothing logs in
without one on any node.

Run: make cluster-up; eval "$(scripts/stack env)"; /usr/bin/python3 -m pytest tests/cluster/test_credentials.py
"""
import os
import sys

import psycopg2
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from credential_checks import (  # noqa: E402,F401  (collected here as tests of this module)
    pg_as, test_counters_broker_user_cannot_publish_count_requests,
    test_dialogs_role_cannot_read_counters_tables_nor_act_as_superuser, test_guest_is_gone,
)
from test_faults import MONITOR_DSN, pg_states, topology  # noqa: E402

pytestmark = pytest.mark.skipif(os.environ.get("STACK_PROFILE") != "cluster",
                                reason="needs the cluster profile (make cluster-up)")


def test_every_postgresql_of_the_cluster_asks_for_a_password():
    parts = topology()
    for name in [n for n, part in parts.items() if part["role"] in ("pg-monitor", "postgres")]:
        with pytest.raises(psycopg2.OperationalError) as refused:
            psycopg2.connect(host=parts[name]["host"], port=parts[name]["port"], dbname="postgres", user="postgres",
                             password="wrong", connect_timeout=5).close()
        assert "password authentication failed" in str(refused.value), (name, refused.value)


def test_pg_auto_failover_logs_in_with_passwords():
    # The monitor's health checks reach both nodes, and the standby streams from the primary (as
    # pgautofailover_replicator): a formation that had lost its logins would not stay like this.
    states = pg_states()
    assert sorted(reported for reported, goal in states.values() if reported == goal) == ["primary", "secondary"], states
    conn = psycopg2.connect(MONITOR_DSN, connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT nodename, health FROM pgautofailover.node ORDER BY nodeid")
            assert all(health == 1 for _, health in cur.fetchall())
    finally:
        conn.close()
    conn = pg_as("postgres", "postgres")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT usename, state FROM pg_stat_replication")
            assert cur.fetchall() == [("pgautofailover_replicator", "streaming")]
    finally:
        conn.close()
