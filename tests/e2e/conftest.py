"""Fixtures and helpers for the backend end-to-end / contract tests.

Run with Debian's interpreter:  /usr/bin/python3 -m pytest tests/e2e
Env: BACKEND_URL (default http://127.0.0.1:8080),
     BACKEND_PG_DSN (default "host=127.0.0.1 port=55432 dbname=backend user=postgres").
"""
import base64
import datetime as dt
import json
import os
import re
import urllib.parse
import uuid
import warnings
from pathlib import Path

import pytest
import requests

try:
    import psycopg2
except ImportError:  # pragma: no cover - reported by the backend_db fixture
    psycopg2 = None

import jsonschema

REPO_ROOT = Path(__file__).resolve().parents[2]
# The one API document: the OTUS contract plus what this project added.
CONTRACT_PATH = REPO_ROOT / "contracts" / "openapi.json"

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_DSN = "host=127.0.0.1 port=55432 dbname=backend user=postgres"

# Unique per run, so reruns against the same database never collide.
# Letters only (upper case) so prefixes are case-sensitive-testable and
# contain no LIKE wildcards.
RUN_ID = "".join(chr(ord("A") + (b % 26)) for b in uuid.uuid4().bytes[:8])

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
UUID_RE = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I
)
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIMEOUT = float(os.environ.get("E2E_TIMEOUT", "30"))

_counter = [0]


def unique(tag=""):
    """A short unique ASCII name fragment for this run."""
    _counter[0] += 1
    return f"{tag}{RUN_ID}{_counter[0]:04d}"


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64url_encode(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


# --------------------------------------------------------------------------
# contract
# --------------------------------------------------------------------------
class Contract:
    """Validates bodies against the OpenAPI document (whole doc as $ref root)."""

    def __init__(self, path=CONTRACT_PATH):
        with open(path, encoding="utf-8") as f:
            self.doc = json.load(f)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self.resolver = jsonschema.RefResolver.from_schema(self.doc)
        self.error_schema = self._deref(self.doc["components"]["responses"]["5xx"])[
            "content"]["application/json"]["schema"]

    def _deref(self, node):
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                _, node = self.resolver.resolve(node["$ref"])
            seen += 1
            assert seen < 20, "ref loop in contract"
        return node

    def response_schema(self, path, method, status):
        """Schema for path+method+status, or None when the contract gives none."""
        op = self.doc["paths"][path][method.lower()]
        responses = op["responses"]
        resp = responses.get(str(status))
        if resp is None and int(status) >= 500:
            resp = responses.get("5xx")
        assert resp is not None, f"contract has no {status} for {method} {path}"
        resp = self._deref(resp)
        content = resp.get("content", {}).get("application/json")
        return None if content is None else content["schema"]

    def _validate(self, schema, body):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            validator = jsonschema.Draft7Validator(schema, resolver=self.resolver)
            errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
        if errors:
            msgs = "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
            raise AssertionError(f"contract violation: {msgs}\nbody={body!r}")

    def validate(self, path, method, status, body):
        """Validate `body` against the contract for path+method+status.

        Error statuses (>=400) always use #/components/responses/5xx's schema
        (the contract leaves 400/404 bodies unspecified) plus our stricter
        rules: message, request_id and code all present.
        """
        if int(status) >= 400:
            self._validate(self.error_schema, body)
            for k in ("message", "request_id", "code"):
                assert k in body, f"error body lacks {k!r}: {body!r}"
            return
        schema = self.response_schema(path, method, status)
        assert schema is not None, f"contract has no JSON schema for {method} {path} {status}"
        self._validate(schema, body)

    def validate_schema(self, ref, body):
        self._validate({"$ref": ref}, body)

    def template_of(self, method, path):
        """The document's path template that answers METHOD path, or None."""
        for template in self.doc["paths"]:
            pattern = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "/?$"
            if method.lower() in self.doc["paths"][template] and re.match(pattern, path):
                return template
        return None

    def check_response(self, resp):
        """Every JSON answer the e2e tests get from the backend, against the document: the hook
        of the `http` session. Paths the document does not have are left to the tests that
        ask for them (unknown endpoints answer the error body, checked below)."""
        url = urllib.parse.urlsplit(resp.request.url)
        ctype = resp.headers.get("Content-Type", "").split(";")[0].strip()
        if ctype != "application/json" or not resp.content:
            return
        body = resp.json()
        template = self.template_of(resp.request.method, url.path)
        if template is None or resp.status_code >= 400:
            if resp.status_code >= 400:
                self.validate("", "", resp.status_code, body)
            return
        schema = self.response_schema(template, resp.request.method, resp.status_code)
        if schema is not None:
            self._validate(schema, body)

    def validate_error(self, body):
        self.validate("", "", 500, body)

    def validate_user(self, body):
        """User schema plus the checks the contract cannot express."""
        self._validate({"$ref": "#/components/schemas/User"}, body)
        for k in ("id", "first_name", "second_name", "birthdate"):
            assert k in body, f"user lacks {k!r}: {body!r}"
        assert UUID_RE.match(body["id"]), body["id"]
        check_birthdate_format(body["birthdate"])
        lowered = {k.lower() for k in body}
        assert not lowered & {"password", "password_hash", "hash", "passwordhash"}, body
        assert "$argon2" not in json.dumps(body), "password hash leaked in user body"


def check_birthdate_format(value):
    assert isinstance(value, str) and DATE_RE.match(value), f"bad birthdate {value!r}"
    dt.date.fromisoformat(value)  # raises if not a real date


@pytest.fixture(scope="session")
def contract():
    return Contract()


# --------------------------------------------------------------------------
# server / db
# --------------------------------------------------------------------------
@pytest.fixture(scope="session")
def base_url():
    url = os.environ.get("BACKEND_URL", DEFAULT_URL).rstrip("/")
    try:
        requests.get(url + "/healthz", timeout=5)
    except requests.RequestException as e:
        pytest.fail(f"backend not reachable at {url} ({e}); set BACKEND_URL", pytrace=False)
    return url


@pytest.fixture(scope="session")
def http(contract):
    s = requests.Session()
    s.hooks["response"].append(lambda resp, *args, **kwargs: contract.check_response(resp))
    yield s
    s.close()


@pytest.fixture
def backend_db():
    """A fresh connection per test: fault-injection tests restart PostgreSQL,
    which would leave a session-wide connection closed for every later test."""
    if psycopg2 is None:
        pytest.fail("psycopg2 missing: apt-get install -y python3-psycopg2", pytrace=False)
    dsn = os.environ.get("BACKEND_PG_DSN", DEFAULT_DSN)
    try:
        conn = psycopg2.connect(dsn, connect_timeout=5)
    except psycopg2.Error as e:
        pytest.fail(f"cannot connect to backend db ({dsn}): {e}; set BACKEND_PG_DSN", pytrace=False)
    conn.autocommit = True
    yield conn
    conn.close()


def db_snapshot(conn):
    """Cheap fingerprint of what's written: row count and newest row of users."""
    with conn.cursor() as cur:
        cur.execute("SELECT count(*), max(created_at) FROM users")
        count, newest = cur.fetchone()
    return {"users": count, "users_newest": newest}


@pytest.fixture
def snapshot(backend_db):
    return lambda: db_snapshot(backend_db)


def fetch_user_row(conn, user_id):
    with conn.cursor() as cur:
        cur.execute(
            "SELECT id::text, first_name, second_name, birthdate, biography, city, "
            "password_hash, created_at FROM users WHERE id = %s",
            (str(user_id),),
        )
        row = cur.fetchone()
    if row is None:
        return None
    keys = ["id", "first_name", "second_name", "birthdate", "biography", "city",
            "password_hash", "created_at"]
    return dict(zip(keys, row))


# --------------------------------------------------------------------------
# API helpers
# --------------------------------------------------------------------------
def user_payload(**overrides):
    """A valid registration body with unique names; overrides replace keys,
    an override of None-sentinel `DROP` removes the key."""
    body = {
        "first_name": unique("Fn"),
        "second_name": unique("Sn"),
        "birthdate": "1990-05-17",
        "biography": "Hiking, chess",
        "city": "Moscow",
        "password": "correct horse battery " + RUN_ID,
    }
    for k, v in overrides.items():
        if v is DROP:
            body.pop(k, None)
        else:
            body[k] = v
    return body


class _Drop:
    def __repr__(self):
        return "DROP"


DROP = _Drop()


def auth_headers(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def register(base_url, http):
    """register(**overrides) -> (user_id, password). Asserts 200."""

    def _register(**overrides):
        body = user_payload(**overrides)
        r = http.post(base_url + "/user/register", json=body, timeout=TIMEOUT)
        assert r.status_code == 200, f"register failed {r.status_code}: {r.text[:500]}"
        user_id = r.json()["user_id"]
        assert UUID_RE.match(user_id), user_id
        return user_id, body["password"]

    return _register


@pytest.fixture
def login(base_url, http):
    """login(user_id, password) -> token. Asserts 200."""

    def _login(user_id, password):
        r = http.post(base_url + "/login", json={"id": user_id, "password": password},
                      timeout=TIMEOUT)
        assert r.status_code == 200, f"login failed {r.status_code}: {r.text[:500]}"
        token = r.json()["token"]
        assert isinstance(token, str) and token
        return token

    return _login


@pytest.fixture
def user(register, login):
    """user() -> (user_id, headers)."""

    def _user():
        uid, password = register()
        return uid, auth_headers(login(uid, password))

    return _user


def assert_error(resp, status, contract):
    """Status, JSON content type, error schema, code==status, request_id==header."""
    assert resp.status_code == status, (
        f"expected {status}, got {resp.status_code}: {resp.text[:500]}")
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip().lower() == "application/json", ctype
    body = resp.json()
    contract.validate_error(body)
    assert body["code"] == status, body
    assert isinstance(body["message"], str) and body["message"], body
    rid = resp.headers.get("X-Request-ID")
    assert rid, "no X-Request-ID header"
    assert body["request_id"] == rid, (body["request_id"], rid)
    return body


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: long fault-injection tests (run by default; deselect with -m 'not slow')")
