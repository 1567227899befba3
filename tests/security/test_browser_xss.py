"""A real browser (Playwright, Debian's chromium) over pages full of hostile titles and bodies: no
script runs. Content comes in through the real poll pass (the hostile corpus) and the API; the
browser runs with the page's CSP bypassed, so what is proved is the escaping and sanitising
itself, not the CSP behind it. A script that ran would open a dialog or set ``window.__pwned``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select

from evwire.pipeline import open_services
from evwire.poller import Poller
from evwire.settings import Settings
from evwire.store.feeds import add_feed
from evwire.store.tables import Article
from tests.security.conftest import NOW, HostileServer
from tests.web.conftest import ADMIN
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.web.test_browser import live_app as live_app  # noqa: F401 - the uvicorn-on-port-0 fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed at /usr/bin/chromium"),
]
PWN = "window.__pwned=1"
API_ARTICLES = [
    {
        "title": f"<script>{PWN};alert('t')</script>Tesla <img src=x onerror=\"{PWN}\"> news",
        "text": f'Tesla <script>{PWN}</script> sold cars. <a href="javascript:{PWN}">x</a>'
        f'<svg onload="{PWN}"></svg>',
        "bullets": [f"<img src=x onerror=\"{PWN};alert('b')\">", f"</li><script>{PWN}</script>"],
        "url": f'https://evil.example/a?q="><script>{PWN}</script>',
        "image_url": f'https://evil.example/i.png?"onerror="{PWN}',
        "image_caption": f'"><svg/onload={PWN}>',
        "image_credit": f'<iframe src="javascript:{PWN}"></iframe>',
        "source_name": f"</title><script>{PWN}</script>",
    },
    {
        "title": f"BYD \"'><script>{PWN}</script>{{{{7*7}}}} ${{{PWN}}}",
        "text": f"BYD {{{{ config }}}} <style>@import 'javascript:{PWN}'</style> sold 4.6 million cars.",
    },
]
SEARCHES = ["Tesla", "BYD", f"<script>{PWN}</script>", f'"><img src=x onerror={PWN}>', "window pwned"]
CHANNELS = ["tesla", "byd", "nio", "xpeng"]


@pytest.fixture
def hostile_site(
    tmp_path: Path, hostile_server: HostileServer, request: pytest.FixtureRequest
) -> Iterator[str]:
    """The live app's database, filled first by a real poll pass over the hostile XSS feeds."""
    settings = Settings(
        data_dir=tmp_path / "data",
        admin_token="test-admin-token-123",
        feed_allow_networks="127.0.0.1/32",
        feed_total_timeout=5.0,
        feed_host_min_gap=0.0,
    )
    services = open_services(settings)
    try:
        with services.db.session() as session:
            for name in ("xss-rss.xml", "xss-atom.xml"):
                add_feed(session, hostile_server.url(f"/hostile/{name}"), now=NOW)
            add_feed(session, hostile_server.url("/hostile/xss-fulltext.xml"), now=NOW, full_text=True)
        report = asyncio.run(Poller(services, clock=lambda: NOW).run_pass())
        assert report.new_articles >= 4, report
    finally:
        services.close()
    yield request.getfixturevalue("live_app")


def test_browser_hostile_titles_and_bodies_run_no_script(hostile_site: str, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    base = hostile_site
    for payload in API_ARTICLES:
        r = httpx.post(f"{base}/api/articles", json=payload, headers=ADMIN, timeout=30)
        assert r.status_code == 201, r.text
    settings = Settings(data_dir=tmp_path / "data")
    services = open_services(settings)
    try:
        with services.db.session() as session:
            article_ids = list(session.scalars(select(Article.id).order_by(Article.id)))
    finally:
        services.close()
    assert len(article_ids) >= 6

    paths = ["/", "/channels", *(f"/articles/{i}" for i in article_ids)]
    paths += [f"/channels/{slug}" for slug in CHANNELS]
    paths += [f"/search?q={quote(q)}" for q in SEARCHES]
    paths += [f"/search?q=Tesla&channel={quote(f'<script>{PWN}</script>')}", f"/articles/{quote('<x>')}"]

    dialogs: list[str] = []
    visited: dict[str, int] = {}
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(bypass_csp=True)  # prove the escaping, not the CSP
            page = context.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            for path in paths:
                response = page.goto(f"{base}{path}")
                assert response is not None
                visited[path] = response.status
                page.wait_for_load_state("load")
                page.mouse.move(5, 5)
                page.mouse.move(400, 300)  # hover handlers, if any survived
                assert page.evaluate("typeof window.__pwned") == "undefined", path
                html = page.content()
                assert "<script>window.__pwned" not in html, path
            # the hostile titles are on the pages as text
            page.goto(f"{base}/channels/tesla")
            assert page.locator("text=Tesla <img src=x").count() >= 1
            # admin pages show hostile feed titles and errors: log in through the form, look
            page.goto(f"{base}/admin/login")
            page.fill("input[name=token]", "test-admin-token-123")
            page.locator("form.admin button[type=submit]").click()
            page.wait_for_url("**/admin/feeds**")
            page.wait_for_load_state("load")
            assert page.evaluate("typeof window.__pwned") == "undefined", "/admin/feeds"
        finally:
            browser.close()
    assert dialogs == [], f"a dialog fired: {dialogs}"
    assert all(status in (200, 400, 404, 422) for status in visited.values()), visited
    assert visited["/"] == 200 and visited["/channels/tesla"] == 200
