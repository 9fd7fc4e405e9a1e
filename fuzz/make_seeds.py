#!/usr/bin/python3
"""Writes the seed corpora fuzz/corpus/<target>/ (valid and near-valid inputs) and is kept so
they can be made again; libFuzzer's own finds go to a scratch folder, never here (scripts/fuzz.sh).
Run: /usr/bin/python3 fuzz/make_seeds.py"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
U1 = "0b8f6a2e-3c1d-4e5f-8a9b-0c1d2e3f4a5b"   # fuzz::kUserId, whose token `$TOKEN` stands for
U2 = "1c9a7b3f-4d2e-4f60-9bac-1d2e3f4a5b6c"
U3 = "2dab8c4a-5e3f-4071-8cbd-2e3f4a5b6c7d"


def write(target, name, data):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def request(method, target, body=None, token=True, headers=()):
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1"]
    if token:
        lines.append("Authorization: Bearer $TOKEN")
    lines += list(headers)
    if body is not None:
        payload = body if isinstance(body, str) else json.dumps(body)
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload.encode())}"]
        return "\r\n".join(lines) + "\r\n\r\n" + payload
    return "\r\n".join(lines) + "\r\n\r\n"


def http_seeds():
    backend, dialogs, counters = "\x00", "\x01", "\x02"
    user = {"first_name": "Ann", "second_name": "Lee", "birthdate": "1990-02-28", "biography": "x",
            "city": "Oslo", "password": "correct horse"}
    seeds = {
        "register": backend + request("POST", "/user/register", user, token=False),
        "register_bad_date": backend + request("POST", "/user/register", dict(user, birthdate="1990-02-30"), token=False),
        "register_not_json": backend + request("POST", "/user/register", "{\"first_name\":", token=False),
        "login": backend + request("POST", "/login", {"id": U2, "password": "pw"}, token=False),
        "login_not_uuid": backend + request("POST", "/login", {"id": "abc", "password": 1}, token=False),
        "user_get": backend + request("GET", f"/user/get/{U2}", token=False),
        "user_get_bad": backend + request("GET", "/user/get/%zz", token=False),
        "search": backend + request("GET", "/user/search?first_name=An&last_name=L%C3%A9&limit=5", token=False),
        "search_bad_limit": backend + request("GET", "/user/search?first_name=A&last_name=B&limit=-1", token=False),
        "whoami": backend + request("GET", "/auth/whoami"),
        "whoami_bad_token": backend + request("GET", "/auth/whoami", token=False, headers=["Authorization: Bearer a.b"]),
        "friend_set": backend + request("PUT", f"/friend/set/{U2}"),
        "friend_delete": backend + request("PUT", f"/friend/delete/{U2}"),
        "post_create": backend + request("POST", "/post/create", {"text": "hello"}),
        "post_update": backend + request("PUT", "/post/update", {"id": U3, "text": "edited"}),
        "post_delete": backend + request("PUT", f"/post/delete/{U3}"),
        "post_get": backend + request("GET", f"/post/get/{U3}", token=False),
        "post_feed": backend + request("GET", "/post/feed?offset=0&limit=10"),
        "live_upgrade": backend + request("GET", "/post/feed/posted?token=$TOKEN", token=False, headers=[
            "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version: 13"]),
        "live_not_upgrade": backend + request("GET", "/post/feed/posted"),
        "gateway_send": backend + request("POST", f"/dialog/{U2}/send", {"text": "hi"}),
        "gateway_list": backend + request("GET", f"/dialog/{U2}/list?limit=10"),
        "gateway_counters": backend + request("GET", "/counters/unread"),
        "healthz_pipelined": backend + request("GET", "/healthz", token=False) + request("GET", "/metrics", token=False),
        "chunked": backend + "POST /post/create HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $TOKEN\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n5\r\n{\"tex\r\n9\r\nt\":\"hi\"}\r\n0\r\n\r\n",
        "made_up_method": backend + request("BREW", "/coffee", token=False),
        "dialogs_send": dialogs + request("POST", f"/dialog/{U2}/send", {"text": "привет"}),
        "dialogs_send_empty": dialogs + request("POST", f"/dialog/{U2}/send", {"text": ""}),
        "dialogs_list": dialogs + request("GET", f"/dialog/{U2}/list?limit=100&before={U3}"),
        "dialogs_read": dialogs + request("POST", f"/dialog/{U2}/read", {}),
        "dialogs_list_self": dialogs + request("GET", f"/dialog/{U1}/list"),
        "counters_unread": counters + request("GET", "/counters/unread"),
        "counters_pair": counters + request("GET", f"/counters/{U2}/unreadMessages"),
        "counters_ping": counters + request("GET", "/counters/ping", headers=["X-Request-ID: abc-123"]),
        "counters_readyz": counters + request("GET", "/readyz", token=False),
    }
    for name, data in seeds.items():
        write("http_fuzz", name, data)


def json_seeds():
    seeds = {
        "user": {"first_name": "Ann", "second_name": "Lee", "birthdate": "2000-01-01", "city": None,
                 "password": "12345678", "id": U1, "text": "a" * 100},
        "nested": {"first_name": {"a": [1, 2, {"b": None}]}, "birthdate": "2024-02-29"},
        "unicode": {"text": "\u00e9\u4e2d\U0001f600", "biography": "\\u0000"},
        "bad_date": {"birthdate": "1899-12-31", "id": U1.upper()},
    }
    for name, obj in seeds.items():
        write("json_fuzz", name, json.dumps(obj))
    write("json_fuzz", "broken", '{"text": "\\ud800", "id": 1e999')
    write("json_fuzz", "overlong_utf8", b'{"text": "\xc0\xaf\xed\xa0\x80"}')


def token_seeds():
    write("token_fuzz", "raw_garbage", b"\x00abc.def")
    write("token_fuzz", "raw_shape", b"\x00eyJzdWIiOiJ4In0." + b"A" * 86)
    write("token_fuzz", "claims", b"\x01" + json.dumps({"sub": U1, "exp": 1900000000}).encode())
    write("token_fuzz", "claims_expired", b"\x01" + json.dumps({"sub": U1, "exp": 1}).encode())
    write("token_fuzz", "claims_types", b"\x01" + json.dumps({"sub": 5, "exp": "soon"}).encode())
    write("token_fuzz", "claims_float", b'\x01{"sub":"' + U1.encode() + b'","exp":1.9e9}')
    write("token_fuzz", "issue", b"\x02" + U2.encode())


def saga_seeds():
    req = {"event_id": U3, "action": "increment", "author_id": U1, "recipient_id": U2, "message_ids": [U3]}
    reply = {"event_id": U2, "in_reply_to": U3, "action": "decrement", "verdict": "rejected",
             "author_id": U1, "recipient_id": U2, "message_ids": [U3, U1], "reason": "below zero"}
    write("saga_events_fuzz", "request", b"\x00" + json.dumps(req).encode())
    write("saga_events_fuzz", "request_unknown_action", b"\x00" + json.dumps(dict(req, action="reset")).encode())
    write("saga_events_fuzz", "request_no_ids", b"\x00" + json.dumps(dict(req, message_ids=[])).encode())
    write("saga_events_fuzz", "reply", b"\x01" + json.dumps(reply).encode())
    write("saga_events_fuzz", "reply_counted", b"\x01" + json.dumps(dict(reply, verdict="counted", reason=None)).encode())
    write("saga_events_fuzz", "feed_post", b"\x02" + json.dumps(
        {"event_id": U3, "kind": "post.created", "post_id": U2, "author_id": U1}).encode())
    write("saga_events_fuzz", "feed_friend", b"\x02" + json.dumps(
        {"event_id": U3, "kind": "friend.added", "user_id": U2, "friend_id": U1}).encode())


def frame(opcode, payload, fin=True, mask=b"\x11\x22\x33\x44"):
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


def websocket_seeds():
    upgrade = ("GET /post/feed/posted HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
    write("websocket_fuzz", "text", upgrade + frame(1, b"hello"))
    write("websocket_fuzz", "ping_close", upgrade + frame(9, b"p") + frame(8, b"\x03\xe8bye"))
    write("websocket_fuzz", "fragments", upgrade + frame(1, b"hel", fin=False) + frame(0, b"lo"))
    write("websocket_fuzz", "too_large", upgrade + frame(2, b"x" * 5000))
    write("websocket_fuzz", "unmasked", upgrade + b"\x81\x05hello")
    write("websocket_fuzz", "bad_version", upgrade.replace(b"Version: 13", b"Version: 8") + frame(1, b"x"))
    write("websocket_fuzz", "huge_length", upgrade + b"\x82\xff" + b"\x7f" + b"\xff" * 7 + b"\x00" * 4)


def config_seeds():
    lines = ["amqp://user:s3cret-pass@127.0.0.1:5672/%2f?heartbeat=10&connection_timeout=500",
             "redis://127.0.0.1:6379/2", "127.0.0.1", "8080", "2", "host=127.0.0.1 port=5432 dbname=x", "8", "5000",
             "100", "1048576", "500", "200", "5", "168", "600000", "/a:/b::"]
    write("config_fuzz", "valid", "\n".join(lines))
    bad = list(lines)
    bad[0] = "amqp://u:p@[::1]:0/a/b"
    bad[3] = "99999"
    write("config_fuzz", "out_of_range", "\n".join(bad))
    write("config_fuzz", "ipv6", "amqp://guest:guest@[::1]:5672/vh?heartbeat=-1\nredis://[::1]:x/99")
    write("config_fuzz", "only_amqp", "amqps://a@b")


if __name__ == "__main__":
    http_seeds()
    json_seeds()
    token_seeds()
    saga_seeds()
    websocket_seeds()
    config_seeds()
