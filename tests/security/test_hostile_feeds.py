"""Hostile feeds and pages through the real poll pass (``Poller.run_pass``), on SQLite and PostgreSQL.

Each hostile feed ends as an error recorded on its feed row (in words an operator can act on) or
as sanitised content; the good feeds beside them are stored; the web app answers throughout; the
next pass goes on. The corpus and what each file attacks: tests/data/hostile/README.md.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from evwire.pipeline import Services, open_services
from evwire.poller import Poller
from evwire.settings import Settings
from evwire.store.feeds import add_feed
from evwire.store.tables import Article, Feed
from evwire.web.app import create_app
from tests.security.conftest import HUGE, NOW, HostileServer

GOOD = {"rss2": "/feeds/rss2/feed.xml", "atom": "/feeds/atom/feed.xml"}
# feed path -> words its recorded error must contain
REFUSED = {
    "/hostile/billion-laughs.xml": "declares XML entities",
    "/hostile/xxe-file.xml": "declares XML entities",
    "/hostile/xxe-parameter.xml": "declares XML entities",
    "/hostile/bomb.xml.gz": "larger than the 1 MB limit",
    "/hostile/binary-garbage.xml": "not valid XML",
    "/hostile-huge": "larger than the 1 MB limit",
    "/hostile-huge?cl=1": "larger than the 1 MB limit",
    "/hostile-trickle": "total timeout",
    "/hostile-redirect/ten": "10.0.0.1 is a private address",
    "/hostile-redirect/metadata": "169.254.169.254 is a link-local address",
    "/hostile-redirect/v6-loopback": "::1 is a loopback address",
    "/hostile-redirect/mapped": "private address",
    "/hostile-redirect/file": "must start with http:// or https://",
}
# parsed or refused, but never a crash: either way the feed row says what happened
EITHER = [
    "/hostile/xxe-external-dtd.xml",
    "/hostile/invalid-utf8.xml",
    "/hostile/invalid-utf16-declared.xml",
    "/hostile/unknown-encoding.xml",
]
SANITISED = ["/hostile/xss-rss.xml", "/hostile/xss-atom.xml"]
FULL_TEXT = "/hostile/xss-fulltext.xml"
MARKUP = re.compile(r"<\s*/?\s*[a-z!][^>]*>|on[a-z]+\s*=|javascript:", re.I)


@pytest.fixture
def svc(hostile_settings: Settings) -> Services:
    services = open_services(hostile_settings)
    yield services
    services.close()


def _add_all(svc: Services, server: HostileServer) -> dict[str, int]:
    ids = {}
    with svc.db.session() as session:
        for path in [*GOOD.values(), *REFUSED, *EITHER, *SANITISED]:
            ids[path] = add_feed(session, server.url(path), now=NOW)[0].id
        ids[FULL_TEXT] = add_feed(session, server.url(FULL_TEXT), now=NOW, full_text=True)[0].id
    return ids


def _feeds(svc: Services) -> dict[int, Feed]:
    with svc.db.session() as session:
        return {f.id: f for f in session.scalars(select(Feed))}


def _articles(svc: Services) -> list[Article]:
    with svc.db.session() as session:
        return list(session.scalars(select(Article).order_by(Article.id)))


class Prober(threading.Thread):
    """Asks the web app for /healthz and / while the pass runs; records statuses and the slowest answer."""

    def __init__(self, client: TestClient) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.stop = threading.Event()
        self.statuses: list[int] = []
        self.slowest = 0.0

    def run(self) -> None:
        while not self.stop.is_set():
            for path in ("/healthz", "/"):
                started = time.perf_counter()
                self.statuses.append(self.client.get(path).status_code)
                self.slowest = max(self.slowest, time.perf_counter() - started)
            time.sleep(0.05)


def test_hostile_feeds_recorded_or_sanitised_app_answers_others_go_on(
    svc: Services, hostile_server: HostileServer
) -> None:
    ids = _add_all(svc, hostile_server)
    clock = {"now": NOW}
    poller = Poller(svc, clock=lambda: clock["now"])
    sent_before = hostile_server.bytes_sent["/hostile-huge"]

    with TestClient(create_app(svc.settings, services=svc)) as client:
        prober = Prober(client)
        prober.start()
        started = time.perf_counter()
        report = asyncio.run(poller.run_pass())
        elapsed = time.perf_counter() - started
        prober.stop.set()
        prober.join(10)

        # the app kept answering while hostile feeds were fetched and stored
        assert prober.statuses and set(prober.statuses) == {200}, prober.statuses
        assert prober.slowest < 5.0
        # the trickle is cut by the total timeout (4 s), so the whole pass stays short
        assert elapsed < 20, elapsed
        assert report.feeds == len(ids)

        feeds = _feeds(svc)
        for name, path in GOOD.items():
            feed = feeds[ids[path]]
            assert feed.last_error is None and feed.error_count == 0, (name, feed.last_error)
        for path, words in REFUSED.items():
            feed = feeds[ids[path]]
            assert feed.status == "active" and feed.error_count == 1, path
            assert feed.last_error and words in feed.last_error, (path, feed.last_error)
            assert feed.last_error_at == NOW and feed.next_poll_at > NOW, path
            assert report.errors[feed.id] == feed.last_error
        for path in EITHER:
            feed = feeds[ids[path]]
            assert feed.status == "active" and (feed.last_error or feed.last_success_at == NOW), path
        # nothing of /etc/passwd anywhere, and the 50 MB body was cut off long before its end
        assert not any("root:" in (f.last_error or "") for f in feeds.values())
        assert hostile_server.bytes_sent["/hostile-huge"] - sent_before < HUGE / 2

        articles = _articles(svc)
        by_feed: dict[int, list[Article]] = {}
        for a in articles:
            by_feed.setdefault(a.feed_id or 0, []).append(a)
        assert len(by_feed[ids[GOOD["rss2"]]]) == 4 and by_feed[ids[GOOD["atom"]]]
        for path in SANITISED:
            assert by_feed.get(ids[path]), f"{path}: its items should be stored, sanitised"
        full = by_feed[ids[FULL_TEXT]][0]
        assert "800-volt platform" in full.body  # the page's article text, its scripts gone
        assert "root:" not in " ".join(a.body + a.title for a in articles)
        for a in articles:
            # bodies are plain text: no tags, no handlers, no javascript: anywhere
            assert not MARKUP.search(a.body), (a.title, a.body)
            for link in (a.url, a.image_url):
                assert link is None or link.startswith(("http://", "https://")), link
            # titles are plain text too (escaped when shown: tests/security/test_browser_xss.py)
            assert "\n" not in a.title

        # the next pass goes on: due feeds are asked again, good ones answer 304 or new items
        good_hits = hostile_server.hits[GOOD["rss2"]]
        clock["now"] = NOW + timedelta(days=2)
        again = asyncio.run(poller.run_pass())
        assert again.feeds == len(ids)
        assert hostile_server.hits[GOOD["rss2"]] == good_hits + 1
        feeds = _feeds(svc)
        assert feeds[ids[GOOD["rss2"]]].last_error is None
        assert feeds[ids["/hostile-redirect/ten"]].error_count == 2
        assert client.get("/healthz").status_code == 200
        assert client.get("/channels/tesla").status_code == 200
