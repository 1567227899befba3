"""Admin pages: token → login form → signed session cookie; CSRF on every form; the feeds list shows
each feed's last error in words; add (with discovery), pause, resume, remove."""

from __future__ import annotations

import asyncio
import re

from fastapi.testclient import TestClient

from evwire.poller import Poller
from evwire.store.feeds import add_feed
from tests.ingest.feeds.conftest import feed_server  # noqa: F401 - fixture reuse
from tests.ingest.poll.conftest import NOW

TOKEN = "test-admin-token-123"


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def _login(client: TestClient) -> str:
    page = client.get("/admin/login")
    r = client.post("/admin/login", data={"token": TOKEN, "csrf": _csrf(page.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin/feeds"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    return _csrf(client.get("/admin/feeds").text)


def test_admin_requires_login_and_refuses_wrong_token_and_csrf(client: TestClient) -> None:
    r = client.get("/admin/feeds", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin/login"
    page = client.get("/admin/login")
    bad = client.post("/admin/login", data={"token": "wrong-token-xyz", "csrf": _csrf(page.text)})
    assert bad.status_code == 400 and "wrong admin token" in bad.text
    forged = client.post("/admin/login", data={"token": TOKEN, "csrf": "forged"})
    assert forged.status_code == 400 and "expired" in forged.text
    assert client.post("/admin/feeds", data={"url": "https://x.example/", "csrf": "x"}).status_code == 401
    csrf = _login(client)
    assert csrf
    r = client.post("/admin/feeds/1/pause", data={"csrf": "not-the-token"})
    assert r.status_code == 403 and "CSRF" in r.text
    client.cookies.set("evwire_admin", "tampered.value")
    assert client.get("/admin/feeds", follow_redirects=False).status_code == 303


def test_admin_feeds_list_shows_last_error_in_words_and_actions_work(
    client: TestClient,
    feed_server,  # noqa: F811
) -> None:
    svc = client.app.state.services  # type: ignore[attr-defined]
    svc.settings = svc.settings.model_copy(update={"allow_private_feeds": True, "feed_host_min_gap": 0.0})
    with svc.db.session() as session:
        bad = add_feed(session, feed_server.url("/status/404"), now=NOW)[0].id
    asyncio.run(Poller(svc, clock=lambda: NOW).run_pass())
    csrf = _login(client)
    page = client.get("/admin/feeds").text
    assert "the feed was not found (HTTP 404)" in page and "never" in page
    assert "2026-01-08 12:10 UTC" in page  # next poll after the first error: 10 minutes

    r = client.post("/admin/feeds", data={"url": feed_server.url("/feeds/rss2/feed.xml"), "csrf": csrf})
    assert r.status_code == 200 and "added" in r.text and "EV Daily" not in r.text  # polled later
    r = client.post(f"/admin/feeds/{bad}/pause", data={"csrf": csrf})
    assert f"feed {bad}: paused" in r.text and "Resume" in r.text
    r = client.post(f"/admin/feeds/{bad}/resume", data={"csrf": csrf})
    assert f"feed {bad}: resumed" in r.text
    r = client.post(f"/admin/feeds/{bad}/remove", data={"csrf": csrf})
    assert f"feed {bad}: removed" in r.text and "/status/404" not in r.text.split("</form>", 1)[1]
