"""Poll-pass fixtures: real services on SQLite and PostgreSQL, the misbehaving feed server of
tests/ingest/feeds, and a small site whose documents a test can change between polls."""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from evwire.pipeline import Services, open_services
from evwire.poller import Poller
from evwire.settings import Settings
from tests.ingest.feeds.conftest import FeedServer, feed_server  # noqa: F401 - fixture reuse

NOW = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)

# Articles the poll tests serve in their feeds: news about Xiaomi, Ford, BYD and NIO, each with a
# figure, a ticker or a person, as real items have.
XIAOMI = (
    "Xiaomi (HKG: 1810) delivered more than 40,000 SU7 sedans in December 2025, its best month since the "
    "electric car went on sale, chief executive Lei Jun said on Thursday. The company repeated its target "
    "of 550,000 deliveries for 2026 and said a second factory phase in Beijing is ready to start production."
)
BYD = (
    "BYD (SZSE: 002594) cut prices of its Seal and Dolphin models in Europe by up to ten percent on Monday, "
    "as the Chinese maker tries to keep sales growing after new tariffs. BYD sold 4,272,145 vehicles in "
    "2024, the company said, and it expects to sell more than 5 million in 2025."
)
NIO = (
    "NIO delivered 31,138 vehicles in December 2025, up 72 percent from a year earlier, the Shanghai-based "
    "maker said. William Li said the ONVO L60 SUV will start deliveries in more markets this spring."
)
FORD = (
    "Ford said its Model e unit lost 5.1 billion dollars in 2024 and that it expects a loss of up to 5.5 "
    "billion dollars in 2025, as Jim Farley told analysts the electric vehicle business is a long game."
)


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


class Site(ThreadingHTTPServer):
    """Serves ``docs[path] = (content_type, body)`` with an ETag (304 on a match); counts hits."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SiteHandler)
        self.docs: dict[str, tuple[str, bytes]] = {}
        self.hits: Counter[str] = Counter()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class SiteHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Site

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:
        self.server.hits[self.path] += 1
        doc = self.server.docs.get(self.path)
        if doc is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        ctype, body = doc
        etag = '"' + hashlib.sha1(body).hexdigest()[:12] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def site() -> Iterator[Site]:
    server = Site()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def poll_settings(settings: Settings) -> Settings:
    """The ``settings`` fixture's database (SQLite and PostgreSQL), allowed to fetch from 127.0.0.1."""
    return settings.model_copy(
        update={
            "allow_private_feeds": True,
            "feed_connect_timeout": 1.0,
            "feed_read_timeout": 0.5,
            "feed_total_timeout": 5.0,
            "feed_max_bytes": 200_000,
            "feed_host_min_gap": 0.0,
        }
    )


@pytest.fixture
def svc(poll_settings: Settings) -> Iterator[Services]:
    services = open_services(poll_settings)
    yield services
    services.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def poller(svc: Services, clock: Clock) -> Poller:
    return Poller(svc, clock=clock)


def rss(title: str, items: list[dict[str, str]]) -> bytes:
    """A small RSS 2.0 document; each item: guid, title, text, and optionally link, date."""
    parts = []
    for it in items:
        link = it.get("link", f"https://news.example/{it['guid']}")
        date = it.get("date", "Wed, 07 Jan 2026 10:00:00 GMT")
        parts.append(
            f"<item><title>{it['title']}</title><link>{link}</link><guid>{it['guid']}</guid>"
            f"<pubDate>{date}</pubDate><description>{it['text']}</description></item>"
        )
    return (
        f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>{title}</title>"
        f"<link>https://news.example/</link>{''.join(parts)}</channel></rss>"
    ).encode()
