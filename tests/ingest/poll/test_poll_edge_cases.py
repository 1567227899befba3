"""Odd but legal things feeds and servers do, polled for real (SQLite and PostgreSQL): each test
failed before its fix."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import select

from evwire.pipeline import Services
from evwire.poller import Poller
from evwire.store.feeds import add_feed, get_feed
from evwire.store.tables import Article, Feed
from tests.ingest.poll.conftest import NOW, Site, rss


def _add(svc: Services, url: str) -> int:
    with svc.db.session() as session:
        return add_feed(session, url, now=NOW)[0].id


def _feed(svc: Services, feed_id: int) -> Feed:
    with svc.db.session() as session:
        return get_feed(session, feed_id)


def test_poll_retry_after_beyond_timedelta_range_backs_off_a_day_and_the_pass_goes_on(
    svc: Services, poller: Poller, feed_server
) -> None:
    # Retry-After is 1*DIGIT: a huge delta used to overflow timedelta in the scheduler, crash the
    # writer and so the whole pass, leaving every feed of the batch claimed and unrecorded
    huge = _add(svc, feed_server.url("/status/503?retry=99999999999999999999"))
    good = _add(svc, feed_server.url("/feeds/rss2/feed.xml"))
    report = asyncio.run(poller.run_pass())
    assert report.feeds == 2 and report.failed == 1
    feed = _feed(svc, huge)
    assert feed.next_poll_at == NOW + timedelta(hours=24) and feed.error_count == 1
    assert feed.last_error and "HTTP 503" in feed.last_error
    assert _feed(svc, good).last_success_at == NOW


def test_poll_permanent_redirect_answered_304_still_moves_the_feed(
    svc: Services, poller: Poller, feed_server
) -> None:
    # a feed with validators moved (301) and its new address answers the conditional GET with 304:
    # the move must be stored all the same, or the old address is asked (and redirected) forever
    target = feed_server.url("/feeds/rss2/feed.xml")
    with urllib.request.urlopen(target) as response:  # noqa: S310 - our local server
        etag = response.headers["ETag"]
    fid = _add(svc, feed_server.url("/moved"))
    with svc.db.session() as session:
        row = get_feed(session, fid)
        row.etag, row.backfilled = etag, True
    report = asyncio.run(poller.run_pass())
    assert report.not_modified == 1 and report.failed == 0
    feed = _feed(svc, fid)
    assert feed.url == target and feed.last_error is None and feed.etag == etag


def test_poll_permanent_redirect_to_an_over_long_address_keeps_the_old_one(
    svc: Services, poller: Poller, feed_server
) -> None:
    # feeds.url holds 2000 characters: moving there failed storing the poll (PostgreSQL), every time
    fid = _add(svc, feed_server.url("/moved-far"))
    report = asyncio.run(poller.run_pass())
    assert report.failed == 0 and report.new_articles > 0
    feed = _feed(svc, fid)
    assert feed.url == feed_server.url("/moved-far")
    assert feed.last_error and "keeps asking the old one" in feed.last_error


def test_poll_long_feed_title_guid_and_links_do_not_lose_the_feed(
    svc: Services, poller: Poller, site: Site
) -> None:
    # columns have lengths (PostgreSQL enforces them): a 300-character channel title (the articles'
    # source name is 200), a 3000-character guid or link used to fail the whole poll, every time
    long_path = "/" + "x" * 2500
    items = [
        {"guid": "g" * 3000, "title": "Xiaomi delivers 40,000 cars", "text": "Xiaomi delivered cars."},
        {"guid": "ok-1", "title": "Ford loses money", "text": "Ford lost money.",
         "link": "https://news.example" + long_path},
        {"guid": "ok-2", "title": "NIO delivers", "text": "NIO delivered cars."},
    ]  # fmt: skip
    site.docs["/long.xml"] = ("application/rss+xml", rss("T" * 300, items))
    fid = _add(svc, site.url("/long.xml"))
    report = asyncio.run(poller.run_pass())
    assert report.failed == 0, report.errors
    feed = _feed(svc, fid)
    assert feed.last_error is None and feed.title and len(feed.title) <= 500
    with svc.db.session() as session:
        titles = set(session.scalars(select(Article.title)))
    assert {"Xiaomi delivers 40,000 cars", "Ford loses money", "NIO delivers"} <= titles


def test_poll_item_with_a_zero_date_is_stored_undated_and_the_feed_is_not_lost(
    svc: Services, poller: Poller, site: Site
) -> None:
    # "0000-00-00 00:00:00" (a MySQL zero date) and dates at the edge of datetime's range are common
    # in real feeds; they used to raise out of the parser (ValueError, OverflowError) and fail the poll
    items = [
        {"guid": "z-1", "title": "Xiaomi delivers", "text": "Xiaomi.", "date": "0000-00-00T00:00:00Z"},
        {"guid": "z-2", "title": "Ford loses", "text": "Ford lost.", "date": "9999-12-31T23:59:59-14:00"},
        {"guid": "z-3", "title": "NIO delivers", "text": "NIO delivered."},
    ]  # fmt: skip
    site.docs["/zero.xml"] = ("application/rss+xml", rss("Zero dates", items))
    fid = _add(svc, site.url("/zero.xml"))
    report = asyncio.run(poller.run_pass())
    assert report.failed == 0, report.errors
    assert _feed(svc, fid).last_error is None
    with svc.db.session() as session:
        dates = {t: d for t, d in session.execute(select(Article.title, Article.published_at))}
    assert dates["Xiaomi delivers"] == NOW and dates["Ford loses"] == NOW  # undated: the fetch time


class _LongValidators(BaseHTTPRequestHandler):
    """An RSS feed with an ETag of 600 characters and a Last-Modified of 150: legal, if odd."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:
        body = rss(
            "Long validators", [{"guid": "v-1", "title": "BYD cuts prices", "text": "BYD cut prices."}]
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("ETag", '"' + "e" * 600 + '"')
        self.send_header("Last-Modified", "Thu, 08 Jan 2026 10:00:00 GMT" + " " * 120 + "x")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_poll_validators_longer_than_their_columns_are_not_kept_and_the_feed_is_stored(
    svc: Services, poller: Poller
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LongValidators)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        fid = _add(svc, f"http://127.0.0.1:{server.server_address[1]}/feed.xml")
        report = asyncio.run(poller.run_pass())
    finally:
        server.shutdown()
        server.server_close()
    assert report.failed == 0 and report.new_articles == 1, report.errors
    feed = _feed(svc, fid)
    assert feed.last_error is None and feed.etag is None and feed.last_modified is None


def test_poll_json_feed_with_an_over_long_hub_url_is_stored_without_websub(
    svc: Services, poller: Poller, site: Site
) -> None:
    # JSON Feed hubs are not read through the link cleaner: a 2100-character hub URL went straight
    # into feeds.websub_hub (2000) and, on PostgreSQL, failed every poll of the feed
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Hubbed",
        "hubs": [{"type": "WebSub", "url": "https://hub.example/" + "h" * 2100}],
        "items": [{"id": "j-1", "title": "BYD cuts prices", "content_text": "BYD cut prices."}],
    }
    site.docs["/hub.json"] = ("application/feed+json", json.dumps(doc).encode())
    fid = _add(svc, site.url("/hub.json"))
    report = asyncio.run(poller.run_pass())
    assert report.failed == 0 and report.new_articles == 1, report.errors
    feed = _feed(svc, fid)
    assert feed.last_error is None and feed.websub_hub is None and poller.websub_needs == []
