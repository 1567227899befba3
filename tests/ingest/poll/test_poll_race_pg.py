"""Two pollers (two engines on one PostgreSQL schema, as two processes) store, at the same moment,
different feeds that carry the same new article: the same link, or the same text.

Poller A's run of new items is inserted but not committed when poller B plans its own poll:
``new_for_sure`` sees nothing, so B's run goes to the multi-row INSERT, which waits on A's unique key
and, once A commits, fails inside its savepoint; B then stores its items one by one
(docs/decisions/0017, point 5). The race is forced, not hoped for: A's commit is held (an engine
``commit`` event) until PostgreSQL shows B's backend waiting on A's transaction; the IntegrityError
behind B's fallback then names the articles key it met.

What a reader would check afterwards: one article for the item (A's, as when B polls after A: a
re-post from another feed is the same article, docs/decisions/0009), both feeds' items pointing at
it, B's other new items stored, alerted and grouped, no feed with an error, one alert per reader.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, event, select

from evwire.pipeline import Services, open_services
from evwire.poller import PassReport, Poller
from evwire.settings import Settings
from evwire.store.feeds import add_feed
from evwire.store.subscriptions import confirm, subscribe
from evwire.store.tables import Article, Feed, FeedItem, OutboxRow
from evwire.store.targets import add_target
from tests.conftest import _PG_SKIP, PG_URL, pg_schema
from tests.ingest.poll.conftest import BYD, FORD, NIO, NOW, XIAOMI, Clock, Site, rss

WAIT = 8.0  # seconds any step may take before the test gives up (it never hangs)

SHARED = {"guid": "a-1", "title": "Xiaomi SU7 deliveries top 40,000", "text": XIAOMI}
# B's copy of A's item: the same link with its own headline and text, or the same text at another link
COPIES = {
    "same-url": {
        "guid": "b-2",
        "title": "Xiaomi SU7 deliveries top 40,000 (updated)",
        "text": XIAOMI + " Shares rose.",
        "link": "https://news.example/a-1",
    },
    "same-text": {**SHARED, "guid": "b-2", "link": "https://other.example/xiaomi-record"},
}


@pytest.fixture
def pg_settings(tmp_path: Path) -> Iterator[Settings]:
    if _PG_SKIP:
        pytest.skip(_PG_SKIP)
    with pg_schema("t") as url:
        yield Settings(
            data_dir=tmp_path / "data",
            database_url=url,
            base_url="http://127.0.0.1:8000",
            allow_private_feeds=True,
            feed_connect_timeout=1.0,
            feed_read_timeout=0.5,
            feed_total_timeout=5.0,
            feed_host_min_gap=0.0,
        )


@pytest.fixture
def two(pg_settings: Settings) -> Iterator[tuple[Services, Services]]:
    """Two pollers' services on one schema: two engines, so two sets of connections."""
    a = open_services(pg_settings)
    b = open_services(pg_settings, migrate=False)
    yield a, b
    b.close()
    a.close()


class HeldCommit:
    """Holds the first commit of a transaction that wrote feed_items on ``engine`` until released."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.held = threading.Event()
        self.release = threading.Event()
        self.pid: int | None = None  # the backend whose commit is held
        event.listen(engine, "after_cursor_execute", self._seen)
        event.listen(engine, "commit", self._commit)

    def _seen(self, conn: sa.Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO FEED_ITEMS"):
            conn.info["wrote_items"] = True

    def _commit(self, conn: sa.Connection) -> None:
        if conn.info.pop("wrote_items", False) and not self.held.is_set():
            self.pid = conn.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
            self.held.set()
            self.release.wait(WAIT)

    def remove(self) -> None:
        event.remove(self.engine, "after_cursor_execute", self._seen)
        event.remove(self.engine, "commit", self._commit)


class Backends:
    """The backend pids of an engine's checked-out connections."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pids: set[int] = set()
        event.listen(engine, "checkout", self._checkout)

    def _checkout(self, dbapi_connection: Any, *_: Any) -> None:
        self.pids.add(dbapi_connection.info.backend_pid)

    def remove(self) -> None:
        event.remove(self.engine, "checkout", self._checkout)


def _waits_on(observer: sa.Connection, waiting: set[int], holder: int) -> bool:
    """One of the backends ``waiting`` waits for the transaction of backend ``holder`` to end (what an
    INSERT does that meets an uncommitted key; pg_stat_activity.query is no help here: with psycopg's
    pipelined executemany it may still show the statement before)."""
    row = observer.execute(
        sa.text(
            "SELECT 1 FROM pg_stat_activity WHERE pid = ANY(:pids) AND wait_event_type = 'Lock'"
            " AND wait_event = 'transactionid' AND :holder = ANY(pg_blocking_pids(pid))"
        ),
        {"pids": list(waiting), "holder": holder},
    ).first()
    return row is not None


@pytest.mark.parametrize("copy", sorted(COPIES))
def test_two_pollers_storing_the_same_new_article_at_once(
    copy: str, two: tuple[Services, Services], site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    svc_a, svc_b = two
    with svc_a.db.session() as session:
        reader = subscribe(session, "reader@example.org", ["xiaomi", "byd", "nio"], now=NOW)
        confirm(session, reader.id, now=NOW - timedelta(days=1))
        add_target(session, "json://127.0.0.1/hook", now=NOW)  # the operator's: every new article
        feed_a = add_feed(session, site.url("/a"), now=NOW)[0].id
        feed_b = add_feed(session, site.url("/b"), now=NOW)[0].id
        session.execute(sa.update(Feed).values(backfilled=True))  # not a first poll: alerts go out
        reader_id = reader.id
    site.docs["/a"] = ("application/rss+xml", rss("Wire A", [
        SHARED,
        {"guid": "a-2", "title": "Ford Model e loss", "text": FORD},
    ]))  # fmt: skip
    site.docs["/b"] = ("application/rss+xml", rss("Wire B", [
        {"guid": "b-1", "title": "BYD cuts prices in Europe", "text": BYD},
        COPIES[copy],
        {"guid": "b-3", "title": "NIO December deliveries", "text": NIO},
    ]))  # fmt: skip

    poller_a, poller_b = Poller(svc_a, clock=Clock()), Poller(svc_b, clock=Clock())
    held, b_backends = HeldCommit(svc_a.db.engine), Backends(svc_b.db.engine)
    observer = sa.create_engine(PG_URL)
    try:
        with ThreadPoolExecutor(2) as pool, caplog.at_level(logging.INFO, logger="evwire.poller"):
            try:
                a = pool.submit(asyncio.run, poller_a.run_pass(feed_ids=[feed_a]))
                assert held.held.wait(WAIT), "poller A never reached its commit"
                assert held.pid is not None
                # A's articles are inserted, not committed: B plans its poll now
                b = pool.submit(asyncio.run, poller_b.run_pass(feed_ids=[feed_b]))
                started = time.monotonic()
                with observer.connect() as conn:
                    while not _waits_on(conn, b_backends.pids, held.pid):
                        assert not b.done(), f"poller B finished without waiting on A: {b.result()}"
                        assert time.monotonic() - started < WAIT, "poller B never waited on A's article"
                        time.sleep(0.02)
            finally:
                held.release.set()  # A commits; B's INSERT meets A's key
            report_a: PassReport = a.result(timeout=WAIT)
            report_b: PassReport = b.result(timeout=WAIT)
    finally:
        held.remove()
        b_backends.remove()
        observer.dispose()

    # the race happened: B's run of three failed on A's key and was stored one by one
    fallback = [r for r in caplog.records if r.getMessage() == "storing 3 new items together failed; "
                "storing them one by one"]  # fmt: skip
    assert len(fallback) == 1 and fallback[0].exc_info is not None
    error = fallback[0].exc_info[1]
    key = "uq_articles_url" if copy == "same-url" else "uq_articles_content_hash"
    assert isinstance(error, sa.exc.IntegrityError) and key in str(error)
    assert not [r for r in caplog.records if r.getMessage().startswith("feed item skipped")]

    # nothing crashed, no feed has an error, each poller counts only what it created
    assert report_a.failed == 0 and not report_a.errors and report_a.new_articles == 2
    assert report_b.failed == 0 and not report_b.errors and report_b.new_articles == 2
    assert report_b.updated_articles == 0  # B's copy was a new guid of its feed, not an edit

    with svc_a.db.session() as session:
        articles = {str(a.guid): a for a in session.scalars(select(Article))}
        items = {(i.feed_id, i.guid): i for i in session.scalars(select(FeedItem))}
        feeds = {f.id: f for f in session.scalars(select(Feed))}
        outbox = list(
            session.execute(select(OutboxRow.subscriber_id, OutboxRow.target_id, OutboxRow.article_id))
        )

    # one article for the item: A's (its origin kept), updated in place by B's copy, as when B polls after A
    assert sorted(articles) == ["a-1", "a-2", "b-1", "b-3"]
    shared = articles["a-1"]
    assert shared.feed_id == feed_a and shared.created_at == NOW and not shared.is_backfill
    assert shared.url == "https://news.example/a-1"
    assert shared.title == COPIES[copy]["title"]
    assert all(a.feed_id == feed_b for g, a in articles.items() if g.startswith("b-"))

    # both feeds' items point at it; B's copy carries no signature (it started no story), as one by one
    assert sorted(items) == [
        (feed_a, "a-1"),
        (feed_a, "a-2"),
        (feed_b, "b-1"),
        (feed_b, "b-2"),
        (feed_b, "b-3"),
    ]
    assert items[(feed_a, "a-1")].article_id == items[(feed_b, "b-2")].article_id == shared.id
    assert items[(feed_b, "b-2")].signature is None
    for guid in ("a-2", "b-1", "b-3"):
        feed_id = feed_a if guid.startswith("a-") else feed_b
        assert items[(feed_id, guid)].article_id == articles[guid].id

    # B's other new items are stored whole: in stories, and in B's story index (no stand-ins left)
    assert articles["b-1"].story_id is not None and articles["b-3"].story_id is not None
    assert len(poller_b.story_index()) == 2 and len(poller_a.story_index()) == 2

    for feed_id in (feed_a, feed_b):
        assert feeds[feed_id].last_error is None and feeds[feed_id].error_count == 0
        assert feeds[feed_id].items_seen == 2 and feeds[feed_id].last_success_at is not None

    # one alert per reader and article: the shared one once (from A), B's new ones from B
    per_recipient = Counter(outbox)
    assert max(per_recipient.values()) == 1
    by_article = Counter(article_id for subscriber_id, _, article_id in outbox if subscriber_id == reader_id)
    ids = {g: a.id for g, a in articles.items()}
    assert by_article == {ids["a-1"]: 1, ids["b-1"]: 1, ids["b-3"]: 1}  # follows xiaomi, byd, nio
    to_target = Counter(article_id for _, target_id, article_id in outbox if target_id is not None)
    assert to_target == {article_id: 1 for article_id in ids.values()}
