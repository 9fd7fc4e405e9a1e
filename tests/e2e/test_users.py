"""End-to-end and contract tests for the user API (OTUS Highload Architect)."""
import datetime as dt
import json
import os
import socket
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import (  # noqa: E402
    DROP, REQUEST_ID_RE, RUN_ID, TIMEOUT, UUID_RE, assert_error, auth_headers,
    b64url_decode, b64url_encode, check_birthdate_format, db_snapshot,
    fetch_user_row, unique, user_payload,
)

MIB = 1024 * 1024
UTC_TODAY = dt.datetime.now(dt.timezone.utc).date()


def get_user(http, base_url, user_id, **kw):
    return http.get(f"{base_url}/user/get/{user_id}", timeout=TIMEOUT, **kw)


def search(http, base_url, params, **kw):
    return http.get(f"{base_url}/user/search", params=params, timeout=TIMEOUT, **kw)


# ==========================================================================
# Happy path
# ==========================================================================
def test_register_login_get_search_happy_path(base_url, http, contract, backend_db, login):
    before = db_snapshot(backend_db)
    body = user_payload(biography="Books, chess", city="Kazan", birthdate="1985-11-02")
    r = http.post(base_url + "/user/register", json=body, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.headers.get("Content-Type", "").startswith("application/json")
    contract.validate("/user/register", "post", 200, r.json())
    user_id = r.json()["user_id"]
    assert UUID_RE.match(user_id)
    assert db_snapshot(backend_db)["users"] == before["users"] + 1

    row = fetch_user_row(backend_db, user_id)
    assert row is not None, "registered user not in users table"
    assert row["first_name"] == body["first_name"]
    assert row["second_name"] == body["second_name"]
    assert row["birthdate"] == dt.date(1985, 11, 2)
    assert row["biography"] == "Books, chess"
    assert row["city"] == "Kazan"
    assert row["password_hash"].startswith("$argon2id$"), row["password_hash"][:20]
    assert body["password"] not in row["password_hash"]
    assert row["created_at"] is not None

    r = http.post(base_url + "/login", json={"id": user_id, "password": body["password"]},
                  timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    contract.validate("/login", "post", 200, r.json())
    token = r.json()["token"]
    assert isinstance(token, str) and token

    r = get_user(http, base_url, user_id)
    assert r.status_code == 200, r.text
    u = r.json()
    contract.validate("/user/get/{id}", "get", 200, u)
    contract.validate_user(u)
    assert u == {
        "id": user_id, "first_name": body["first_name"], "second_name": body["second_name"],
        "birthdate": "1985-11-02", "biography": "Books, chess", "city": "Kazan",
    }

    r = search(http, base_url, {"first_name": body["first_name"], "last_name": body["second_name"]})
    assert r.status_code == 200, r.text
    res = r.json()
    contract.validate("/user/search", "get", 200, res)
    assert [x["id"] for x in res] == [user_id]
    contract.validate_user(res[0])
    assert res[0] == u

    # whoami with the fresh token
    r = http.get(base_url + "/auth/whoami", headers=auth_headers(token), timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.json()["user_id"] == user_id


def test_password_hashes_are_salted(register, backend_db):
    pw = "same-password-" + RUN_ID
    a, _ = register(password=pw)
    b, _ = register(password=pw)
    ha = fetch_user_row(backend_db, a)["password_hash"]
    hb = fetch_user_row(backend_db, b)["password_hash"]
    assert ha.startswith("$argon2id$") and hb.startswith("$argon2id$")
    assert ha != hb, "identical hashes for identical passwords: no salt"


def test_token_format(register, login):
    uid, pw = register()
    token = login(uid, pw)
    parts = token.split(".")
    assert len(parts) == 2, token
    payload = json.loads(b64url_decode(parts[0]))
    assert payload["sub"] == uid
    assert isinstance(payload["exp"], int) and payload["exp"] > time.time()
    assert len(b64url_decode(parts[1])) == 64, "ed25519 signature must be 64 bytes"


def test_register_ignores_unknown_fields_and_optional_fields(base_url, http, contract, backend_db):
    body = user_payload(biography=DROP, city=DROP)
    body["favourite_colour"] = "green"
    body["id"] = str(uuid.uuid4())  # must not let the client choose the id
    r = http.post(base_url + "/user/register", json=body, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    uid = r.json()["user_id"]
    assert uid != body["id"]
    r = get_user(http, base_url, uid)
    assert r.status_code == 200
    contract.validate_user(r.json())
    assert "favourite_colour" not in r.json()


def test_register_content_type_not_strict(base_url, http):
    body = user_payload()
    r = http.post(base_url + "/user/register", data=json.dumps(body),
                  headers={"Content-Type": "text/plain"}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("overrides", [
    pytest.param({"first_name": "A"}, id="first_name-1"),
    pytest.param({"first_name": "N" * 100}, id="first_name-100"),
    pytest.param({"second_name": "S" * 100}, id="second_name-100"),
    pytest.param({"first_name": "Я" * 100}, id="first_name-100-cyrillic"),
    pytest.param({"second_name": "ж" * 100}, id="second_name-100-cyrillic"),
    pytest.param({"password": "p" * 8}, id="password-8"),
    pytest.param({"password": "p" * 256}, id="password-256"),
    pytest.param({"password": "пароль12"}, id="password-8-cyrillic"),
    pytest.param({"biography": "b" * 4000}, id="biography-4000"),
    pytest.param({"biography": "б" * 4000}, id="biography-4000-cyrillic"),
    pytest.param({"biography": ""}, id="biography-empty"),
    pytest.param({"city": "c" * 100}, id="city-100"),
    pytest.param({"city": "г" * 100}, id="city-100-cyrillic"),
    pytest.param({"birthdate": "1900-01-01"}, id="birthdate-1900-01-01"),
    pytest.param({"birthdate": UTC_TODAY.isoformat()}, id="birthdate-today"),
    pytest.param({"birthdate": "2000-02-29"}, id="birthdate-leap-day"),
])
def test_register_boundaries_accepted(base_url, http, contract, backend_db, overrides):
    body = user_payload(**overrides)
    before = db_snapshot(backend_db)["users"]
    r = http.post(base_url + "/user/register", json=body, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    uid = r.json()["user_id"]
    assert db_snapshot(backend_db)["users"] == before + 1
    r = get_user(http, base_url, uid)
    assert r.status_code == 200
    u = r.json()
    contract.validate_user(u)
    for k, v in overrides.items():
        if k != "password":
            assert u[k] == v, (k, u[k][:50], v[:50])
    r = http.post(base_url + "/login", json={"id": uid, "password": body["password"]},
                  timeout=TIMEOUT)
    assert r.status_code == 200, r.text


# ==========================================================================
# Cyrillic / Unicode
# ==========================================================================
@pytest.mark.parametrize("raw_utf8", [False, True], ids=["json-escaped", "raw-utf8"])
def test_cyrillic_round_trip(base_url, http, contract, backend_db, raw_utf8):
    first = "Иван" + unique("Ё")
    second = "Петров-Водкин" + unique("й")
    body = user_payload(first_name=first, second_name=second, city="Санкт-Петербург",
                        biography="Люблю «кавычки» и эмодзи 🙂", password="пароль-" + RUN_ID)
    if raw_utf8:
        r = http.post(base_url + "/user/register",
                      data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                      headers={"Content-Type": "application/json; charset=utf-8"},
                      timeout=TIMEOUT)
    else:
        r = http.post(base_url + "/user/register", json=body, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    uid = r.json()["user_id"]

    row = fetch_user_row(backend_db, uid)
    assert row["first_name"] == first and row["second_name"] == second
    assert row["city"] == "Санкт-Петербург"
    assert row["biography"] == body["biography"]

    r = get_user(http, base_url, uid)
    assert r.status_code == 200
    r.encoding = "utf-8"
    u = r.json()
    contract.validate_user(u)
    assert (u["first_name"], u["second_name"], u["city"], u["biography"]) == (
        first, second, "Санкт-Петербург", body["biography"])

    r = search(http, base_url, {"first_name": first[:6], "last_name": second[:8]})
    assert r.status_code == 200
    assert uid in [x["id"] for x in r.json()]

    r = http.post(base_url + "/login", json={"id": uid, "password": body["password"]},
                  timeout=TIMEOUT)
    assert r.status_code == 200, r.text


# ==========================================================================
# Search
# ==========================================================================
def test_search_prefix_and_ordering(base_url, http, contract, register):
    pfx_f = "Qz" + unique()
    pfx_s = "Wx" + unique()
    ids = [register(first_name=pfx_f + suffix, second_name=pfx_s + suffix2)[0]
           for suffix, suffix2 in (("a", "x"), ("bb", "yy"), ("", ""))]
    # matches first_name prefix only
    non_match = register(first_name=pfx_f + "c", second_name="Other" + pfx_s)[0]
    # matches second_name prefix only
    non_match2 = register(first_name="Other" + pfx_f, second_name=pfx_s + "z")[0]

    r = search(http, base_url, {"first_name": pfx_f, "last_name": pfx_s})
    assert r.status_code == 200, r.text
    res = r.json()
    contract.validate("/user/search", "get", 200, res)
    for u in res:
        contract.validate_user(u)
    got = [u["id"] for u in res]
    assert set(got) == set(ids), (got, ids)
    assert non_match not in got and non_match2 not in got
    assert got == sorted(got), "results not ordered by id ascending"
    for u in res:
        assert u["first_name"].startswith(pfx_f) and u["second_name"].startswith(pfx_s)

    # exact full name is a prefix too
    r = search(http, base_url, {"first_name": pfx_f + "bb", "last_name": pfx_s + "yy"})
    assert [u["id"] for u in r.json()] == [ids[1]]

    # prefix, not substring: dropping the first character must not match
    r = search(http, base_url, {"first_name": pfx_f[1:], "last_name": pfx_s[1:]})
    assert r.status_code == 200
    assert not set(ids) & {u["id"] for u in r.json()}

    # case-sensitive
    r = search(http, base_url, {"first_name": pfx_f.lower(), "last_name": pfx_s.lower()})
    assert r.status_code == 200
    assert not set(ids) & {u["id"] for u in r.json()}

    # nothing matches -> []
    r = search(http, base_url, {"first_name": pfx_f + "nomatch", "last_name": pfx_s})
    assert r.status_code == 200
    assert r.json() == []

    # limit
    r = search(http, base_url, {"first_name": pfx_f, "last_name": pfx_s, "limit": 2})
    assert r.status_code == 200, r.text
    assert [u["id"] for u in r.json()] == sorted(ids)[:2]


def test_search_like_wildcards_are_literal(base_url, http, register):
    """Prefix match means '%' and '_' in the query are literal characters."""
    pfx_f = "Lk" + unique()
    pfx_s = "Mk" + unique()
    uid = register(first_name=pfx_f + "abc", second_name=pfx_s + "def")[0]
    for f, s in [("%", pfx_s), (pfx_f, "%"), ("_" + pfx_f[1:], pfx_s),
                 (pfx_f + "%c", pfx_s), (pfx_f[:-1] + "_", pfx_s)]:
        r = search(http, base_url, {"first_name": f, "last_name": s})
        assert r.status_code == 200, (f, s, r.text)
        assert uid not in [u["id"] for u in r.json()], f"wildcard leaked: {f!r} {s!r}"


def test_search_sql_injection_is_inert(base_url, http):
    for v in ["' OR 1=1 --", "'; DROP TABLE users; --", "\\", "\"", "x' UNION SELECT 1--"]:
        r = search(http, base_url, {"first_name": v, "last_name": v})
        assert r.status_code == 200, (v, r.text)
        assert r.json() == []


def test_search_default_limit_is_100(base_url, http, contract):
    pfx_f = "Lim" + unique()
    pfx_s = "Lim" + unique()

    def reg(i):
        body = user_payload(first_name=f"{pfx_f}{i:03d}", second_name=pfx_s,
                            password="p" * 8)
        r = requests.post(base_url + "/user/register", json=body, timeout=TIMEOUT)
        assert r.status_code == 200, r.text
        return r.json()["user_id"]

    with ThreadPoolExecutor(max_workers=8) as ex:
        ids = list(ex.map(reg, range(103)))
    r = search(http, base_url, {"first_name": pfx_f, "last_name": pfx_s})
    assert r.status_code == 200
    got = [u["id"] for u in r.json()]
    assert len(got) == 100
    assert got == sorted(ids)[:100]
    r = search(http, base_url, {"first_name": pfx_f, "last_name": pfx_s, "limit": 1000})
    assert r.status_code == 200
    assert [u["id"] for u in r.json()] == sorted(ids)
    contract.validate("/user/search", "get", 200, r.json())


@pytest.mark.parametrize("params", [
    pytest.param({"last_name": "A"}, id="missing-first_name"),
    pytest.param({"first_name": "A"}, id="missing-last_name"),
    pytest.param({}, id="missing-both"),
    pytest.param({"first_name": "", "last_name": "A"}, id="empty-first_name"),
    pytest.param({"first_name": "A", "last_name": ""}, id="empty-last_name"),
    pytest.param({"first_name": "A" * 101, "last_name": "A"}, id="first_name-101"),
    pytest.param({"first_name": "A", "last_name": "A" * 101}, id="last_name-101"),
    pytest.param({"first_name": "Я" * 101, "last_name": "A"}, id="first_name-101-cyrillic"),
    pytest.param({"first_name": "A", "last_name": "A", "limit": 0}, id="limit-0"),
    pytest.param({"first_name": "A", "last_name": "A", "limit": 1001}, id="limit-1001"),
    pytest.param({"first_name": "A", "last_name": "A", "limit": -1}, id="limit-negative"),
    pytest.param({"first_name": "A", "last_name": "A", "limit": "abc"}, id="limit-nan"),
])
def test_search_bad_params(base_url, http, contract, params):
    r = search(http, base_url, params)
    assert_error(r, 400, contract)


def test_search_100_char_params_accepted(base_url, http):
    r = search(http, base_url, {"first_name": "Я" * 100, "last_name": "A" * 100})
    assert r.status_code == 200, r.text
    assert r.json() == []


# ==========================================================================
# Register: bad input
# ==========================================================================
def _tomorrow_plus():
    return (UTC_TODAY + dt.timedelta(days=2)).isoformat()


BAD_REGISTER_FIELDS = [
    # missing required
    ("missing-first_name", {"first_name": DROP}),
    ("missing-second_name", {"second_name": DROP}),
    ("missing-birthdate", {"birthdate": DROP}),
    ("missing-password", {"password": DROP}),
    # lengths
    ("first_name-empty", {"first_name": ""}),
    ("second_name-empty", {"second_name": ""}),
    ("first_name-101", {"first_name": "N" * 101}),
    ("second_name-101", {"second_name": "S" * 101}),
    ("first_name-101-cyrillic", {"first_name": "Я" * 101}),
    ("second_name-101-cyrillic", {"second_name": "ж" * 101}),
    ("biography-4001", {"biography": "b" * 4001}),
    ("biography-4001-cyrillic", {"biography": "б" * 4001}),
    ("city-101", {"city": "c" * 101}),
    ("city-101-cyrillic", {"city": "г" * 101}),
    ("password-7", {"password": "p" * 7}),
    ("password-7-cyrillic", {"password": "пароль1"}),
    ("password-257", {"password": "p" * 257}),
    ("password-empty", {"password": ""}),
    # birthdate
    ("birthdate-feb-30", {"birthdate": "2023-02-30"}),
    ("birthdate-non-leap-feb-29", {"birthdate": "2023-02-29"}),
    ("birthdate-month-13", {"birthdate": "2000-13-01"}),
    ("birthdate-day-00", {"birthdate": "2000-01-00"}),
    ("birthdate-day-32", {"birthdate": "2000-01-32"}),
    ("birthdate-1899-12-31", {"birthdate": "1899-12-31"}),
    ("birthdate-future", {"birthdate": _tomorrow_plus()}),
    ("birthdate-far-future", {"birthdate": "9999-12-31"}),
    ("birthdate-no-padding", {"birthdate": "2000-1-1"}),
    ("birthdate-dotted", {"birthdate": "01.02.2000"}),
    ("birthdate-slashes", {"birthdate": "2000/01/02"}),
    ("birthdate-datetime", {"birthdate": "2000-01-02T00:00:00"}),
    ("birthdate-trailing", {"birthdate": "2000-01-02x"}),
    ("birthdate-leading-space", {"birthdate": " 2000-01-02"}),
    ("birthdate-empty", {"birthdate": ""}),
    ("birthdate-letters", {"birthdate": "abcd-ef-gh"}),
    ("birthdate-5-digit-year", {"birthdate": "12000-01-02"}),
    # wrong JSON types
    ("first_name-number", {"first_name": 123}),
    ("first_name-null", {"first_name": None}),
    ("first_name-bool", {"first_name": True}),
    ("first_name-object", {"first_name": {"a": 1}}),
    ("first_name-array", {"first_name": ["Ivan"]}),
    ("second_name-number", {"second_name": 1.5}),
    ("second_name-null", {"second_name": None}),
    ("birthdate-number", {"birthdate": 20000102}),
    ("birthdate-null", {"birthdate": None}),
    ("biography-number", {"biography": 5}),
    ("biography-array", {"biography": ["a"]}),
    ("city-array", {"city": []}),
    ("city-number", {"city": 77}),
    ("password-number", {"password": 12345678}),
    ("password-null", {"password": None}),
    ("password-array", {"password": ["12345678"]}),
]


@pytest.mark.parametrize("overrides", [pytest.param(o, id=i) for i, o in BAD_REGISTER_FIELDS])
def test_register_bad_fields(base_url, http, contract, backend_db, overrides):
    before = db_snapshot(backend_db)
    r = http.post(base_url + "/user/register", json=user_payload(**overrides), timeout=TIMEOUT)
    assert_error(r, 400, contract)
    assert db_snapshot(backend_db) == before, "bad input wrote to users"


BAD_REGISTER_RAW = [
    ("malformed-json", b'{"first_name": "A", '),
    ("trailing-garbage", json.dumps(user_payload()).encode() + b" xyz"),
    ("two-objects", json.dumps(user_payload()).encode() * 2),
    ("empty-body", b""),
    ("whitespace-body", b"   "),
    ("array", b"[]"),
    ("array-of-object", b"[" + json.dumps(user_payload()).encode() + b"]"),
    ("string", b'"hello"'),
    ("number", b"42"),
    ("null", b"null"),
    ("true", b"true"),
    ("single-quotes", json.dumps(user_payload()).replace('"', "'").encode()),
    ("invalid-utf8", json.dumps(user_payload(first_name="X")).encode().replace(b'"X"', b'"\xff\xfe"')),
    ("deep-nesting", b"[" * 100000 + b"]" * 100000),
]


@pytest.mark.parametrize("raw", [pytest.param(b, id=i) for i, b in BAD_REGISTER_RAW])
def test_register_bad_body(base_url, http, contract, backend_db, raw):
    before = db_snapshot(backend_db)
    r = http.post(base_url + "/user/register", data=raw,
                  headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
    assert_error(r, 400, contract)
    assert db_snapshot(backend_db) == before, "bad input wrote to users"


@pytest.mark.parametrize("field", ["first_name", "second_name", "biography", "city", "password"])
def test_register_nul_char_no_5xx(base_url, http, contract, backend_db, field):
    """PostgreSQL text can't hold NUL; the server must answer 200 or 400, never 5xx."""
    body = user_payload(**{field: "ab\u0000cdefghij"})
    r = http.post(base_url + "/user/register", json=body, timeout=TIMEOUT)
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        assert_error(r, 400, contract)


def test_register_lone_surrogate_no_5xx(base_url, http, contract, backend_db):
    """"\\ud800" is syntactically JSON but not valid Unicode: 400 (or stored
    replaced by U+FFFD, 200) but never 5xx."""
    raw = json.dumps(user_payload(first_name="X")).encode().replace(b'"X"', b'"\\ud800"')
    r = http.post(base_url + "/user/register", data=raw, timeout=TIMEOUT)
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        assert_error(r, 400, contract)


def test_register_body_just_under_limit_is_not_413(base_url, http, contract, backend_db):
    body = user_payload(biography="")
    base = len(json.dumps(body).encode())
    body["biography"] = "b" * (MIB - base - 10)
    raw = json.dumps(body).encode()
    assert len(raw) < MIB
    before = db_snapshot(backend_db)
    r = http.post(base_url + "/user/register", data=raw, timeout=TIMEOUT)
    assert_error(r, 400, contract)  # biography too long, but the body size is fine
    assert db_snapshot(backend_db) == before


def test_register_body_just_over_limit_is_413(base_url, http, contract, backend_db):
    body = user_payload(biography="")
    base = len(json.dumps(body).encode())
    body["biography"] = "b" * (MIB - base + 1)
    raw = json.dumps(body).encode()
    assert len(raw) == MIB + 1
    before = db_snapshot(backend_db)
    # raw socket: the server may answer 413 before reading the whole body
    status, hdrs, rest = _raw_post(base_url, "/user/register",
                                   {"Content-Type": "application/json",
                                    "Content-Length": str(len(raw))}, [raw])
    _check_raw_error(status, hdrs, rest, 413)
    assert db_snapshot(backend_db) == before


def _raw_post(base_url, path, headers, body_iter, read_timeout=15):
    """Send a request on a raw socket, tolerate the server closing early.

    Returns (status or None, headers dict, body bytes)."""
    u = urlsplit(base_url)
    sock = socket.create_connection((u.hostname, u.port or 80), timeout=read_timeout)
    try:
        head = f"POST {path} HTTP/1.1\r\nHost: {u.netloc}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        try:
            sock.sendall(head.encode())
            for chunk in body_iter:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass
        data = b""
        try:
            while True:
                b = sock.recv(65536)
                if not b:
                    break
                data += b
                if b"\r\n\r\n" in data:
                    hdr, _, rest = data.partition(b"\r\n\r\n")
                    cl = [ln for ln in hdr.split(b"\r\n") if ln.lower().startswith(b"content-length:")]
                    if cl and len(rest) >= int(cl[0].split(b":")[1]):
                        break
        except (ConnectionResetError, socket.timeout):
            pass
    finally:
        sock.close()
    if not data.startswith(b"HTTP/"):
        return None, {}, b""
    hdr, _, rest = data.partition(b"\r\n\r\n")
    lines = hdr.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return status, hdrs, rest


def _check_raw_error(status, hdrs, body, expected):
    assert status == expected, (status, body[:300])
    assert hdrs.get("content-type", "").split(";")[0].strip() == "application/json"
    err = json.loads(body.decode())
    for k in ("message", "request_id", "code"):
        assert k in err
    assert err["code"] == expected
    assert err["request_id"] == hdrs.get("x-request-id")


def test_register_10mb_body_is_413(base_url, backend_db):
    before = db_snapshot(backend_db)
    size = 10 * MIB
    chunk = b"a" * 65536

    def body():
        yield b'{"biography":"'
        for _ in range((size - 20) // len(chunk)):
            yield chunk
        yield b'"}'

    t0 = time.monotonic()
    status, hdrs, rest = _raw_post(base_url, "/user/register",
                                   {"Content-Type": "application/json",
                                    "Content-Length": str(size), "Connection": "close"},
                                   body())
    assert time.monotonic() - t0 < 60
    if status is not None:  # connection closed with no reply is tolerated
        _check_raw_error(status, hdrs, rest, 413)
    assert db_snapshot(backend_db) == before


def test_register_10mb_chunked_body_rejected(base_url, backend_db):
    """Chunked bodies must be capped too: no 2xx, no 500, server survives."""
    before = db_snapshot(backend_db)
    chunk = b"a" * 65536

    def body():
        yield b"e\r\n" + b'{"biography":"' + b"\r\n"
        for _ in range(160):  # 10 MiB
            yield b"%x\r\n" % len(chunk) + chunk + b"\r\n"
        yield b'2\r\n"}\r\n0\r\n\r\n'

    status, hdrs, rest = _raw_post(base_url, "/user/register",
                                   {"Content-Type": "application/json",
                                    "Transfer-Encoding": "chunked", "Connection": "close"},
                                   body())
    assert status is None or status in (400, 411, 413, 501), status
    if status == 413:
        _check_raw_error(status, hdrs, rest, 413)
    assert db_snapshot(backend_db) == before
    assert requests.get(base_url + "/healthz", timeout=TIMEOUT).status_code == 200


# ==========================================================================
# Login
# ==========================================================================
@pytest.fixture
def known_user(register):
    return register()


@pytest.mark.parametrize("case", [
    "id-not-uuid", "id-uuid-too-long", "id-empty", "id-number", "id-null", "missing-id",
    "missing-password", "password-number", "password-null", "empty-object",
    "malformed-json", "array-body", "wrong-password", "wrong-password-case",
    "empty-password",
])
def test_login_bad_input_400(base_url, http, contract, known_user, case):
    uid, pw = known_user
    bodies = {
        "id-not-uuid": {"id": "not-a-uuid", "password": pw},
        "id-uuid-too-long": {"id": uid + "0", "password": pw},
        "id-empty": {"id": "", "password": pw},
        "id-number": {"id": 123, "password": pw},
        "id-null": {"id": None, "password": pw},
        "missing-id": {"password": pw},
        "missing-password": {"id": uid},
        "password-number": {"id": uid, "password": 12345678},
        "password-null": {"id": uid, "password": None},
        "empty-object": {},
        "wrong-password": {"id": uid, "password": pw + "x"},
        "wrong-password-case": {"id": uid, "password": pw.upper()},
        "empty-password": {"id": uid, "password": ""},
    }
    if case == "malformed-json":
        r = http.post(base_url + "/login", data=b'{"id": ', timeout=TIMEOUT)
    elif case == "array-body":
        r = http.post(base_url + "/login", data=json.dumps([uid, pw]), timeout=TIMEOUT)
    else:
        r = http.post(base_url + "/login", json=bodies[case], timeout=TIMEOUT)
    body = assert_error(r, 400, contract)
    assert "token" not in body


def test_login_unknown_user_404(base_url, http, contract):
    r = http.post(base_url + "/login",
                  json={"id": str(uuid.uuid4()), "password": "whatever-password"},
                  timeout=TIMEOUT)
    assert_error(r, 404, contract)


# ==========================================================================
# Get user
# ==========================================================================
@pytest.mark.parametrize("bad_id", [
    "abc", "123", "not-a-uuid-at-all-000000000000000000",
    "00000000-0000-0000-0000-00000000000g", "00000000-0000-0000-0000-0000000000000",
    "00000000-0000-0000-0000-00000000000", "'%20OR%201=1--",
])
def test_get_user_bad_id_400(base_url, http, contract, bad_id):
    r = get_user(http, base_url, bad_id)
    assert_error(r, 400, contract)


def test_get_user_unknown_404(base_url, http, contract):
    r = get_user(http, base_url, uuid.uuid4())
    assert_error(r, 404, contract)


def test_get_user_never_leaks_password(base_url, http, contract, register):
    uid, pw = register()
    r = get_user(http, base_url, uid)
    assert r.status_code == 200
    assert pw not in r.text and "argon2" not in r.text
    contract.validate_user(r.json())
    check_birthdate_format(r.json()["birthdate"])


# ==========================================================================
# X-Request-ID
# ==========================================================================
@pytest.mark.parametrize("rid", ["abc", "A.b_c-9", "x" * 128, str(uuid.uuid4())])
def test_request_id_echoed(base_url, http, contract, rid):
    r = http.get(base_url + "/healthz", headers={"X-Request-ID": rid}, timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.headers.get("X-Request-ID") == rid
    # and in an error body
    r = get_user(http, base_url, "bad", headers={"X-Request-ID": rid})
    body = assert_error(r, 400, contract)
    assert body["request_id"] == rid


@pytest.mark.parametrize("rid", ["x" * 129, "has space", "semi;colon", "<script>", "a/b",
                                 "кириллица"])
def test_request_id_invalid_replaced(base_url, http, contract, rid):
    try:
        r = get_user(http, base_url, "bad", headers={"X-Request-ID": rid.encode("utf-8")})
    except requests.RequestException as e:  # pragma: no cover
        pytest.fail(f"request failed: {e}")
    body = assert_error(r, 400, contract)
    got = r.headers["X-Request-ID"]
    assert got != rid
    assert REQUEST_ID_RE.match(got), got
    assert body["request_id"] == got


def test_request_id_generated_and_unique(base_url, http):
    seen = set()
    for path in ("/healthz", "/user/get/bad", "/no/such/path", "/healthz"):
        r = http.get(base_url + path, timeout=TIMEOUT)
        rid = r.headers.get("X-Request-ID")
        assert rid and REQUEST_ID_RE.match(rid), (path, rid)
        seen.add(rid)
    assert len(seen) == 4, "generated request ids are not unique"


def test_request_id_on_success_responses(base_url, http, register):
    uid, pw = register()
    r = http.post(base_url + "/login", json={"id": uid, "password": pw},
                  headers={"X-Request-ID": "login-" + RUN_ID}, timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.headers.get("X-Request-ID") == "login-" + RUN_ID


# ==========================================================================
# 404 / 405
# ==========================================================================
@pytest.mark.parametrize("method,path", [
    ("GET", "/no/such/path"), ("GET", "/user"), ("GET", "/user/get"),
    ("POST", "/user/registerx"), ("GET", "/user/gett/x"),
    ("GET", "/assets/no-such-file.js"),  # "/" is the web client now (docs/api.md)
])
def test_unknown_path_404(base_url, http, contract, method, path):
    r = http.request(method, base_url + path, timeout=TIMEOUT)
    assert_error(r, 404, contract)


@pytest.mark.parametrize("method,path", [
    ("GET", "/user/register"), ("PUT", "/user/register"), ("DELETE", "/user/register"),
    ("GET", "/login"), ("POST", "/user/get/00000000-0000-0000-0000-000000000000"),
    ("DELETE", "/user/get/00000000-0000-0000-0000-000000000000"),
    ("POST", "/user/search"), ("POST", "/healthz"), ("POST", "/auth/whoami"),
])
def test_wrong_method_405(base_url, http, contract, backend_db, method, path):
    before = db_snapshot(backend_db)
    r = http.request(method, base_url + path, json=user_payload(), timeout=TIMEOUT)
    assert_error(r, 405, contract)
    assert db_snapshot(backend_db) == before


# ==========================================================================
# Auth
# ==========================================================================
def _whoami(http, base_url, headers=None):
    return http.get(base_url + "/auth/whoami", headers=headers or {}, timeout=TIMEOUT)


def _flip_char(s, idx):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    c = s[idx]
    new = alphabet[(alphabet.index(c) + 17) % 64] if c in alphabet else "A"
    return s[:idx] + new + s[idx + 1:]


@pytest.fixture
def two_users_token(register, login):
    a, pa = register()
    b, _ = register()
    return a, b, login(a, pa)


def test_whoami_valid_token(base_url, http, two_users_token):
    a, _, token = two_users_token
    r = _whoami(http, base_url, auth_headers(token))
    assert r.status_code == 200, r.text
    assert r.json() == {"user_id": a}


def _forged_tokens(a, b, token):
    payload_b64, sig_b64 = token.split(".")
    payload = json.loads(b64url_decode(payload_b64))

    def with_payload(p):
        return b64url_encode(json.dumps(p, separators=(",", ":")).encode()) + "." + sig_b64

    return {
        "garbage": "garbage",
        "garbage-two-parts": "abc.def",
        "empty-signature": payload_b64 + ".",
        "no-signature": payload_b64,
        "three-parts": token + ".x",
        "sig-char-flipped-start": payload_b64 + "." + _flip_char(sig_b64, 0),
        "sig-char-flipped-middle": payload_b64 + "." + _flip_char(sig_b64, len(sig_b64) // 2),
        "sig-truncated": payload_b64 + "." + sig_b64[:-4],
        "sig-zeroed": payload_b64 + "." + b64url_encode(b"\0" * 64),
        "payload-char-flipped": _flip_char(payload_b64, 3) + "." + sig_b64,
        "payload-other-sub": with_payload({**payload, "sub": b}),
        "payload-extended-exp": with_payload({**payload, "exp": payload["exp"] + 86400 * 365}),
        "payload-expired": with_payload({**payload, "exp": int(time.time()) - 3600}),
        "payload-no-exp": with_payload({"sub": payload["sub"]}),
        "payload-upper-sub": with_payload({**payload, "sub": a.upper()}),
        "swapped-parts": sig_b64 + "." + payload_b64,
    }


FORGED_CASES = ["garbage", "garbage-two-parts", "empty-signature", "no-signature",
                "three-parts", "sig-char-flipped-start", "sig-char-flipped-middle",
                "sig-truncated", "sig-zeroed", "payload-char-flipped", "payload-other-sub",
                "payload-extended-exp", "payload-expired", "payload-no-exp",
                "payload-upper-sub", "swapped-parts"]


@pytest.mark.parametrize("case", FORGED_CASES)
def test_whoami_rejects_forged_token(base_url, http, contract, two_users_token, case):
    a, b, token = two_users_token
    forged = _forged_tokens(a, b, token)[case]
    assert forged != token
    r = _whoami(http, base_url, auth_headers(forged))
    assert_error(r, 401, contract)


@pytest.mark.parametrize("header", [
    None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token {tok}", "{tok}",
    "Bearer {tok} extra",
])
def test_whoami_rejects_bad_authorization_header(base_url, http, contract, two_users_token, header):
    _, _, token = two_users_token
    headers = {} if header is None else {"Authorization": header.format(tok=token)}
    r = _whoami(http, base_url, headers)
    assert_error(r, 401, contract)


# ==========================================================================
# Health / metrics
# ==========================================================================
def test_healthz(base_url, http):
    r = http.get(base_url + "/healthz", timeout=TIMEOUT)
    assert r.status_code == 200


def test_readyz(base_url, http):
    r = http.get(base_url + "/readyz", timeout=TIMEOUT)
    assert r.status_code == 200, r.text


def test_metrics(base_url, http):
    http.get(base_url + "/healthz", timeout=TIMEOUT)
    http.get(base_url + "/user/get/bad", timeout=TIMEOUT)
    r = http.get(base_url + "/metrics", timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.headers.get("Content-Type", "").startswith("text/plain")
    lines = [ln for ln in r.text.splitlines() if ln and not ln.startswith("#")]
    assert any(ln.startswith("http_requests_total") for ln in lines), r.text[:1000]
    assert any(ln.startswith("http_request_duration_seconds_bucket") for ln in lines)
    assert any('le="+Inf"' in ln for ln in lines
               if ln.startswith("http_request_duration_seconds_bucket"))
    for ln in lines:
        if ln.startswith("http_requests_total"):
            float(ln.rsplit(" ", 1)[1])  # value parses as a number
