"""A real browser (Playwright driving Debian's chromium) against a real uvicorn on 127.0.0.1 port 0.

home → the sample article → Xiaomi and Ford as about-channels → the Xiaomi channel → its RSS feed;
and a page with a hostile title fires no dialog.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from evwire.settings import Settings
from evwire.web.app import create_app
from tests.web.conftest import ADMIN, HOSTILE, sample_payload

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed at /usr/bin/chromium"),
]


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[str]:
    """uvicorn serving the app on a temp SQLite database, on a free port; yields the base URL."""
    settings = Settings(data_dir=tmp_path / "data", admin_token="test-admin-token-123")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not answer /healthz within 20 s")
        time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_browser_home_article_channel_feed(live_app: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    posted = httpx.post(f"{live_app}/api/articles", json=sample_payload(), headers=ADMIN, timeout=30)
    assert posted.status_code == 201, posted.text
    hostile = httpx.post(
        f"{live_app}/api/articles",
        json={
            "title": HOSTILE,
            "text": "Xiaomi <script>alert(3)</script> text.",
            "bullets": ["<img src=x onerror=alert(4)>"],
        },
        headers=ADMIN,
        timeout=30,
    ).json()["article"]["id"]
    dialogs: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(f"{live_app}/")
            page.get_by_role("link", name="Ford, Xiaomi has explored joint venture").click()
            page.wait_for_url("**/articles/*")
            about = page.locator("aside.filed section").filter(has=page.get_by_role("heading", name="About"))
            assert sorted(about.locator("a.chip.about").all_inner_texts()) == ["Ford", "Xiaomi"]
            assert page.get_by_role("link", name="HKG:1810").get_attribute("href") == "/channels/xiaomi"
            about.get_by_role("link", name="Xiaomi").click()
            page.wait_for_url("**/channels/xiaomi")
            assert page.locator("h1").inner_text() == "Xiaomi"
            assert (
                page.locator("section.latest").get_by_role("link", name="Ford, Xiaomi has explored").count()
                == 1
            )
            rss_href = page.get_by_role("link", name="RSS", exact=True).get_attribute("href")
            feed = page.request.get(f"{live_app}{rss_href}")
            assert feed.status == 200 and "xml" in feed.headers["content-type"]
            assert feed.text().startswith("<?xml") and "Ford, Xiaomi has explored" in feed.text()

            for path in (f"/articles/{hostile}", "/", "/search?q=Xiaomi"):
                page.goto(f"{live_app}{path}")
                page.wait_for_load_state("load")
            assert page.locator("text=<script>alert(1)</script>").count() >= 1  # shown as text
            page.goto(f"{live_app}/channels")
            page.fill("#channel-filter", "xiao")
            assert page.locator("#channel-list li:visible").count() == 1
        finally:
            browser.close()
    assert dialogs == [], f"a dialog fired: {dialogs}"
