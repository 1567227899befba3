"""Article -> outbox rows, in the transaction that stores the article (docs/decisions/0010-outbox.md).

``AlertMatcher.match_article`` is called by ``pipeline.post_article`` for a new article. It adds
one outbox row per subscriber who should hear of it (and one per operator target, and one per
own target of each of those subscribers: docs/decisions/0014-subscriber-targets.md), never more:
the rows are unique per (subscriber, article) in the database and the reasons (channels followed,
keyword alerts matched) are merged into that one row. No row for an update, for backfill, for a
subscriber confirmed after evwire first stored the article, for a feed item dated more than
``EVWIRE_ALERT_MAX_AGE_DAYS`` before it was first seen (unless ``any_date``: `evwire post` and the
API), or for a mere mention unless the subscriber asked for those.

Keyword alerts go through a ``Percolator`` built from the stored queries of confirmed subscribers.
The matcher (one per process, held by ``Services``) compares the ``alerts_version`` meta value on
each match and rebuilds the index when alerts changed, in any process.

After the transaction commits, waiting senders are woken: in-process through ``Wakeup``, and on
PostgreSQL by ``NOTIFY evwire_outbox`` (sent with the transaction, delivered at commit).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import event, or_, select, text
from sqlalchemy.orm import Session

from evwire.alerts.document import doc_from_tagging
from evwire.alerts.percolator import Percolator
from evwire.alerts.query import QueryError, parse_query
from evwire.settings import Settings
from evwire.store.outbox import insert_rows, next_digest_at
from evwire.store.subscriptions import alerts_version
from evwire.store.tables import AlertTarget, Article, Company, KeywordAlert, Subscriber, Subscription
from evwire.tag.types import Tagging

log = logging.getLogger(__name__)
NOTIFY_CHANNEL = "evwire_outbox"
_EMPTY: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
_BY_ID_LIMIT = 2000  # matched subscribers up to which their own targets are looked up by id


class Wakeup:
    """Wakes senders of this process when new outbox rows were committed (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self.event = threading.Event()

    def register(self, loop: asyncio.AbstractEventLoop, ev: asyncio.Event) -> None:
        with self._lock:
            self._waiters.append((loop, ev))

    def unregister(self, ev: asyncio.Event) -> None:
        with self._lock:
            self._waiters = [(lp, e) for lp, e in self._waiters if e is not ev]

    def notify(self) -> None:
        self.event.set()
        with self._lock:
            waiters = list(self._waiters)
        for loop, ev in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(ev.set)


@dataclass(frozen=True)
class MatchReport:
    subscribers: int = 0
    targets: int = 0
    skipped: str | None = None  # why nothing was matched at all


@dataclass
class _Article:
    """A new article being matched, and what matching found for it."""

    index: int  # its place in the call's list
    article: Article
    tagging: Tagging
    created: datetime
    about: list[str]
    slugs: list[str]  # about, then mentioned: the order reasons list channels in
    who: dict[int, _Who] = field(default_factory=dict)
    matched: list[int] = field(default_factory=list)  # keyword alert ids
    by: list[int] = field(default_factory=list)  # their subscribers, aligned


@dataclass
class _Who:
    include_mentions: bool
    digest: str
    timezone: str
    digest_hour: int
    channels: list[str]
    queries: list[int]


_WHO_COLUMNS = (
    Subscriber.id,
    Subscriber.include_mentions,
    Subscriber.digest,
    Subscriber.timezone,
    Subscriber.digest_hour,
)


class AlertMatcher:
    """Matches new articles to subscribers and targets; one per process, thread-safe."""

    def __init__(self, settings: Settings, wakeup: Wakeup | None = None) -> None:
        self.max_age = timedelta(days=settings.alert_max_age_days)
        self.wakeup = wakeup or Wakeup()
        self._lock = threading.Lock()
        self._version: str | None = None
        self._percolator = Percolator()
        # keyword alert ids (sorted) and their subscribers' ids, aligned
        self._owner: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] = (_EMPTY, _EMPTY)

    # -------------------------------------------------------------- keyword index

    def refresh(self, session: Session, *, force: bool = False) -> bool:
        """Rebuild the keyword index if alerts changed since the last build. Returns whether it did."""
        version = alerts_version(session)
        if not force and version == self._version:
            return False
        started = time.perf_counter()
        perc, owner = Percolator(), {}
        rows = session.execute(
            select(
                KeywordAlert.id,
                KeywordAlert.subscriber_id,
                KeywordAlert.query_text,
                Subscriber.include_mentions,
            )
            .join(Subscriber, Subscriber.id == KeywordAlert.subscriber_id)
            .where(Subscriber.status == "confirmed")
        )
        for qid, sid, query_text, mentions in rows:
            try:
                perc.add(qid, parse_query(query_text), mentions=bool(mentions))
            except QueryError as exc:  # stored text was checked; a parser change could still refuse it
                log.warning("keyword alert %s skipped: %s", qid, exc)
                continue
            owner[qid] = sid
        perc.prepare()
        qids = np.fromiter(sorted(owner), dtype=np.int64, count=len(owner))
        sids = np.fromiter((owner[q] for q in qids.tolist()), dtype=np.int64, count=len(owner))
        self._percolator, self._owner, self._version = perc, (qids, sids), version
        ms = int((time.perf_counter() - started) * 1000)
        log.info("keyword index built: %d queries", len(qids), extra={"duration_ms": ms})
        return True

    # -------------------------------------------------------------- matching

    def match_article(
        self, session: Session, article: Article, tagging: Tagging, *, now: datetime, any_date: bool = False
    ) -> MatchReport:
        """Add the outbox rows for a new article (call in the transaction that stored it)."""
        return self.match_articles(session, [(article, tagging)], now=now, any_date=any_date)[0]

    def match_articles(
        self,
        session: Session,
        articles: Sequence[tuple[Article, Tagging]],
        *,
        now: datetime,
        any_date: bool = False,
    ) -> list[MatchReport]:
        """``match_article`` for several new articles of one transaction (a feed poll's new items,
        docs/decisions/0017): each lookup is made once for all of them, and each article gets the
        rows it would get alone."""
        reports: list[MatchReport] = [MatchReport() for _ in articles]
        todo: list[_Article] = []
        for k, (article, tagging) in enumerate(articles):
            if article.is_backfill:
                reports[k] = MatchReport(skipped="backfill")
                continue
            created = article.created_at or now
            if (
                not any_date
                and article.published_at is not None
                and article.published_at < created - self.max_age
            ):
                reports[k] = MatchReport(skipped="too old when first seen")
                continue
            about = [c.slug for c in tagging.about]
            mentioned = [c.slug for c in tagging.mentioned if c.slug not in about]
            todo.append(_Article(k, article, tagging, created, about, about + mentioned))
        if not todo:
            return reports
        slugs = list(dict.fromkeys(s for a in todo for s in a.slugs))
        ids = dict(session.execute(select(Company.slug, Company.id).where(Company.slug.in_(slugs))).all())
        latest = max(a.created for a in todo)
        # eligible for an article: confirmed, and by the time it was stored (checked per article below)
        eligible = (Subscriber.status == "confirmed", Subscriber.confirmed_at <= latest)
        followers: list[tuple[Any, ...]] = []
        if ids:
            followers = list(
                session.execute(
                    select(*_WHO_COLUMNS, Subscriber.confirmed_at, Company.slug)
                    .join(Subscription, Subscription.subscriber_id == Subscriber.id)
                    .join(Company, Company.id == Subscription.company_id)
                    .where(Subscription.company_id.in_(list(ids.values())), *eligible)
                )
            )
        for a in todo:
            about_set, own_slugs = set(a.about), {s for s in a.slugs if s in ids}
            for sid, mentions, digest, tz, hour, confirmed_at, slug in followers:
                if slug not in own_slugs or confirmed_at > a.created:
                    continue
                if slug not in about_set and not mentions:
                    continue
                w = a.who.get(sid)
                if w is None:
                    w = a.who[sid] = _Who(bool(mentions), digest, tz, hour, [], [])
                w.channels.append(slug)
        with self._lock:
            self.refresh(session)
            owned_qids, owned_sids = self._owner
            if len(owned_qids):
                for a in todo:
                    doc = doc_from_tagging(
                        a.article.title, a.article.bullets or (), a.article.body or "", a.tagging
                    )
                    found = np.sort(self._percolator.match_ids(doc))
                    # every indexed query has an owner: its position in the sorted ids gives it
                    a.matched = found.tolist()
                    a.by = owned_sids[np.searchsorted(owned_qids, found)].tolist()
        missing = sorted({sid for a in todo for sid in a.by if sid not in a.who})
        found_who: dict[int, tuple[Any, ...]] = {}
        for start in range(0, len(missing), 5000):
            chunk = missing[start : start + 5000]
            for sid, *rest in session.execute(
                select(*_WHO_COLUMNS, Subscriber.confirmed_at).where(Subscriber.id.in_(chunk), *eligible)
            ):
                found_who[sid] = tuple(rest)
        for a in todo:
            for sid in sorted(set(a.by).difference(a.who)):
                row = found_who.get(sid)
                if row is not None and row[4] <= a.created:
                    a.who[sid] = _Who(bool(row[0]), row[1], row[2], row[3], [], [])
            for qid, sid in zip(a.matched, a.by, strict=True):
                w = a.who.get(sid)
                if w is not None:
                    w.queries.append(qid)
        about_ids = sorted({ids[s] for a in todo for s in a.about if s in ids})
        target_filter = [AlertTarget.company_id.is_(None)]
        if about_ids:
            target_filter.append(AlertTarget.company_id.in_(about_ids))
        targets = list(
            session.execute(
                select(AlertTarget.id, Company.slug, AlertTarget.company_id)
                .outerjoin(Company, Company.id == AlertTarget.company_id)
                .where(AlertTarget.active.is_(True), AlertTarget.subscriber_id.is_(None), or_(*target_filter))
            )
        )
        everyone: dict[int, object] = {sid: None for a in todo for sid in a.who}
        own_all = _subscriber_targets(session, everyone)
        schedule: dict[tuple[str, str, int], datetime] = {}
        rows_out: list[dict[str, Any]] = []
        for a in todo:
            order = {slug: i for i, slug in enumerate(a.slugs)}
            reasons_of: dict[int, dict[str, Any]] = {}
            for sid, w in a.who.items():
                reasons: dict[str, Any] = {"channels": sorted(w.channels, key=lambda s: order.get(s, 999))}
                if w.queries:
                    reasons["queries"] = w.queries
                reasons_of[sid] = reasons
                key = (w.digest, w.timezone, w.digest_hour)
                if key not in schedule:
                    schedule[key] = next_digest_at(now, *key)
                rows_out.append(
                    self._row(
                        a.article.id,
                        now,
                        reasons,
                        subscriber_id=sid,
                        kind="immediate" if w.digest == "immediate" else "digest",
                        due=schedule[key],
                    )
                )
            own_about = {ids[s] for s in a.about if s in ids}
            mine = [(tid, slug) for tid, slug, cid in targets if cid is None or cid in own_about]
            for tid, slug in mine:
                rows_out.append(
                    self._row(a.article.id, now, {"channels": [slug] if slug else []}, target_id=tid)
                )
            own = [(tid, sid) for tid, sid in own_all if sid in a.who]
            for tid, sid in own:
                # Same reasons as the subscriber's row; posted at once even for digest readers (ADR 0014).
                rows_out.append(self._row(a.article.id, now, reasons_of[sid], target_id=tid))
            reports[a.index] = MatchReport(subscribers=len(a.who), targets=len(mine) + len(own))
        if rows_out:
            insert_rows(session, rows_out)
            self.signal(session)
        return reports

    @staticmethod
    def _row(
        article_id: int,
        now: datetime,
        reasons: dict[str, Any],
        *,
        subscriber_id: int | None = None,
        target_id: int | None = None,
        kind: str = "immediate",
        due: datetime | None = None,
    ) -> dict[str, Any]:
        return {
            "subscriber_id": subscriber_id,
            "target_id": target_id,
            "article_id": article_id,
            "reasons": reasons,
            "status": "pending",
            "kind": kind,
            "attempts": 0,
            "next_attempt_at": due or now,
            "created_at": now,
        }

    def signal(self, session: Session) -> None:
        """Wake senders once this transaction commits (NOTIFY on PostgreSQL, Wakeup in-process)."""
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
        if not session.info.get("evwire_wake"):
            session.info["evwire_wake"] = True

            def after_commit(sess: Session) -> None:
                sess.info.pop("evwire_wake", None)
                self.wakeup.notify()

            event.listen(session, "after_commit", after_commit, once=True)


def _subscriber_targets(session: Session, who: Mapping[int, object]) -> list[tuple[int, int]]:
    """(target id, subscriber id) of the active own targets of the subscribers in ``who``.

    ``who`` holds only subscribers who get this article (confirmed before it was stored, mentions
    only if asked), so their targets follow the same rules. Few matched subscribers: looked up by
    id; a large fan-out: every own target read once (far fewer rows than subscribers).
    """
    if not who:
        return []
    stmt = select(AlertTarget.id, AlertTarget.subscriber_id).where(
        AlertTarget.active.is_(True), AlertTarget.subscriber_id.is_not(None)
    )
    if len(who) <= _BY_ID_LIMIT:
        found = session.execute(stmt.where(AlertTarget.subscriber_id.in_(list(who)))).all()
    else:
        found = session.execute(stmt).all()
    return sorted((tid, sid) for tid, sid in found if sid is not None and sid in who)
