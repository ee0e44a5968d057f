"""Authentication on every route, the browser session's CSRF protection, the base path
behind a proxy, and the query rate limit."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.testclient import TestClient
from tests.server.conftest import Served

from afluente.server.problems import RateLimited, error_problem
from afluente.server.rate_limit import RateLimit

OPEN = {"/health", "/openapi.json", "/docs", "/docs/oauth2-redirect"}
SAMPLE = {"table": "gold.fct_orders", "run_id": "x", "job_id": "x",
          "target": "gold.fct_orders.order_id", "name": "revenue", "panel": "revenue_by_state"}


def routes(served: Served) -> list[tuple[str, str]]:
    """Every operation of the app (the published schema lists them all: no route of the
    API is left out of it)."""
    spec = httpx.get(f"{served.url}/openapi.json").json()
    found = [(method.upper(), path) for path, item in spec["paths"].items()
             for method in item]
    return [(m, re.sub(r"\{(\w+)\}", lambda g: SAMPLE[g.group(1)], p)) for m, p in found
            if p not in OPEN]


def test_every_route_refuses_no_token_and_a_wrong_token_alike(served: Served) -> None:
    table = routes(served)
    assert len(table) >= 25
    wrong = "afl_0123456789ab_" + "0" * 64
    known_id = served.tokens["analyst"].split("_")[1]
    answers = []
    with httpx.Client(base_url=served.url, timeout=60) as client:
        for method, path in table:
            body = {"token": ""} if path == "/api/session" else {}
            for headers in ({}, {"Authorization": f"Bearer {wrong}"},
                            {"Authorization": f"Bearer afl_{known_id}_{'1' * 64}"},
                            {"Authorization": "Basic dXNlcjpwYXNz"}):
                if path == "/api/session" and headers:
                    body = {"token": headers["Authorization"].split(" ", 1)[1]}
                answer = client.request(method, path, headers=headers, json=body)
                answers.append((method, path, answer.status_code, answer.text,
                                answer.headers.get("content-type"),
                                answer.headers.get("www-authenticate")))
    assert {a[2] for a in answers} == {401}, [a[:3] for a in answers if a[2] != 401]
    assert len({a[3] for a in answers}) == 1  # one body: never says whether a token exists
    assert {a[4] for a in answers} == {"application/problem+json"}
    assert {a[5] for a in answers} == {'Bearer realm="afluente"'}
    assert "afluente token create" in answers[0][3]


def test_a_session_cookie_needs_the_csrf_token_on_unsafe_methods(served: Served) -> None:
    sql = {"sql": "select 1 as one"}
    with httpx.Client(base_url=served.url, timeout=60) as browser:
        opened = browser.post("/api/session", json={"token": served.tokens["analyst"]})
        assert opened.status_code == 200
        csrf = opened.json()["csrf"]
        assert browser.cookies["afluente_csrf"] == csrf
        cookie = opened.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert browser.get("/api/whoami").json()["principal"] == "service:bi"
        missing = browser.post("/api/query", json=sql)
        forged = browser.post("/api/query", json=sql, headers={"X-CSRF-Token": "guess"})
        foreign = browser.post("/api/query", json=sql, headers={
            "X-CSRF-Token": csrf, "Origin": "https://evil.example"})
        allowed = browser.post("/api/query", json=sql, headers={"X-CSRF-Token": csrf,
                                                                "Origin": served.url})
        closed = browser.request("DELETE", "/api/session", headers={"X-CSRF-Token": csrf})
        after = browser.get("/api/whoami")
    assert [missing.status_code, forged.status_code, foreign.status_code] == [403, 403, 403]
    assert "needs the X-CSRF-Token header" in missing.json()["detail"]
    assert "origin https://evil.example" in foreign.json()["detail"]
    assert allowed.json()["rows"] == [{"one": 1}]
    assert closed.status_code == 200 and after.status_code == 401


def test_base_path_behind_a_proxy(served: Served) -> None:
    from afluente.server.app import create_app
    from afluente.server.context import ServerContext

    app = create_app(ServerContext.open(served.root), "/afluente")
    with TestClient(app) as client:  # a proxy passing the prefix on, or stripping it
        spec = client.get("/openapi.json").json()
        prefixed = client.get("/afluente/health")
        stripped = client.get("/health")
        listed = client.get("/afluente/api/projects",
                            headers={"Authorization": f"Bearer {served.tokens['admin']}"})
    assert spec["servers"] == [{"url": "/afluente"}]
    assert prefixed.json() == stripped.json() == {"status": "ok"}
    assert listed.json()[0]["name"] == "demo_shop"


def test_query_rate_limit_per_caller() -> None:
    limit = RateLimit(per_minute=3)
    for _ in range(3):
        limit.take("service:bi", now=100.0)
    with pytest.raises(RateLimited) as refused:
        limit.take("service:bi", now=100.0)
    limit.take("service:other", now=100.0)  # each caller has their own allowance
    limit.take("service:bi", now=120.0)  # 20 s later: one more
    assert refused.value.retry_after == 20
    answer = error_problem(refused.value)
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "20"
    assert b"more than 3 queries a minute" in answer.body


#: The UI's ways in and out: the login page, and signing out (which ends only the caller's
#: own session and needs that session's CSRF token).
UI_OPEN = {"/ui/login", "/ui/logout"}


def test_every_page_sends_a_stranger_to_the_login_page(served: Served) -> None:
    """The UI's routes are not in the published schema: they are enumerated from its routers.
    Without a credential a page redirects to the login page and shows nothing; a wrong
    bearer token gets the API's one 401."""
    from urllib.parse import quote

    from fastapi.routing import APIRoute

    from afluente.server.ui import routers

    pages = sorted((method, route.path) for router in routers() for route in router.routes
                   if isinstance(route, APIRoute) and route.path.startswith("/ui")
                   and route.path not in UI_OPEN for method in route.methods if method != "HEAD")
    assert len(pages) >= 8 and all(method == "GET" for method, _ in pages)
    wrong = {"Authorization": "Bearer afl_0123456789ab_" + "0" * 64}
    with httpx.Client(base_url=served.url, timeout=60) as client:
        for _, template in pages:
            path = re.sub(r"\{(\w+)\}", lambda g: SAMPLE[g.group(1)], template)
            bare = client.get(path)
            refused = client.get(path, headers=wrong)
            assert bare.status_code == 303, (path, bare.status_code)
            assert bare.headers["location"] == f"/ui/login?next={quote(path)}"
            assert bare.text == ""
            assert refused.status_code == 401 and refused.json()["detail"] == \
                "a valid token is required", path
        front = client.get("/")
        login = client.get("/ui/login")
        static = client.get("/ui/static/ui.js")
    assert front.status_code == 307 and front.headers["location"] == "/ui/"
    assert login.status_code == 200 and 'name="token"' in login.text
    assert static.status_code == 200  # the pages' own script and styles are public


def test_the_login_page_opens_a_session_and_refuses_a_wrong_token(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=60) as browser:
        wrong = browser.post("/ui/login", data={"token": "afl_nope", "next": "/ui/runs"})
        foreign = browser.post("/ui/login", data={"token": served.tokens["analyst"]},
                               headers={"Origin": "https://evil.example"})
        elsewhere = browser.post("/ui/login", data={"token": served.tokens["analyst"],
                                                    "next": "https://evil.example/"})
        assert elsewhere.status_code == 303 and elsewhere.headers["location"] == "/ui/"
        signed = browser.post("/ui/login", data={"token": served.tokens["analyst"],
                                                 "next": "/ui/runs"})
        runs = browser.get("/ui/runs")
        forged = browser.post("/ui/logout", data={"csrf": "guess"})
        out = browser.post("/ui/logout", data={"csrf": browser.cookies["afluente_csrf"]})
        after = browser.get("/ui/runs")
    assert wrong.status_code == 401 and "a valid token is required" in wrong.text
    assert foreign.status_code == 403
    assert "a sign-in from origin https://evil.example is refused" in foreign.text
    assert signed.status_code == 303 and signed.headers["location"] == "/ui/runs"
    assert runs.status_code == 200 and "service:bi" in runs.text
    assert forged.status_code == 403 and out.status_code == 303
    assert after.status_code == 303 and after.headers["location"].startswith("/ui/login")


def test_pages_behind_a_proxy_link_under_its_base_path(served: Served) -> None:
    from afluente.server.app import create_app
    from afluente.server.context import ServerContext

    app = create_app(ServerContext.open(served.root), "/afluente")
    admin = {"Authorization": f"Bearer {served.tokens['admin']}"}
    with TestClient(app) as client:
        front = client.get("/afluente/", follow_redirects=False)
        stranger = client.get("/afluente/ui/runs", follow_redirects=False)
        graph = client.get("/afluente/ui/", headers=admin)
        stripped = client.get("/ui/tables/gold.fct_orders", headers=admin)
        static = client.get("/afluente/ui/static/ui.css")
    assert front.headers["location"] == "/afluente/ui/"
    assert stranger.headers["location"] == "/afluente/ui/login?next=/afluente/ui/runs"
    assert 'href="/afluente/ui/tables/gold.fct_orders"' in graph.text
    assert 'src="/afluente/ui/static/ui.js"' in graph.text
    assert 'href="/afluente/ui/tables/silver.orders"' in stripped.text
    assert static.status_code == 200
