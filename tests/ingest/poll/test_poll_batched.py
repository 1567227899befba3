"""New items of a poll are stored together (docs/decisions/0017): the database ends up exactly as
when every item is stored on its own, and one bad item among good ones costs only itself."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from evwire.errors import EvwireError
from evwire.pipeline import Services, open_services
from evwire.poller import Poller
from evwire.settings import Settings
from evwire.store.feeds import add_feed
from evwire.store.subscriptions import confirm, subscribe
from evwire.store.tables import (
    Article,
    ArticlePerson,
    ArticleTicker,
    DeliveryFigure,
    Feed,
    FeedItem,
    Mention,
    OutboxRow,
    Story,
)
from evwire.store.targets import add_target
from tests.conftest import pg_schema
from tests.ingest.poll.conftest import BYD, FORD, NIO, NOW, XIAOMI, Clock, Site, rss

RETOLD = XIAOMI.replace("said on Thursday", "announced Thursday").replace("best month", "strongest month")

FIRST = [
    {"guid": "a-1", "title": "Xiaomi SU7 deliveries top 40,000", "text": XIAOMI},
    {"guid": "a-2", "title": "Ford Model e loss", "text": FORD},
    {"guid": "a-3", "title": "NIO December deliveries", "text": NIO},
]
SECOND = [
    {"guid": "a-1", "title": "Xiaomi SU7 deliveries top 40,000 (updated)", "text": XIAOMI + " Shares rose."},
    {"guid": "a-2", "title": "Ford Model e loss", "text": FORD},
    {"guid": "n-1", "title": "BYD cuts prices in Europe", "text": BYD},
    {"guid": "n-2", "title": "BYD price cuts in Europe", "text": BYD.replace("on Monday", "this week")},
    {"guid": "n-3", "title": "BYD again", "text": BYD + " More later.", "link": "https://news.example/n-1"},
    {"guid": "n-4", "title": "NIO December deliveries", "text": NIO},
    {"guid": "n-5", "title": "Xiaomi record December", "text": RETOLD},
    {"guid": "n-6", "title": "Ford EV unit", "text": FORD.replace("Ford said", "Ford Motor said")},
]
OTHER_FEED = [
    {"guid": "b-1", "title": "Xiaomi SU7 beats 40,000", "text": RETOLD + " Analysts were surprised."},
    {"guid": "b-2", "title": "NIO in December", "text": NIO.replace("the Shanghai-based maker", "NIO")},
]


def _clocked(value: Any) -> Any:
    """The test clock's times as they are; a wall-clock stamp (an onupdate) differs run to run."""
    if isinstance(value, datetime) and value > NOW + timedelta(days=1):
        return "wall clock"
    return value


def _snapshot(svc: Services) -> dict[str, list[tuple[Any, ...]]]:
    """Every row a poll writes, ids included (Mention.created_at is always the wall clock: left out)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with svc.db.session() as session:
        for model in (
            Article,
            ArticleTicker,
            ArticlePerson,
            DeliveryFigure,
            FeedItem,
            Story,
            OutboxRow,
            Mention,
        ):
            cols = [c for c in model.__table__.columns if not (model is Mention and c.name == "created_at")]
            rows = session.execute(select(*cols).order_by(model.__table__.c.id))
            out[model.__tablename__] = [tuple(_clocked(v) for v in r) for r in rows]
        out["feeds"] = [
            tuple(r)
            for r in session.execute(
                select(Feed.id, Feed.title, Feed.items_seen, Feed.backfilled, Feed.last_error).order_by(
                    Feed.id
                )
            )
        ]
    return out


def _run(svc: Services, site: Site, *, batched: bool) -> tuple[dict[str, list[tuple[Any, ...]]], Poller]:
    clock = Clock()
    poller = Poller(svc, clock=clock)
    poller.batch_new_items = batched
    with svc.db.session() as session:
        sub = subscribe(session, "reader@example.org", ["xiaomi", "byd"], now=NOW, queries=["NIO"])
        confirm(session, sub.id, now=NOW)
        late = subscribe(session, "late@example.org", ["xiaomi"], now=NOW)
        confirm(session, late.id, now=NOW + timedelta(hours=3))  # after the articles: no mail
        daily = subscribe(session, "daily@example.org", ["nio", "ford"], now=NOW, digest="daily")
        confirm(session, daily.id, now=NOW)
        add_target(session, "json://127.0.0.1/hook", now=NOW)
        feed_a = add_feed(session, site.url(f"/a-{batched}"), now=NOW)[0].id
    site.docs[f"/a-{batched}"] = ("application/rss+xml", rss("Wire A", FIRST))
    asyncio.run(poller.run_pass())  # the first poll: a backfill
    site.docs[f"/a-{batched}"] = ("application/rss+xml", rss("Wire A", SECOND))
    site.docs[f"/b-{batched}"] = ("application/rss+xml", rss("Wire B", OTHER_FEED))
    with svc.db.session() as session:
        feed_b = add_feed(session, site.url(f"/b-{batched}"), now=NOW)[0].id
        session.execute(Feed.__table__.update().values(next_poll_at=NOW, backfilled=True))
    clock.advance(hours=2)
    for feed_id in (feed_a, feed_b):  # one by one: feeds fetched together are stored as they arrive
        report = asyncio.run(poller.run_pass(feed_ids=[feed_id]))
        assert report.failed == 0, report.errors
    return _snapshot(svc), poller


@pytest.fixture
def reference_svc(backend: str, tmp_path: Path, poll_settings: Settings) -> Iterator[Services]:
    """A second, empty database on the same backend, for the one-by-one run."""
    if backend == "sqlite":
        services = open_services(
            poll_settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'ref.db'}"})
        )
        yield services
        services.close()
        return
    with pg_schema("t") as url:
        services = open_services(poll_settings.model_copy(update={"database_url": url}))
        yield services
        services.close()


def test_poll_batched_items_stored_exactly_as_one_by_one(
    svc: Services, reference_svc: Services, site: Site
) -> None:
    batched, poller = _run(svc, site, batched=True)
    alone, reference = _run(reference_svc, site, batched=False)
    # the feed URLs differ by name only, and no stored column holds them
    for table, rows in alone.items():
        assert batched[table] == rows, table
    # the scenario covers what batching touches: grouping, figures, tickers, people, alerts, updates
    assert len(batched["articles"]) == 9 and len(batched["stories"]) < 9
    assert batched["delivery_figures"] and batched["article_tickers"] and batched["article_people"]
    assert batched["outbox"]
    assert len(poller.story_index()) == 9  # every new article once, no stand-ins left behind
    assert _index_state(poller) == _index_state(reference)  # same groups, same bucket order


def _index_state(poller: Poller) -> tuple[object, ...]:
    index = poller.story_index()
    buckets = [{key: list(docs) for key, docs in band.items() if docs} for band in index._buckets]
    return dict(index._groups), buckets


class _Refusing:
    """An alert matcher that refuses articles whose title says BAD (an item that cannot be stored)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def match_article(self, session: Any, article: Article, tagging: Any, **kw: Any) -> Any:
        return self.match_articles(session, [(article, tagging)], **kw)[0]

    def match_articles(self, session: Any, articles: list[tuple[Article, Any]], **kw: Any) -> Any:
        if any("BAD" in article.title for article, _ in articles):
            raise EvwireError("this item cannot be stored")
        return self.inner.match_articles(session, articles, **kw)


def test_poll_one_bad_item_among_good_ones_costs_only_itself(
    svc: Services, site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    svc.alerts = _Refusing(svc.alerts)  # type: ignore[assignment]
    poller = Poller(svc, clock=Clock())
    with svc.db.session() as session:
        feed_id = add_feed(session, site.url("/feed"), now=NOW)[0].id
        session.execute(Feed.__table__.update().values(backfilled=True))
    site.docs["/feed"] = ("application/rss+xml", rss("Wire", [
        {"guid": "g-1", "title": "Xiaomi record December", "text": XIAOMI},
        {"guid": "g-2", "title": "BAD item", "text": BYD},
        {"guid": "g-3", "title": "Xiaomi SU7 beats 40,000", "text": RETOLD},
    ]))  # fmt: skip
    with caplog.at_level(logging.INFO, logger="evwire.poller"):
        report = asyncio.run(poller.run_pass())
    assert "storing 3 new items together failed" in caplog.text
    skipped = [r for r in caplog.records if r.getMessage().startswith("feed item skipped")]
    assert [r.getMessage() for r in skipped] == ["feed item skipped: this item cannot be stored"]
    assert report.new_articles == 2 and report.failed == 0 and not report.errors
    with svc.db.session() as session:
        stored = {a.guid: a for a in session.scalars(select(Article))}
        feed = session.get(Feed, feed_id)
        assert feed is not None and feed.last_error is None and feed.items_seen == 2
        items = set(session.scalars(select(FeedItem.guid)))
    assert set(stored) == {"g-1", "g-3"} and items == {"g-1", "g-3"}
    assert stored["g-1"].story_id == stored["g-3"].story_id is not None  # grouped after the fallback
    assert len(poller.story_index()) == 2
