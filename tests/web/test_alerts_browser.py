"""The whole alert path in a real browser (Playwright driving Debian's chromium) against uvicorn on
127.0.0.1 port 0, with mail going over SMTP to an aiosmtpd server on 127.0.0.1:

Xiaomi channel → subscribe → confirmation mail at the SMTP server → its link → the sample article
posted through the API → the sender delivers → the alert at the SMTP server (subject, headline,
List-Unsubscribe) → its unsubscribe link → the button → unsubscribed.
"""

from __future__ import annotations

import asyncio
import email
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from email import policy
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from evwire.pipeline import open_services
from evwire.settings import Settings
from evwire.store.subscriptions import get_subscriber_by_email
from evwire.web.app import create_app
from tests.alerts.conftest import SmtpServer, smtp_server  # noqa: F401 - fixture reuse
from tests.web.conftest import ADMIN, sample_payload
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed at /usr/bin/chromium"),
]
ADDRESS = "reader@example.org"


@pytest.fixture
def alert_app(tmp_path: Path, smtp_server: SmtpServer) -> Iterator[Settings]:  # noqa: F811
    """uvicorn on a free port, sending mail to ``smtp_server``; yields its Settings (base_url set)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings = Settings(
        data_dir=tmp_path / "data",
        admin_token=SecretStr("test-admin-token-123"),
        base_url=f"http://127.0.0.1:{port}",
        smtp_url=SecretStr(smtp_server.url),
        mail_from="evwire <alerts@example.org>",
    )
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: _healthy(settings.base_url), "uvicorn did not answer /healthz")
    try:
        yield settings
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(check: Callable[[], object], what: str, timeout: float = 15.0) -> object:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout} s")
        time.sleep(0.05)
    return result


def mail_to(server: SmtpServer, address: str, count: int) -> EmailMessage:
    """The ``count``-th mail the SMTP server accepted for ``address`` (waits for it)."""

    def arrived() -> list[EmailMessage]:
        got = [m for m in server.messages if address in m.recipients]
        return [email.message_from_bytes(m.data, policy=policy.default) for m in got]

    mails = wait_for(lambda: len(arrived()) >= count and arrived(), f"mail {count} to {address}")
    return mails[count - 1]  # type: ignore[index]


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return part.get_content()


def send_due(settings: Settings) -> None:
    """What ``evwire send --once`` does: deliver every due alert, then stop."""
    from evwire.alerts.sender import Sender

    async def once() -> None:
        sender = Sender(services)
        try:
            await sender.run_once()
        finally:
            await sender.close()

    services = open_services(settings)
    try:  # in a thread of its own: Playwright's sync API keeps an event loop running in this one
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, once()).result(timeout=30)
    finally:
        services.close()


def test_alerts_browser_subscribe_confirm_alert_unsubscribe(
    alert_app: Settings,
    smtp_server: SmtpServer,  # noqa: F811
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    base = alert_app.base_url
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(15_000)

        page.goto(f"{base}/channels/xiaomi")
        box = page.locator("section.subscribe-box")
        assert "Xiaomi News Alert" in box.inner_text()
        assert "new articles about Xiaomi are published" in box.inner_text()
        box.locator("input[type=email]").fill(ADDRESS)
        box.locator("button[type=submit]").click()
        page.wait_for_selector("text=Check your inbox")

        confirmation = mail_to(smtp_server, ADDRESS, 1)
        assert "Confirm" in str(confirmation["Subject"])
        link = re.search(r"http://\S+/alerts/confirm/\S+", text_of(confirmation))
        assert link, text_of(confirmation)
        page.goto(link.group(0))
        page.wait_for_selector("text=Your alerts are on")

        posted = httpx.post(f"{base}/api/articles", json=sample_payload(), headers=ADMIN, timeout=30)
        assert posted.status_code == 201, posted.text
        title = posted.json()["article"]["title"]
        send_due(alert_app)

        alert = mail_to(smtp_server, ADDRESS, 2)
        assert str(alert["Subject"]).strip() == title and title in text_of(alert)  # folded after "Subject:"
        assert "Xiaomi" in text_of(alert)
        assert alert["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        unsubscribe = re.search(r"<(https?://[^>]+)>", str(alert["List-Unsubscribe"]))
        assert unsubscribe and unsubscribe.group(1).startswith(base), alert["List-Unsubscribe"]

        page.goto(unsubscribe.group(1))
        page.wait_for_selector("text=Stop all alerts")
        assert _status(alert_app) == "confirmed"  # opening the link changed nothing
        page.get_by_role("button", name="Unsubscribe from all alerts").click()
        page.wait_for_selector("text=is unsubscribed")
        browser.close()
    assert _status(alert_app) == "unsubscribed"


def _status(settings: Settings) -> str | None:
    services = open_services(settings)
    try:
        with services.db.session() as session:
            sub = get_subscriber_by_email(session, ADDRESS)
            return sub.status if sub else None
    finally:
        services.close()
