"""contracts/openapi.json against what the services answer, both ways, and the served client:
every route the services register is in the document, every path of the document is answered
by the backend (the gateway), /openapi.json and /docs are served, static files are cached right."""
import json
import re
import uuid

import requests

from conftest import CONTRACT_PATH, REPO_ROOT, TIMEOUT

# How routes are registered (libs/http Router): Add(Verb::get, "/p", ...), AddWebSocket("/p", ...)
# and the backend's AddLiveRoute(router, "/p", ...). Static files are not API and not listed here.
ROUTE_RE = re.compile(r'\.Add\(\s*(?:beast_http::)?Verb::(\w+),\s*"([^"]+)"|AddWebSocket\(\s*"([^"]+)"|'
                      r'AddLiveRoute\(\s*[\w.]+,\s*"([^"]+)"')
SOURCES = [*sorted((REPO_ROOT / "services").glob("*/src/**/*.cpp")), REPO_ROOT / "libs/http/src/server.cpp"]


def registered_routes():
    routes = set()
    for path in SOURCES:
        if path.name.endswith("_test.cpp"):
            continue
        for m in ROUTE_RE.finditer(path.read_text(encoding="utf-8")):
            verb, pattern = (m.group(1), m.group(2)) if m.group(1) else ("get", m.group(3) or m.group(4))
            routes.add((verb.lower(), pattern))
    return routes


def documented():
    doc = json.loads(CONTRACT_PATH.read_text(encoding="utf-8"))
    return {(method, path) for path, ops in doc["paths"].items() for method in ops
            if method in ("get", "put", "post", "delete", "patch")}, doc


def test_every_registered_route_is_documented():
    routes = registered_routes()
    assert len(routes) >= 20, f"the route pattern found too few routes: {sorted(routes)}"
    assert ("get", "/dialog/live") in routes and ("post", "/dialog/{user_id}/send") in routes
    docs, _ = documented()
    missing = sorted(routes - docs)
    assert not missing, f"routes the services answer that contracts/openapi.json lacks: {missing}"


def test_every_documented_path_is_answered(base_url):
    docs, doc = documented()
    for method, path in sorted(docs):
        url = base_url + re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
        r = requests.request(method, url, timeout=TIMEOUT)
        unknown = r.status_code in (404, 405) and r.headers.get("Content-Type", "").startswith("application/json") \
            and r.json().get("message") in ("no such endpoint", "method not allowed")
        assert not unknown, f"{method.upper()} {path} is documented but not answered: {r.status_code} {r.text[:200]}"
        if "x-websocket-message" in doc["paths"][path][method]:
            assert r.status_code in (400, 401), (path, r.status_code)  # a plain GET is no upgrade


def test_document_and_reference_are_served(base_url):
    r = requests.get(base_url + "/openapi.json", timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == json.loads(CONTRACT_PATH.read_text(encoding="utf-8"))
    docs = requests.get(base_url + "/docs", timeout=TIMEOUT)
    assert docs.status_code == 200 and docs.headers["Content-Type"].startswith("text/html")
    assert "swagger-ui-bundle.js" in docs.text
    bundle = requests.get(base_url + "/docs/swagger-ui-bundle.js", timeout=TIMEOUT)
    assert bundle.status_code == 200 and bundle.headers["Content-Type"].startswith("text/javascript")


def test_client_files_are_cached_right_and_nothing_else_is_served(base_url):
    index = requests.get(base_url + "/", timeout=TIMEOUT)
    assert index.status_code == 200
    assert index.headers["Content-Type"] == "text/html; charset=utf-8"
    assert index.headers["Cache-Control"] == "no-cache"
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', index.text)
    assert assets, index.text
    for asset in assets:
        r = requests.get(base_url + asset, timeout=TIMEOUT)
        assert r.status_code == 200, asset
        assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert r.headers["Content-Type"].startswith("text/javascript" if asset.endswith(".js") else "text/css")
    for path in ("/assets/nope.js", "/../etc/passwd", "/assets/..%2f..%2fetc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
                 "/index.html/x", "/.gitignore"):
        r = requests.get(base_url + path, timeout=TIMEOUT)
        assert r.status_code == 404, (path, r.status_code)
