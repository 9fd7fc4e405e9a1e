"""The live dialogs channel (GET /dialog/live, docs/api.md): every saga step of a user's dialogs,
told to both people, whichever backend copy each is connected to."""
import time

import pytest

from conftest import TIMEOUT
from saga_helpers import PORTS, stack, wait_quiet, wait_services_ready

websocket = pytest.importorskip("websocket")
from live_helpers import DIALOGS, Listener, ws_url  # noqa: E402


@pytest.fixture
def second_backend():
    """backend-2 for the test (started and stopped here, as test_feed does)."""
    stack("start", "backend-2")
    try:
        wait_services_ready(("backend-2",), drain=False)
        yield f"http://127.0.0.1:{PORTS['backend-2']}"
    finally:
        stack("stop", "backend-2")


def steps_of(listener, message_id, event, deadline=5.0):
    return listener.wait_until(lambda m: m.get("event") == event and message_id in m.get("message_ids", []),
                               deadline, f"{event} of {message_id}")


def test_both_people_see_every_step_across_two_backend_copies(base_url, second_backend, http, user, contract):
    alice, ah = user()
    bob, bh = user()
    stranger, sh = user()
    on_alice = Listener(base_url, headers=ah, path=DIALOGS)
    on_bob = Listener(second_backend, query_token=bh["Authorization"].split(" ", 1)[1], path=DIALOGS)
    on_stranger = Listener(second_backend, headers=sh, path=DIALOGS)
    try:
        time.sleep(0.3)  # bindings are made on the broker asynchronously
        sent_at = time.monotonic()
        r = http.post(f"{base_url}/dialog/{bob}/send", json={"text": "live hello"}, headers=ah, timeout=TIMEOUT)
        assert r.status_code == 200, r.text
        message = r.json()["id"]
        for listener in (on_alice, on_bob):
            at, msg = steps_of(listener, message, "sent")
            assert msg == {"event": "sent", "state": "PENDING_UNREAD", "author_id": alice, "recipient_id": bob,
                           "message_ids": [message]}
            at, msg = steps_of(listener, message, "counted")
            assert msg["state"] == "UNREAD"
            assert at - sent_at < 1.0, f"counted after {at - sent_at:.3f}s"
        read_at = time.monotonic()
        # The explicit read: a listing marks only what dialogs has already moved to UNREAD, and the
        # live 'counted' may come before dialogs has taken in the same reply.
        r = http.post(f"{base_url}/dialog/{alice}/read", headers=bh, timeout=TIMEOUT)
        assert r.status_code == 200, r.text
        for listener in (on_alice, on_bob):
            steps_of(listener, message, "read")
            at, msg = steps_of(listener, message, "read_counted")
            assert msg["state"] == "READ"
            assert at - read_at < 1.0, f"read_counted after {at - read_at:.3f}s"
        for _, msg in on_alice.messages + on_bob.messages:
            contract.validate_schema("#/components/schemas/DialogLiveEvent", msg)
        time.sleep(0.3)
        assert on_stranger.messages == [], on_stranger.messages
        wait_quiet()
    finally:
        for listener in (on_alice, on_bob, on_stranger):
            listener.close()


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer bad.token.here"}])
def test_live_dialogs_refuses_bad_token(base_url, headers):
    with pytest.raises(websocket.WebSocketBadStatusException) as err:
        websocket.create_connection(ws_url(base_url, DIALOGS), header=[f"{k}: {v}" for k, v in headers.items()],
                                    timeout=TIMEOUT)
    assert err.value.status_code == 401
