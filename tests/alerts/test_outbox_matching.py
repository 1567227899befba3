"""alerts.matching: a new article puts exactly one outbox row per subscriber (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from evwire.ingest.plaintext import parse_plain_text
from evwire.ingest.types import ParsedArticle
from evwire.pipeline import Services, open_services, post_article
from evwire.settings import Settings
from evwire.store.subscriptions import confirm, subscribe, update_preferences
from evwire.store.tables import OutboxRow
from evwire.store.targets import add_target
from tests.conftest import SAMPLE_ARTICLE

T0 = datetime(2026, 1, 8, 6, 0, tzinfo=UTC)  # subscribers confirmed
T1 = datetime(2026, 1, 8, 9, 30, tzinfo=UTC)  # the article arrives


@pytest.fixture
def svc(settings: Settings) -> Iterator[Services]:
    services = open_services(settings)
    yield services
    services.close()


def sample() -> ParsedArticle:
    return parse_plain_text(SAMPLE_ARTICLE.read_text(encoding="utf-8"))


def follower(svc: Services, email: str, slugs: list[str], *, at: datetime = T0, **prefs: object) -> int:
    with svc.db.session() as s:
        sub = subscribe(s, email, slugs, now=at)
        confirm(s, sub.id, now=at)
        if prefs:
            update_preferences(s, sub.id, now=at, **prefs)  # type: ignore[arg-type]
        return sub.id


def post(svc: Services, parsed: ParsedArticle, *, now: datetime = T1, **kw: object) -> int:
    with svc.db.session() as s:
        kw.setdefault("any_date", True)
        return post_article(s, parsed, svc.tagger, now=now, alerts=svc.alerts, **kw).article_id  # type: ignore[arg-type]


def rows(svc: Services) -> list[OutboxRow]:
    with svc.db.session() as s:
        return list(s.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def test_outbox_sample_article_one_row_per_subscriber_that_says_why(svc: Services) -> None:
    only_xiaomi = follower(svc, "x@example.org", ["xiaomi"])
    everything = follower(
        svc, "all@example.org", ["xiaomi", "ford"], queries=["xiaomi AND ford", "joint venture"]
    )
    follower(svc, "nio@example.org", ["nio"])
    article_id = post(svc, sample())
    out = rows(svc)
    assert sorted(r.subscriber_id for r in out) == sorted([only_xiaomi, everything])
    by_sub = {r.subscriber_id: r for r in out}
    assert by_sub[only_xiaomi].reasons == {"channels": ["xiaomi"]}
    assert by_sub[everything].reasons["channels"] == ["xiaomi", "ford"]
    assert len(by_sub[everything].reasons["queries"]) == 2
    assert all(r.article_id == article_id and r.status == "pending" and r.kind == "immediate" for r in out)
    # posting the same article again is an update: nothing more
    post(svc, sample(), now=T1 + timedelta(hours=1))
    assert len(rows(svc)) == 2


def test_outbox_no_row_for_backfill_late_confirmation_old_items_or_mentions(svc: Services) -> None:
    follower(svc, "late@example.org", ["xiaomi"], at=T1 + timedelta(minutes=1))  # confirmed after
    follower(svc, "byd@example.org", ["byd"])  # BYD is only mentioned in the sample
    post(svc, replace(sample(), url="https://example.org/backfill"), is_backfill=True)
    assert rows(svc) == []
    early = follower(svc, "early@example.org", ["xiaomi"])
    old = replace(
        sample(), title="Old item", url="https://example.org/old", published_at=T1 - timedelta(days=4)
    )
    post(svc, old, any_date=False)  # a feed item found 4 days late
    assert rows(svc) == []
    fresh = replace(
        sample(), title="Fresh item", url="https://example.org/fresh", published_at=T1 - timedelta(days=1)
    )
    post(svc, fresh, any_date=False)
    assert [r.subscriber_id for r in rows(svc)] == [early]


def test_outbox_mentions_when_asked_no_alert_flag_and_targets(svc: Services) -> None:
    wants = follower(svc, "m@example.org", ["byd"], include_mentions=True)
    follower(svc, "nomention@example.org", ["byd"])
    with svc.db.session() as s:
        xiaomi_target = add_target(s, "json://127.0.0.1:9/x", channel="xiaomi", now=T0).id
        all_target = add_target(s, "json://127.0.0.1:9/all", now=T0).id
        add_target(s, "json://127.0.0.1:9/nio", channel="nio", now=T0)
    post(svc, replace(sample(), url="https://example.org/quiet"), alert=False)
    assert rows(svc) == []
    with svc.db.session() as s:  # remove the quiet one so the same text can be news
        from evwire.store.tables import Article

        s.delete(s.get(Article, s.scalar(select(func.max(Article.id)))))
    post(svc, sample())
    out = rows(svc)
    assert [r.subscriber_id for r in out if r.subscriber_id] == [wants]
    assert sorted(r.target_id for r in out if r.target_id) == sorted([xiaomi_target, all_target])


def test_outbox_digest_rows_wait_for_the_local_hour(svc: Services) -> None:
    sid = follower(svc, "d@example.org", ["xiaomi"], digest="daily", timezone="Asia/Shanghai", digest_hour=8)
    post(svc, sample())
    (row,) = rows(svc)
    assert row.subscriber_id == sid and row.kind == "digest"
    # 09:30 UTC is 17:30 in Shanghai: next 08:00 there is 00:00 UTC the next day
    assert row.next_attempt_at == datetime(2026, 1, 9, 0, 0, tzinfo=UTC)


def test_outbox_keyword_alert_alone_and_refresh_after_change(svc: Services) -> None:
    sid = follower(svc, "k@example.org", [], queries=['"jim farley"'])
    post(svc, sample())
    assert [(r.subscriber_id, r.reasons) for r in rows(svc)][0][0] == sid
    with svc.db.session() as s:
        update_preferences(s, sid, queries=["nothing AND here"], now=T1)
    post(svc, replace(sample(), title="Another Ford Xiaomi item", url="https://example.org/2"))
    assert len(rows(svc)) == 1
