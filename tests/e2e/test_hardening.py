"""What a hostile client found (issue 17): oversized bodies, password guessing, a broker and
databases open to every service, drift that only healed by hand.

Login tests come from loopback source addresses of their own, fresh on every run (the failures
an address had stay counted for the window, 15 minutes), so the per-address failures they cause
never count against 127.0.0.1, which every other test uses; the accounts they lock are their own.
"""
import concurrent.futures
import json
import random
import socket
import time
import urllib.error
import urllib.request
import uuid

import pytest
import requests

from conftest import TIMEOUT, user_payload
# 3. each service its own credentials: the checks the cluster's tests run too (credential_checks.py),
# collected here as tests of this module.
from credential_checks import (  # noqa: F401
    test_counters_broker_user_cannot_publish_count_requests, test_dialogs_role_cannot_read_counters_tables_nor_act_as_superuser,
    test_guest_is_gone)
from saga_helpers import (COUNTERS_DSN, DATA_DIR, PORTS, ChatUser, counters_q, db_counter,
                          dialogs_q, metric, set_db_counter, stack, wait_for, wait_quiet, wait_services_ready)

ACCOUNT_LIMIT = 10   # backend's defaults (LOGIN_FAILURES_PER_ACCOUNT, LOGIN_FAILURES_PER_ADDRESS)
ADDRESS_LIMIT = 100


def post_from(source_ip, base_url, path, body):
    """POST `body` as JSON from the loopback address `source_ip`; (status, headers, json body)."""
    host, port = base_url.split("//", 1)[1].split(":")
    data = json.dumps(body).encode()
    with socket.create_connection((host, int(port)), timeout=TIMEOUT, source_address=(source_ip, 0)) as s:
        s.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode() + data)
        raw = b""
        while chunk := s.recv(65536):
            raw += chunk
    head, _, payload = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    return int(lines[0].split()[1]), headers, json.loads(payload or b"null")


def fresh_address():
    """A loopback address nobody used yet (127.100.0.0 and up: far from 127.0.0.1)."""
    return f"127.{random.randint(100, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


# --------------------------------------------------------------------------
# 1. an oversized body, sent whole
# --------------------------------------------------------------------------
def test_whole_oversized_register_body_from_urllib_reads_413(base_url):
    body = json.dumps(user_payload(biography="x" * (10 * 1024 * 1024))).encode()
    request = urllib.request.Request(base_url + "/user/register", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as answer:  # a reset would be URLError/ConnectionResetError
        urllib.request.urlopen(request, timeout=TIMEOUT)
    assert answer.value.code == 413
    error = json.loads(answer.value.read())
    assert error["code"] == 413 and error["message"], error
    assert requests.get(base_url + "/healthz", timeout=5).status_code == 200


# --------------------------------------------------------------------------
# 2. failed logins and the hashes they cost
# --------------------------------------------------------------------------
def test_account_is_limited_after_failed_logins_and_others_still_log_in(base_url, register):
    victim, victim_pw = register()
    other, other_pw = register()
    attacker, elsewhere = fresh_address(), fresh_address()
    for i in range(ACCOUNT_LIMIT):
        status, _, _ = post_from(attacker, base_url, "/login", {"id": victim, "password": f"guess-{i}"})
        assert status == 400, (i, status)
    status, headers, body = post_from(attacker, base_url, "/login", {"id": victim, "password": "guess-x"})
    assert status == 429, (status, body)
    assert 1 <= int(headers["retry-after"]) <= 900, headers
    assert body["code"] == 429 and "token" not in body
    # Locked means locked: the right password from another address is refused as well...
    status, headers, _ = post_from(elsewhere, base_url, "/login", {"id": victim, "password": victim_pw})
    assert status == 429 and "retry-after" in headers
    # ...while another account logs in from another address (and from the attacker's: its
    # address has ACCOUNT_LIMIT + 2 failures, below ADDRESS_LIMIT).
    for source in (elsewhere, attacker):
        status, _, body = post_from(source, base_url, "/login", {"id": other, "password": other_pw})
        assert status == 200 and body["token"], (source, status, body)


def test_address_is_limited_after_failed_logins_and_other_addresses_are_not(base_url, register):
    user, password = register()
    flooder = fresh_address()
    for i in range(ADDRESS_LIMIT):  # unknown accounts: no hash is spent, the address counts all the same
        status, _, _ = post_from(flooder, base_url, "/login", {"id": str(uuid.uuid4()), "password": "x" * 8})
        assert status == 404, (i, status)
    status, headers, body = post_from(flooder, base_url, "/login", {"id": user, "password": password})
    assert status == 429 and int(headers["retry-after"]) >= 1, (status, headers, body)
    status, _, body = post_from(fresh_address(), base_url, "/login", {"id": user, "password": password})
    assert status == 200 and body["token"], (status, body)
    assert metric(PORTS["backend"], "login_refused_total", '{reason="address"}') >= 1


def test_limits_hold_while_redis_is_down(base_url, register):
    user, password = register()
    source = fresh_address()
    stack("stop", "redis")
    try:
        for i in range(ACCOUNT_LIMIT):
            status, _, _ = post_from(source, base_url, "/login", {"id": user, "password": f"guess-{i}"})
            assert status == 400, (i, status)
        status, headers, _ = post_from(source, base_url, "/login", {"id": user, "password": password})
        assert status == 429 and int(headers["retry-after"]) >= 1, (status, headers)
    finally:
        stack("start", "redis")
    assert metric(PORTS["backend"], "login_limiter_redis_errors_total") >= 1


@pytest.fixture
def backend_with_one_hash_in_line():
    stack("restart", "backend", env={"HASH_QUEUE_LIMIT": "1"})
    try:
        yield
    finally:
        stack("restart", "backend")
        wait_services_ready(("backend",), drain=False)


def test_hashes_in_line_are_bounded_and_the_rest_refused_at_once(base_url, register,
                                                                 backend_with_one_hash_in_line):
    user, password = register()

    def login(_):
        started = time.monotonic()
        r = requests.post(base_url + "/login", json={"id": user, "password": password}, timeout=TIMEOUT)
        return r.status_code, r.headers.get("Retry-After"), time.monotonic() - started

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(login, range(48)))
    refused = [r for r in results if r[0] == 503]
    assert {r[0] for r in results} <= {200, 503}, results
    assert any(r[0] == 200 for r in results), results
    assert refused, f"16 logins at once past a line of 1 were all admitted: {results}"
    assert all(r[1] == "1" for r in refused), refused
    assert min(r[2] for r in refused) < 0.5, refused  # refused at once, not after waiting in line
    assert metric(PORTS["backend"], "password_hashes_refused_total") >= len(refused)


# --------------------------------------------------------------------------
# 4. periodic reconciliation
# --------------------------------------------------------------------------
@pytest.fixture
def fast_reconciliation():
    stack("restart", "counters", env={"RECONCILE_INTERVAL_MS": "500"})
    wait_services_ready(("counters",), drain=False)
    try:
        yield
    finally:
        stack("restart", "counters")
        wait_services_ready(("counters",), drain=False)


def chat_user(base_url):
    body = user_payload()
    r = requests.post(base_url + "/user/register", json=body, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    uid = r.json()["user_id"]
    r = requests.post(base_url + "/login", json={"id": uid, "password": body["password"]}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return ChatUser(base_url, uid, r.json()["token"])


def test_counter_corrupted_in_its_database_heals_and_one_in_flight_is_left_alone(base_url, fast_reconciliation):
    a, b, c, d = (chat_user(base_url) for _ in range(4))
    a.send_ok(b.id, "one")
    a.send_ok(b.id, "two")
    c.send_ok(d.id, "three")
    wait_quiet()
    assert db_counter(a.id, b.id) == 2 and db_counter(c.id, d.id) == 1
    repaired_before = metric(PORTS["counters"], "saga_reconcile_repaired_total")

    # c -> d: its message back in flight (as if its count request were on the way), counter off.
    dialogs_q("UPDATE messages SET state = 'PENDING_UNREAD', state_changed_at = now() "
              "WHERE author_id = %s AND recipient_id = %s", (c.id, d.id))
    set_db_counter(c.id, d.id, 5)
    set_db_counter(a.id, b.id, 7)  # a -> b: quiet, so this is drift
    wait_for(lambda: db_counter(a.id, b.id) == 2, timeout=10, desc="a->b counter healed to 2")
    assert metric(PORTS["counters"], "saga_reconcile_repaired_total") >= repaired_before + 1
    log = (DATA_DIR / "logs" / "counters.log").read_text(errors="replace")
    assert any("reconciliation repaired a counter" in line and a.id in line for line in log.splitlines())

    time.sleep(2)  # four more runs
    assert db_counter(c.id, d.id) == 5, "a pair with a saga in flight was repaired"
    # Put c -> d back as it was: quiet again, so the job brings the counter back to 1.
    dialogs_q("UPDATE messages SET state = 'UNREAD' WHERE author_id = %s AND recipient_id = %s", (c.id, d.id))
    wait_for(lambda: db_counter(c.id, d.id) == 1, timeout=10, desc="c->d counter healed once quiet")
