"""Each service its own credentials (issue 17): the checks both profiles run, against whatever
stack `scripts/stack env` describes. tests/e2e/test_hardening.py (single) and
tests/cluster/test_credentials.py (cluster) import the test functions from here.

The addresses come from the stack's env: PG_TEST_DSN (the superuser's DSN; in the cluster a
multi-host one that finds the primary), AMQP_URL (the admin's URL list: one URL a broker node),
STACK_SECRETS_DIR (the services' secrets, scripts/stack_credentials.sh).
"""
import os
import urllib.parse

import pika
import psycopg2
import pytest

from saga_helpers import AMQP_URL, DATA_DIR, REQUEST_EXCHANGE, REQUEST_QUEUE

SECRETS_DIR = os.environ.get("STACK_SECRETS_DIR", str(DATA_DIR / "secrets"))
PG_ADMIN_DSN = os.environ.get("PG_TEST_DSN", "host=127.0.0.1 port=55432 dbname=postgres user=postgres")


def secret(name):
    with open(os.path.join(SECRETS_DIR, name), encoding="ascii") as f:
        return f.read().strip()


def broker_nodes():
    """(host, port) of every broker node in AMQP_URL."""
    return [(u.hostname, u.port or 5672) for u in map(urllib.parse.urlsplit, AMQP_URL.split(","))]


def amqp_connect(user, password, node):
    return pika.BlockingConnection(pika.ConnectionParameters(
        *node, credentials=pika.PlainCredentials(user, password), connection_attempts=1, socket_timeout=5))


def amqp_as(user, node=None):
    return amqp_connect(user, secret(f"amqp-{user}.password"), node or broker_nodes()[0])


def pg_as(role, dbname, password=None):
    """A connection as ROLE with its own password (on the primary, in the cluster)."""
    return psycopg2.connect(PG_ADMIN_DSN, dbname=dbname, user=role,
                            password=secret(f"pg-{role}.password") if password is None else password,
                            connect_timeout=5)


def test_counters_broker_user_cannot_publish_count_requests():
    conn = amqp_as("counters")
    try:
        ch = conn.channel()
        ch.confirm_delivery()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as refused:
            ch.basic_publish(exchange=REQUEST_EXCHANGE, routing_key="a.b", body=b"{}", mandatory=True)
        assert refused.value.reply_code == 403, refused.value
    finally:
        if conn.is_open:
            conn.close()
    # Nor may dialogs' user read counters' queue.
    conn = amqp_as("dialogs")
    try:
        ch = conn.channel()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as refused:
            ch.basic_get(REQUEST_QUEUE)
        assert refused.value.reply_code == 403
    finally:
        if conn.is_open:
            conn.close()


def test_guest_is_gone():
    for node in broker_nodes():   # users are the cluster's: gone from every node
        with pytest.raises(pika.exceptions.ProbableAuthenticationError):
            amqp_connect("guest", "guest", node)


def test_dialogs_role_cannot_read_counters_tables_nor_act_as_superuser():
    with pytest.raises(psycopg2.Error) as refused:
        conn = pg_as("dialogs", "counters")
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM unread_messages")
        finally:
            conn.close()
    assert "permission denied" in str(refused.value), refused.value
    conn = pg_as("dialogs", "dialogs")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            assert cur.fetchone() == (False,)
            cur.execute("SELECT count(*) FROM messages")  # its own tables it reads
            assert cur.fetchone()[0] >= 0
    finally:
        conn.close()
    # No password, no connection: the roles' secrets are not optional.
    with pytest.raises(psycopg2.OperationalError):
        pg_as("counters", "counters", password="wrong").close()
