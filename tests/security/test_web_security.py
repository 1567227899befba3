"""Web security: admin routes closed without the token (enumerated from the app), CSRF on every
form, signed cookies and form tokens that expire and can't be forged, and rate limits (429)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import itsdangerous.timed
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer

from evwire.settings import Settings
from evwire.web.app import create_app
from evwire.web.ratelimit import RateLimiter, Rule, rule_for
from tests.web.conftest import ADMIN

TOKEN = "test-admin-token-123"
SAMPLE_PARAMS = {"article_id": "1", "feed_id": "1", "slug": "tesla", "action": "pause", "token": "x",
                 "name": "x.eml", "ext": "png"}  # fmt: skip
# POST routes outside /api that are not browser forms with a CSRF token, and why
NOT_FORMS = {
    "/websub/{feed_id}": "a hub's content push: verified by its HMAC signature, never by a browser",
}
# write routes under /api that need no admin token, and why
PUBLIC_API_WRITES = {
    ("POST", "/api/subscriptions"): "readers subscribe without an account (double opt-in by mail)",
}


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(data_dir=tmp_path / "data", admin_token=TOKEN, **kw)  # type: ignore[arg-type]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(tmp_path, rate_limit_enabled=False))) as c:
        yield c


def _walk(routes: list, prefix: str = "") -> Iterator[tuple[str, str]]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield from ((m, prefix + route.path) for m in sorted(route.methods) if m != "HEAD")
        elif hasattr(route, "original_router"):  # FastAPI >= 0.16x keeps included routers whole
            yield from _walk(route.original_router.routes, prefix + route.include_context.prefix)


def _routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, path) of every route of the app, included routers and their prefixes resolved."""
    return sorted(set(_walk(client.app.routes)))  # type: ignore[attr-defined]


def _fill(path: str) -> str:
    return re.sub(r"\{(\w+)(:[^}]*)?\}", lambda m: SAMPLE_PARAMS.get(m.group(1), "1"), path)


def _login(client: TestClient) -> str:
    page = client.get("/admin/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = client.post("/admin/login", data={"token": TOKEN, "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and "evwire_admin" in r.cookies
    feeds = client.get("/admin/feeds")
    return re.search(r'name="csrf" value="([^"]+)"', feeds.text).group(1)  # type: ignore[union-attr]


# ------------------------------------------------------------------ admin routes closed


def test_web_every_admin_and_api_write_route_needs_the_token(client: TestClient) -> None:
    routes = _routes(client)
    admin = [(m, p) for m, p in routes if p.startswith("/admin") and not p.startswith("/admin/login")]
    writes = [(m, p) for m, p in routes if p.startswith("/api") and m != "GET"]
    assert len(admin) >= 4 and len(writes) >= 3, (admin, writes)
    for method, path in admin:
        data = {"url": "https://x.example/feed", "csrf": "x"} if method == "POST" else None
        r = client.request(method, _fill(path), data=data, follow_redirects=False)
        assert r.status_code in (303, 401, 403), (method, path, r.status_code)
        if r.status_code == 303:
            assert r.headers["location"].startswith("/admin/login"), (method, path)
    for method, path in writes:
        if (method, path) in PUBLIC_API_WRITES:
            continue
        url = _fill(path)
        r = client.request(method, url, json={})
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", (method, path, r.text)
        r = client.request(method, url, json={}, headers={"Authorization": "Bearer wrong-token-456"})
        assert r.status_code == 403, (method, path, r.status_code)
        r = client.request(method, url, json={}, headers={"Authorization": f"Basic {TOKEN}"})
        assert r.status_code in (401, 403), (method, path, r.status_code)


def test_web_admin_api_closed_when_no_token_is_configured(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path / "d"))) as c:
        r = c.post("/api/articles", json={"title": "x", "text": "y"}, headers=ADMIN)
        assert r.status_code == 403 and "closed" in r.json()["detail"]
        page = c.get("/admin/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        r = c.post("/admin/login", data={"token": TOKEN, "csrf": csrf}, follow_redirects=False)
        assert "evwire_admin" not in r.cookies


# ------------------------------------------------------------------ CSRF on every form


def test_web_every_post_form_carries_a_csrf_token(client: TestClient) -> None:
    """Every POST form on the pages that have one has a non-empty hidden csrf field."""
    _login(client)
    client.post("/api/articles", json={"title": "Tesla news", "text": "Tesla sold cars."}, headers=ADMIN)
    client.post(
        "/admin/feeds",
        data={"url": "https://feeds.example/rss", "csrf": _login(client)},
        follow_redirects=False,
    )
    seen = 0
    for page in ("/admin/login", "/admin/feeds", "/channels/tesla", "/", "/articles/1", "/search?q=tesla"):
        html = client.get(page).text
        for form in re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S | re.I):
            if not re.search(r'method="?post', form, flags=re.I):
                continue
            seen += 1
            assert re.search(r'name="csrf" value="[^"]{16,}"', form), (page, form[:300])
    assert seen >= 3


def test_web_every_form_route_refuses_a_post_without_its_csrf_token(client: TestClient) -> None:
    """Enumerated from the app: each POST route outside /api refuses a post with no or a wrong token,
    also for a logged-in admin, and changes nothing."""
    csrf = _login(client)
    forms = [p for m, p in _routes(client) if m == "POST" and not p.startswith("/api") and p not in NOT_FORMS]
    assert {"/admin/login", "/admin/logout", "/admin/feeds", "/admin/feeds/{feed_id}/{action}"} <= set(forms)
    fields = {"url": "https://csrf.example/feed", "token": TOKEN, "email": "reader@example.com"}
    for path in forms:
        url = _fill(path)
        for bad in ({}, {"csrf": "forged"}, {"csrf": csrf[:-2] + "xx"}):
            r = client.post(url, data={**fields, **bad}, follow_redirects=False)
            assert r.status_code in (400, 401, 403, 404, 422) or (
                path == "/admin/login" and r.status_code == 400 and "expired" in r.text
            ), (path, bad, r.status_code, r.text[:200])
    feeds = client.get("/admin/feeds").text
    assert "csrf.example" not in feeds  # nothing was added by the refused posts
    # a cross-site page can't log in either: the login form's token is bound to its own cookie
    other = TestClient(client.app)
    r = other.post("/admin/login", data={"token": TOKEN, "csrf": csrf}, follow_redirects=False)
    assert "evwire_admin" not in r.cookies and "expired" in r.text


# ------------------------------------------------------------------ signed cookies and links


def test_web_admin_cookie_is_signed_flagged_and_expires(client: TestClient, monkeypatch) -> None:
    page = client.get("/admin/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = client.post("/admin/login", data={"token": TOKEN, "csrf": csrf}, follow_redirects=False)
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    value = r.cookies["evwire_admin"]
    settings = client.app.state.settings  # type: ignore[attr-defined]

    def as_admin(cookie_value: str) -> int:
        fresh = TestClient(client.app, cookies={"evwire_admin": cookie_value})
        return fresh.get("/admin/feeds", follow_redirects=False).status_code

    assert as_admin(value) == 200
    payload, _, sig = value.rpartition(".")
    assert as_admin(f"{payload}.{sig[::-1]}") == 303  # tampered signature
    forged = URLSafeTimedSerializer("another-key", salt="evwire-admin-session").dumps(
        {"admin": True, "csrf": "x"}
    )
    assert as_admin(forged) == 303  # signed with another key
    other_purpose = URLSafeTimedSerializer(settings.signing_key, salt="evwire-admin-login").dumps(
        {"admin": True, "csrf": "x"}
    )
    assert as_admin(other_purpose) == 303  # a token of another purpose
    # 13 hours old: past the 12-hour session
    real_time = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() - 13 * 3600)
    old = URLSafeTimedSerializer(settings.signing_key, salt="evwire-admin-session").dumps(
        {"admin": True, "csrf": "x"}
    )
    monkeypatch.undo()
    assert as_admin(old) == 303


def test_web_garbage_signed_links_are_refused_not_crashed(client: TestClient) -> None:
    for path in ("/alerts/confirm/", "/alerts/manage/", "/alerts/unsubscribe/"):
        for token in ("x", "eyJmYWtlIjoxfQ.forged.sig", "A" * 900):
            r = client.get(path + token)
            if r.status_code == 404 and "Not Found" in r.text and path == "/alerts/confirm/":
                continue  # route not there in this build
            assert r.status_code in (400, 403, 404, 410), (path, token[:20], r.status_code)


# ------------------------------------------------------------------ rate limits


def test_web_rate_limits_answer_429_with_retry_after(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        rate_limit_write_burst=3,
        rate_limit_write_per_minute=6,
        rate_limit_search_burst=2,
        rate_limit_search_per_minute=6,
    )
    with TestClient(create_app(settings)) as c:
        codes = [
            c.post(
                "/api/articles", json={"title": f"Nio {i}", "text": f"NIO news {i}."}, headers=ADMIN
            ).status_code
            for i in range(5)
        ]
        assert codes[:3] == [201, 201, 201] and codes[3:] == [429, 429]
        r = c.post("/api/articles", json={}, headers=ADMIN)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert "too many API writes" in r.json()["detail"]
        assert [c.get("/search?q=nio").status_code for _ in range(3)] == [200, 200, 429]
        page = c.get("/search?q=nio")
        assert page.status_code == 429 and "text/html" in page.headers["content-type"]
        assert c.get("/api/search?q=nio").status_code == 429  # the same search bucket
        # reading is never limited, and the app answers
        assert all(c.get(p).status_code == 200 for p in ("/", "/search", "/channels", "/healthz") * 5)
        metrics = c.get("/metrics").text
        assert 'status="429"' in metrics


def test_web_rate_limiter_buckets_per_client_refill_and_forget() -> None:
    now = [0.0]
    limiter = RateLimiter({"write": Rule("write", 60, 2)}, clock=lambda: now[0], max_clients=3)
    assert [limiter.take("write", "a") for _ in range(3)] == [0.0, 0.0, 1.0]
    assert limiter.take("write", "b") == 0.0  # another address has its own bucket
    now[0] = 1.0
    assert limiter.take("write", "a") == 0.0  # one token back per second
    for ip in ("c", "d", "e"):
        limiter.take("write", ip)
    assert len(limiter._buckets) == 3  # bounded: the longest idle dropped
    off = RateLimiter({"write": Rule("write", 60, 1)}, enabled=False)
    assert all(off.take("write", "a") == 0.0 for _ in range(10))
    assert rule_for("POST", "/api/articles", b"") == "write"
    assert rule_for("GET", "/search", b"q=x") == "search" and rule_for("GET", "/search", b"") is None
    assert rule_for("GET", "/api/articles", b"") is None and rule_for("POST", "/admin/feeds", b"") is None
