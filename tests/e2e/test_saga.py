"""End-to-end tests of the unread-counter saga (docs/saga.md) against the running stack.

Run: /usr/bin/python3 -m pytest tests/e2e/test_saga.py   (the stack must be up: scripts/stack up)
The fault-injection tests are marked `slow` (run by default; `-m 'not slow'` skips them). They
stop, kill and restart components through scripts/stack and put everything back afterwards.
`sagactl check` is global, so nothing else may be sending messages while these tests run.
"""
import os
import sys
import threading
import time
import uuid

import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import assert_error, auth_headers  # noqa: E402
from saga_helpers import (  # noqa: E402
    PORTS, REPLY_QUEUE, REQUEST_DEAD, REQUEST_QUEUE, Burst, ChatUser, component_pid, component_state,
    component_states, counters_q, db_counter, drain_gateway,
    dialogs_q, message_states, metric, pair_snapshot, publish_raw, queue_depth, queue_totals, rabbitmqctl,
    sagactl, set_db_counter, stack, stored_sends, wait_for, wait_quiet, wait_services_ready,
)

CORE = ("dialogs", "counters", "backend")
QUIET_TIMEOUT = 60
FAULT_QUIET_TIMEOUT = 120


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------
@pytest.fixture(scope="module", autouse=True)
def quiet_stack(base_url):
    """The saga starts quiet (nothing in flight, no drift) and is put back so after every test."""
    wait_services_ready()
    wait_quiet(QUIET_TIMEOUT)
    yield


@pytest.fixture(autouse=True)
def restore_stack():
    """Whatever a test stopped or reconfigured is started again with the default environment."""
    yield
    states = component_states()
    for name in ("postgres", "rabbitmq") + CORE:
        if states[name][0] not in ("RUNNING", "STARTING"):
            stack("start", name)
    if _dialogs_env_changed(component_pid("dialogs")):
        stack("restart", "dialogs")
    for name in (n for n in PORTS if n.endswith("-2")):  # the second copies
        if states[name][0] in ("RUNNING", "STARTING"):
            stack("stop", name)
    wait_services_ready()


def _dialogs_env_changed(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = f.read().split(b"\0")
    except OSError:
        return True
    return any(e.startswith((b"SWEEPER_", b"MARK_AS_READ_ON_LISTING=")) for e in env)


@pytest.fixture
def make_user(base_url, register, login):
    """make_user() -> a fresh, logged-in ChatUser."""
    def _make():
        user_id, password = register()
        return ChatUser(base_url, user_id, login(user_id, password))
    return _make


@pytest.fixture
def trio(make_user):
    return make_user(), make_user(), make_user()


def wait_counter(user, author, want, timeout=30):
    """Poll user's counter for `author` until it equals `want` (through the API)."""
    last = []

    def ok():
        last[:] = [user.unread_from(author)]
        return last[0] == want
    try:
        wait_for(ok, timeout=timeout, desc=f"counter {author}->{user.id} == {want}")
    except AssertionError:
        raise AssertionError(f"counter {author}->{user.id}: want {want}, last {last}")


def wait_states(author, recipient, want, timeout=30):
    """Poll until the pair's messages are exactly in the states `want` ({state: n})."""
    wait_for(lambda: message_states(author, recipient) == want, timeout=timeout,
             desc=f"states {author}->{recipient} == {want} (now {message_states(author, recipient)})")


def send_n(author, recipient, n, tag="m"):
    return [author.send_ok(recipient.id, f"{tag}-{i:03d}") for i in range(n)]


# ==========================================================================
# 1. happy path
# ==========================================================================
def test_happy_path_counts_and_reads(trio):
    a, b, c = trio
    sent = send_n(a, b, 50, "hello")
    assert len({m["id"] for m in sent}) == 50
    for i, m in enumerate(sent):
        assert (m["from"], m["to"], m["text"]) == (a.id, b.id, f"hello-{i:03d}"), m
        assert m["state"] in ("PENDING_UNREAD", "UNREAD"), m

    wait_counter(b, a.id, 50)
    totals = b.unread_all()
    assert totals["total"] == 50, totals
    assert {"user_id": a.id, "count": 50} in totals["dialogs"], totals
    # The author's own counters are untouched.
    assert a.unread_all() == {"total": 0, "dialogs": []}
    assert a.unread_from(b.id) == 0
    wait_quiet(QUIET_TIMEOUT)
    assert message_states(a.id, b.id) == {"UNREAD": 50}

    # The author listing the dialog sees its 50 messages but marks none of them.
    listed = a.list_ok(b.id)
    assert [m["id"] for m in listed] == [m["id"] for m in sent], "author's listing: wrong messages/order"
    assert all(m["state"] == "UNREAD" for m in listed), listed[:3]
    assert a.read(b.id).json() == {"marked": 0}

    # A third user sees none of the A-B messages and cannot mark them.
    assert c.list_ok(a.id) == []
    assert c.list_ok(b.id) == []
    r = c.read(a.id)
    assert r.status_code == 200 and r.json() == {"marked": 0}, r.text
    time.sleep(0.5)  # give a wrongly written event time to be counted
    assert message_states(a.id, b.id) == {"UNREAD": 50}
    assert b.unread_from(a.id) == 50
    wait_quiet(QUIET_TIMEOUT)

    # The recipient lists: all 50, oldest first, now being read.
    listed = b.list_ok(a.id)
    assert [m["id"] for m in listed] == [m["id"] for m in sent]
    assert [m["text"] for m in listed] == [f"hello-{i:03d}" for i in range(50)]
    assert all(m["from"] == a.id and m["to"] == b.id for m in listed)
    assert all(m["state"] in ("PENDING_READ", "READ") for m in listed), {m["state"] for m in listed}
    wait_counter(b, a.id, 0)
    wait_quiet(QUIET_TIMEOUT)
    assert message_states(a.id, b.id) == {"READ": 50}
    assert b.unread_all()["total"] == 0
    assert all(m["state"] == "READ" for m in b.list_ok(a.id))
    assert b.read(a.id).json() == {"marked": 0}

    # Paging: the latest `limit` older than `before`, oldest first.
    page = b.list_ok(a.id, limit=10)
    assert [m["id"] for m in page] == [m["id"] for m in sent[-10:]]
    page = b.list_ok(a.id, limit=5, before=sent[-10]["id"])
    assert [m["id"] for m in page] == [m["id"] for m in sent[-15:-10]]
    wait_quiet(QUIET_TIMEOUT)


def test_read_call_marks_and_counts(trio):
    """POST /dialog/{id}/read marks only the caller's incoming messages of that dialog."""
    a, b, c = trio
    send_n(a, b, 4, "ab")
    send_n(b, a, 2, "ba")
    send_n(c, b, 3, "cb")
    wait_counter(b, a.id, 4)
    wait_counter(b, c.id, 3)
    wait_counter(a, b.id, 2)
    wait_quiet(QUIET_TIMEOUT)
    assert b.unread_all()["total"] == 7
    r = b.read(a.id)
    assert r.status_code == 200 and r.json() == {"marked": 4}, r.text
    wait_counter(b, a.id, 0)
    wait_quiet(QUIET_TIMEOUT)
    assert message_states(a.id, b.id) == {"READ": 4}
    assert message_states(b.id, a.id) == {"UNREAD": 2}
    assert message_states(c.id, b.id) == {"UNREAD": 3}
    assert b.unread_all() == {"total": 3, "dialogs": [{"user_id": c.id, "count": 3}]}


# ==========================================================================
# 2. bad input changes nothing
# ==========================================================================
def test_bad_input_gets_4xx_and_changes_nothing(trio, base_url, contract):
    a, b, _ = trio
    send_n(a, b, 2, "pre")
    wait_quiet(QUIET_TIMEOUT)
    before = pair_snapshot(a.id, b.id)
    before_self = dialogs_q("SELECT count(*) FROM messages WHERE author_id = %s OR recipient_id = %s",
                            (a.id, a.id))[0][0]
    http = requests.Session()
    send_url = f"{base_url}/dialog/{b.id}/send"
    ha = a.headers
    unknown = str(uuid.uuid4())
    cases = [
        ("send empty text", lambda: a.send(b.id, ""), 400),
        ("send 4001 chars", lambda: a.send(b.id, "x" * 4001), 400),
        ("send 4001 multibyte chars", lambda: a.send(b.id, "я" * 4001), 400),
        ("send text number", lambda: http.post(send_url, json={"text": 42}, headers=ha), 400),
        ("send text null", lambda: http.post(send_url, json={"text": None}, headers=ha), 400),
        ("send text list", lambda: http.post(send_url, json={"text": ["x"]}, headers=ha), 400),
        ("send text object", lambda: http.post(send_url, json={"text": {"a": 1}}, headers=ha), 400),
        ("send no text", lambda: http.post(send_url, json={}, headers=ha), 400),
        ("send body array", lambda: http.post(send_url, json=["x"], headers=ha), 400),
        ("send malformed json", lambda: http.post(
            send_url, data=b'{"text": "x"', headers={**ha, "Content-Type": "application/json"}), 400),
        ("send NUL in text", lambda: a.send(b.id, "a\u0000b"), 400),
        ("send to oneself", lambda: a.send(a.id, "me"), 400),
        ("send bad uuid", lambda: a.send("not-a-uuid", "x"), 400),
        ("send unknown recipient", lambda: a.send(unknown, "x"), 404),
        ("send bad token", lambda: http.post(send_url, json={"text": "x"}, headers=auth_headers("abc.def.ghi")), 401),
        ("send no token", lambda: http.post(send_url, json={"text": "x"}), 401),
        ("send forged token", lambda: http.post(send_url, json={"text": "x"},
                                                headers=auth_headers(a.token[:-4] + "AAAA")), 401),
        ("list bad uuid", lambda: b.list("nope"), 400),
        ("list oneself", lambda: b.list(b.id), 400),
        ("list limit 0", lambda: b.list(a.id, limit=0), 400),
        ("list limit 1001", lambda: b.list(a.id, limit=1001), 400),
        ("list limit -1", lambda: b.list(a.id, limit=-1), 400),
        ("list limit abc", lambda: b.list(a.id, limit="abc"), 400),
        ("list before bad", lambda: b.list(a.id, before="zz"), 400),
        ("list unknown user", lambda: b.list(unknown), 404),
        ("list bad token", lambda: http.get(f"{base_url}/dialog/{a.id}/list",
                                            headers=auth_headers("abc")), 401),
        ("read bad uuid", lambda: b.read("nope"), 400),
        ("read oneself", lambda: b.read(b.id), 400),
        ("read unknown user", lambda: b.read(unknown), 404),
        ("read no token", lambda: http.post(f"{base_url}/dialog/{a.id}/read"), 401),
    ]
    failures = []
    for name, call, status in cases:
        r = call()
        try:
            assert_error(r, status, contract)
        except AssertionError as e:
            failures.append(f"{name}: {e}")
    assert not failures, "\n".join(failures)
    time.sleep(0.3)
    assert pair_snapshot(a.id, b.id) == before
    assert dialogs_q("SELECT count(*) FROM messages WHERE author_id = %s OR recipient_id = %s",
                     (a.id, a.id))[0][0] == before_self
    assert b.unread_from(a.id) == 2
    wait_quiet(QUIET_TIMEOUT)


def test_send_length_limit_counts_characters(trio):
    """4,000 characters is allowed whatever their UTF-8 size; counted once each."""
    a, b, _ = trio
    for text in ("x" * 4000, "я" * 4000, "\U0001F600" * 4000):
        m = a.send_ok(b.id, text)
        assert m["text"] == text
    wait_counter(b, a.id, 3)
    wait_quiet(QUIET_TIMEOUT)


# ==========================================================================
# 3. duplicate delivery is counted once
# ==========================================================================
def _request_event(mid):
    (event_id,) = dialogs_q("SELECT event_id::text FROM messages WHERE id = %s", (mid,))[0]
    return event_id


def _inbox_rows(event_id):
    return counters_q("SELECT count(*) FROM inbox WHERE event_id = %s", (event_id,))[0][0]


def test_duplicate_delivery_counted_once(trio):
    a, b, _ = trio
    first = a.send_ok(b.id, "once")
    wait_counter(b, a.id, 1)
    wait_quiet(QUIET_TIMEOUT)
    inc_event = _request_event(first["id"])
    assert _inbox_rows(inc_event) == 1
    dedup_before = metric(PORTS["counters"], "saga_events_deduplicated_total")

    body = {"event_id": inc_event, "action": "increment", "author_id": a.id, "recipient_id": b.id,
            "message_ids": [first["id"]]}
    for _ in range(3):
        publish_raw(body, f"{a.id}.{b.id}", message_id=inc_event, correlation_id=first["id"])
    # A sentinel sent after the copies: once it is counted, the copies have been consumed.
    a.send_ok(b.id, "sentinel-1")
    wait_counter(b, a.id, 2)
    wait_quiet(QUIET_TIMEOUT)
    wait_for(lambda: metric(PORTS["counters"], "saga_events_deduplicated_total") >= dedup_before + 3, timeout=10,
             desc="counters to report the 3 duplicates")
    assert b.unread_from(a.id) == 2
    assert db_counter(a.id, b.id) == 2
    assert _inbox_rows(inc_event) == 1
    assert message_states(a.id, b.id) == {"UNREAD": 2}

    # The same for a decrement: read both, then replay the decrement.
    assert b.read(a.id).json() == {"marked": 2}
    wait_counter(b, a.id, 0)
    wait_quiet(QUIET_TIMEOUT)
    dec_event = _request_event(first["id"])
    assert dec_event != inc_event
    read_ids = [r[0] for r in dialogs_q("SELECT id::text FROM messages WHERE event_id = %s ORDER BY id",
                                        (dec_event,))]
    assert len(read_ids) == 2
    dec = {"event_id": dec_event, "action": "decrement", "author_id": a.id, "recipient_id": b.id,
           "message_ids": read_ids}
    publish_raw(dec, f"{a.id}.{b.id}", message_id=dec_event, correlation_id=dec_event)
    publish_raw(dec, f"{a.id}.{b.id}", message_id=dec_event, correlation_id=dec_event)
    a.send_ok(b.id, "sentinel-2")
    wait_counter(b, a.id, 1)
    wait_quiet(QUIET_TIMEOUT)
    assert _inbox_rows(dec_event) == 1
    assert message_states(a.id, b.id) == {"READ": 2, "UNREAD": 1}
    assert db_counter(a.id, b.id) == 1


# ==========================================================================
# 4. poison messages are dead-lettered and the saga carries on
# ==========================================================================
def test_poison_goes_to_dead_letter_queue(trio):
    a, b, _ = trio
    a.send_ok(b.id, "before poison")
    wait_counter(b, a.id, 1)
    wait_quiet(QUIET_TIMEOUT)
    dead_before = queue_depth(REQUEST_DEAD)
    key = f"{a.id}.{b.id}"
    mid = str(uuid.uuid4())

    def ev(**over):
        body = {"event_id": str(uuid.uuid4()), "action": "increment", "author_id": a.id,
                "recipient_id": b.id, "message_ids": [mid]}
        body.update(over)
        return body

    poison = [
        b'{"event_id": "not closed',                              # malformed JSON
        b"\xff\xfe not even utf-8",
        ev(action="explode"),                                      # unknown action
        ev(message_ids="not-a-list"),                              # wrong-typed field
        ev(author_id=12345),                                       # wrong-typed field
        ev(message_ids=["not-a-uuid"]),                            # ids that are not UUIDs
        ev(recipient_id=a.id),                                     # author == recipient
        ev(message_ids=[]),                                        # no ids
        ev(message_ids=[str(uuid.uuid4()) for _ in range(1001)]),  # too many ids
        {k: v for k, v in ev().items() if k != "event_id"},        # missing event id
        "[]",
    ]
    poison_event_ids = [p["event_id"] for p in poison if isinstance(p, dict) and "event_id" in p]
    for p in poison:
        publish_raw(p, key)
    wait_for(lambda: queue_depth(REQUEST_DEAD) >= dead_before + len(poison), timeout=30,
             desc=f"{len(poison)} poison messages in {REQUEST_DEAD}")
    assert queue_depth(REQUEST_DEAD) == dead_before + len(poison)

    # Nothing was applied, nothing claimed, and the saga keeps working.
    assert db_counter(a.id, b.id) == 1
    assert counters_q("SELECT count(*) FROM inbox WHERE event_id = ANY(%s::uuid[])",
                      (poison_event_ids,))[0][0] == 0
    a.send_ok(b.id, "after poison")
    wait_counter(b, a.id, 2)
    wait_quiet(QUIET_TIMEOUT)
    assert message_states(a.id, b.id) == {"UNREAD": 2}
    ready, unacked = queue_totals(REQUEST_QUEUE)
    assert (ready, unacked) == (0, 0), "poison left in the work queue"


# ==========================================================================
# 5. read before counted
# ==========================================================================
def test_read_before_counted(trio):
    a, b, _ = trio
    stack("stop", "counters")
    try:
        sent = send_n(a, b, 5, "early")
        wait_for(lambda: queue_depth(REQUEST_QUEUE) >= 5, timeout=20, desc="5 requests queued")
        listed = b.list_ok(a.id)
        assert [m["id"] for m in listed] == [m["id"] for m in sent]
        assert all(m["state"] == "PENDING_UNREAD" for m in listed), [m["state"] for m in listed]
        rows = dialogs_q("SELECT state, read_requested FROM messages WHERE author_id = %s AND recipient_id = %s",
                         (a.id, b.id))
        assert rows == [("PENDING_UNREAD", True)] * 5, rows
        r = b.read(a.id)
        assert r.status_code == 200, r.text
    finally:
        stack("start", "counters")
    wait_services_ready()
    wait_quiet(QUIET_TIMEOUT)
    assert message_states(a.id, b.id) == {"READ": 5}
    assert b.unread_from(a.id) == 0
    assert db_counter(a.id, b.id) == 0


# ==========================================================================
# 6. a rejected decrement is compensated; reconciliation mends the drift
# ==========================================================================
def test_rejected_decrement_is_compensated(trio):
    a, b, _ = trio
    send_n(a, b, 3, "comp")
    wait_counter(b, a.id, 3)
    wait_quiet(QUIET_TIMEOUT)
    comp_before = metric(PORTS["dialogs"], "saga_compensations_total")
    set_db_counter(a.id, b.id, 0)  # drift: the counter lost its three

    listed = b.list_ok(a.id)
    assert len(listed) == 3
    # counters rejects the decrement (0 - 3 < 0); dialogs puts the messages back to UNREAD.
    wait_states(a.id, b.id, {"UNREAD": 3})
    assert db_counter(a.id, b.id) == 0
    wait_for(lambda: metric(PORTS["dialogs"], "saga_compensations_total") > comp_before, timeout=10,
             desc="dialogs to count the compensation")
    rc, report = sagactl("check")
    assert rc == 1, report
    mine = [d for d in report["drift"] if (d["author_id"], d["recipient_id"]) == (a.id, b.id)]
    assert mine == [{"author_id": a.id, "recipient_id": b.id, "unread_messages": 3, "counter": 0,
                     "in_flight": False}], report

    rc, report = sagactl("reconcile")
    assert rc == 1 and any(d["author_id"] == a.id for d in report["drift"]), report
    assert db_counter(a.id, b.id) == 0, "reconcile without --repair changed the counter"
    rc, report = sagactl("reconcile", "--repair")
    assert rc == 0 and report["repaired"] >= 1, report
    assert b.unread_from(a.id) == 3
    wait_quiet(QUIET_TIMEOUT)

    listed = b.list_ok(a.id)
    assert len(listed) == 3
    wait_counter(b, a.id, 0)
    wait_quiet(QUIET_TIMEOUT)
    assert message_states(a.id, b.id) == {"READ": 3}


# ==========================================================================
# 7. the sweeper recovers a lost request and a lost reply
# ==========================================================================
def test_sweeper_republishes_lost_events(trio):
    a, b, _ = trio
    fast = {"SWEEPER_INTERVAL_MS": "500", "SWEEPER_TIMEOUT_MS": "1000"}
    stack("restart", "dialogs", env=fast)
    wait_services_ready()
    republished_before = metric(PORTS["dialogs"], "saga_events_republished_total")

    # (a) The request is lost: it sat in counters' queue and was purged.
    stack("stop", "counters")
    try:
        m = a.send_ok(b.id, "lost request")
        event_id = _request_event(m["id"])
        wait_for(lambda: queue_depth(REQUEST_QUEUE) >= 1, timeout=20, desc="request queued")
        rabbitmqctl("purge_queue", REQUEST_QUEUE)
        assert message_states(a.id, b.id) == {"PENDING_UNREAD": 1}
    finally:
        stack("start", "counters")
    wait_services_ready()
    wait_states(a.id, b.id, {"UNREAD": 1}, timeout=30)
    assert _request_event(m["id"]) == event_id, "the sweeper must re-publish with the same event id"
    assert _inbox_rows(event_id) == 1
    wait_counter(b, a.id, 1)
    assert metric(PORTS["dialogs"], "saga_events_republished_total") > republished_before

    # (b) The reply is lost: counters counted it, the reply was purged before dialogs took it.
    stack("stop", "counters")
    try:
        m2 = a.send_ok(b.id, "lost reply")
        event2 = _request_event(m2["id"])
        wait_for(lambda: queue_depth(REQUEST_QUEUE) >= 1, timeout=20, desc="request queued")
        stack("stop", "dialogs")
    finally:
        stack("start", "counters")
    try:
        wait_for(lambda: db_counter(a.id, b.id) == 2, timeout=20, desc="counters to count the 2nd message")
        wait_for(lambda: queue_depth(REPLY_QUEUE) >= 1, timeout=20, desc="reply queued")
        rabbitmqctl("purge_queue", REPLY_QUEUE)
        assert message_states(a.id, b.id) == {"UNREAD": 1, "PENDING_UNREAD": 1}
    finally:
        stack("restart", "dialogs", env=fast)
    wait_services_ready()
    wait_states(a.id, b.id, {"UNREAD": 2}, timeout=30)
    assert _request_event(m2["id"]) == event2
    assert _inbox_rows(event2) == 1
    wait_counter(b, a.id, 2)
    wait_quiet(QUIET_TIMEOUT)
    assert db_counter(a.id, b.id) == 2, "a re-published request was counted twice"

    stack("restart", "dialogs")  # defaults back
    wait_services_ready()


def test_inbox_forgets_events_past_their_retention(trio):
    """counters' inbox keeps an applied event's id for INBOX_RETENTION_HOURS (a week), then its
    pruner deletes it; younger entries stay."""
    a, b, _ = trio
    stack("restart", "counters", env={"INBOX_PRUNE_INTERVAL_MS": "300"})
    try:
        wait_services_ready()
        old = _request_event(a.send_ok(b.id, "old")["id"])
        young = _request_event(a.send_ok(b.id, "young")["id"])
        wait_counter(b, a.id, 2)
        assert _inbox_rows(old) == 1 and _inbox_rows(young) == 1
        pruned_before = metric(PORTS["counters"], "saga_inbox_pruned_total")
        counters_q("UPDATE inbox SET received_at = now() - interval '8 days' WHERE event_id = %s", (old,))
        wait_for(lambda: _inbox_rows(old) == 0, timeout=10, desc="the pruner to forget the week-old event")
        assert _inbox_rows(young) == 1
        assert metric(PORTS["counters"], "saga_inbox_pruned_total") >= pruned_before + 1
    finally:
        stack("restart", "counters")  # defaults back
    wait_services_ready()


# ==========================================================================
# 8. reconciliation repairs a counter changed by hand
# ==========================================================================
def test_reconcile_repairs_hand_edited_counters(trio):
    a, b, c = trio
    send_n(a, b, 2, "rec")
    send_n(c, b, 1, "rec")
    wait_counter(b, a.id, 2)
    wait_counter(b, c.id, 1)
    wait_quiet(QUIET_TIMEOUT)
    set_db_counter(a.id, b.id, 999)
    counters_q("DELETE FROM unread_messages WHERE author_id = %s AND recepient_id = %s", (c.id, b.id))
    set_db_counter(b.id, c.id, 7)  # a counter with no unread message behind it
    rc, report = sagactl("check")
    assert rc == 1, report
    drift = {(d["author_id"], d["recipient_id"]): (d["unread_messages"], d["counter"]) for d in report["drift"]}
    assert drift.get((a.id, b.id)) == (2, 999), report
    assert drift.get((c.id, b.id)) == (1, 0), report
    assert drift.get((b.id, c.id)) == (0, 7), report

    rc, report = sagactl("reconcile", "--repair")
    assert rc == 0 and report["repaired"] >= 3, report
    assert b.unread_from(a.id) == 2
    assert b.unread_from(c.id) == 1
    assert c.unread_from(b.id) == 0
    assert b.unread_all()["total"] == 3
    rc, report = sagactl("check")
    assert rc == 0, report
    # The repaired counters go on working.
    a.send_ok(b.id, "after repair")
    wait_counter(b, a.id, 3)
    wait_quiet(QUIET_TIMEOUT)


# ==========================================================================
# the gateway after an upstream restart
# ==========================================================================
def test_gateway_answers_after_upstream_restart(make_user):
    a, b = make_user(), make_user()
    drain_gateway()

    def fill(k):  # park several connections in the gateway's pool to dialogs and to counters
        session = requests.Session()
        for i in range(10):
            a.send(b.id, f"fill-{k}-{i}", session=session)
            session.get(f"{a.base_url}/counters/unread", headers=a.headers, timeout=30)

    threads = [threading.Thread(target=fill, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stack("restart", "dialogs")
    stack("restart", "counters")
    wait_services_ready(("dialogs", "counters"), drain=False)
    # The services are ready: the very next requests through the gateway must succeed.
    statuses = [a.send(b.id, f"after-restart-{i}").status_code for i in range(3)]
    statuses += [a.http.get(f"{a.base_url}/counters/unread", headers=a.headers, timeout=30).status_code
                 for _ in range(3)]
    drain_gateway()
    wait_quiet(QUIET_TIMEOUT)
    assert statuses == [200] * 6, statuses


# ==========================================================================
# 9. fault injection under a burst of sends
# ==========================================================================
def _pid(name):
    return component_pid(name) or ""


def _fault_kill(name):
    def inject():
        before = _pid(name)
        stack("kill", name)
        wait_for(lambda: component_state(name) == "RUNNING" and _pid(name) not in ("", before), timeout=60,
                 interval=0.2, desc=f"supervisor to restart {name}")
        return before
    return inject


def _fault_restart(name):
    def inject():
        before = _pid(name)
        stack("restart", name)
        return before
    return inject


FAULTS = {
    "sigkill-counters": ("counters", _fault_kill("counters")),
    "sigkill-dialogs": ("dialogs", _fault_kill("dialogs")),
    "restart-rabbitmq": ("rabbitmq", _fault_restart("rabbitmq")),
    "restart-postgres": ("postgres", _fault_restart("postgres")),
}


def _check_burst(a, b, burst):
    """The invariant after a burst: every logical send is stored once (twice only where the client
    saw a failure and retried), every stored message is UNREAD and counted exactly once."""
    assert not burst.unexpected, burst.unexpected[:5]
    assert burst.ok == burst.total
    wait_quiet(FAULT_QUIET_TIMEOUT)
    sends = stored_sends(f"{burst.prefix}-%", burst.ok_ids, burst.ambiguous, pair=(a.id, b.id))
    stored, extra = sends["stored"], sends["extra"]
    missing = [burst.text(i) for i in range(burst.total) if burst.text(i) not in sends["texts"]]
    assert not missing, f"{len(missing)} acknowledged sends missing, e.g. {missing[:3]}"
    assert not sends["lost"], f"acknowledged ids not stored: {sends['lost'][:3]}"
    assert not sends["unexplained"], \
        f"messages stored twice without a client retry: {list(sends['unexplained'].items())[:5]}"
    assert message_states(a.id, b.id) == {"UNREAD": stored}
    assert db_counter(a.id, b.id) == stored
    assert b.unread_from(a.id) == stored
    assert stored == burst.ok + extra
    return stored, extra


@pytest.mark.slow
@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_injection_under_burst(fault, make_user):
    a, b = make_user(), make_user()
    name, inject = FAULTS[fault]
    total = 2000
    burst = Burst(a, b, total, threads=8, prefix=f"{fault}").start()
    wait_for(lambda: burst.progress() >= total // 3 or burst.finished, timeout=60, interval=0.02,
             desc="a third of the burst")
    at = burst.progress()
    assert at < total, "burst ended before the fault; make it bigger"
    before_pid = inject()
    burst.join()
    wait_services_ready()
    assert _pid(name) != before_pid, f"{name} was not restarted"
    stored, extra = _check_burst(a, b, burst)
    elapsed = burst.finished - burst.started
    print(f"\n{fault}: fault at {at}/{total} sends, burst {elapsed:.1f}s, {burst.failed_attempts} failed "
          f"attempts retried, {len(burst.ambiguous)} ambiguous sends, {extra} duplicates, stored {stored}")
    if not burst.ambiguous:
        assert stored == burst.ok == total


# ==========================================================================
# 10. two copies of each service
# ==========================================================================
@pytest.mark.slow
def test_two_copies_count_once(make_user, base_url):
    a, b = make_user(), make_user()
    stack("start", "dialogs-2")
    stack("start", "counters-2")
    try:
        wait_services_ready(("dialogs", "counters", "dialogs-2", "counters-2", "backend"))
        consumed2_before = metric(PORTS["counters-2"], "saga_events_consumed_total", '{queue="counters.unreadMessages"}')
        published2_before = metric(PORTS["dialogs-2"], "saga_events_published_total")
        # Half the clients go through the backend (-> dialogs), half straight to dialogs-2.
        burst = Burst(a, b, 1000, threads=8, prefix="two-copies",
                      base_urls=[base_url, f"http://127.0.0.1:{PORTS['dialogs-2']}"]).start().join()
        stored, extra = _check_burst(a, b, burst)
        assert stored == burst.ok == 1000 and extra == 0
        assert metric(PORTS["counters-2"], "saga_events_consumed_total", '{queue="counters.unreadMessages"}') > consumed2_before, \
            "counters-2 consumed nothing: the test did not exercise two consumers"
        assert metric(PORTS["dialogs-2"], "saga_events_published_total") > published2_before, \
            "dialogs-2's relay published nothing"
        # Reads through both copies too.
        assert b.read(a.id).json() == {"marked": 1000}
        wait_counter(b, a.id, 0, timeout=60)
        wait_quiet(FAULT_QUIET_TIMEOUT)
        assert message_states(a.id, b.id) == {"READ": 1000}
    finally:
        stack("stop", "dialogs-2")
        stack("stop", "counters-2")


# ==========================================================================
# 11. the benchmarks' HTTP baseline (bench/http_ceiling.sh)
# ==========================================================================
def test_counters_ping_through_gateway(make_user, base_url):
    a = make_user()
    r = a.http.get(f"{base_url}/counters/ping", headers=a.headers, timeout=10)
    assert (r.status_code, r.json()) == (200, {"ok": True})
    assert requests.get(f"{base_url}/counters/ping", timeout=10).status_code == 401
