"""Followed feeds: add, list, pause/resume/remove, claim due feeds, record each poll on the row.

Functions take a Session and never commit. A poll's outcome (errors in words, the schedule decided
by ``ingest.schedule.next_poll``) is stored on the feed row (STYLE 3.5): ``last_error`` is cleared on
success, ``status='dead'`` keeps the row and its articles.

Claiming: ``claim_due_feeds`` leases due rows to one poller for ``lease`` (``claimed_until``); on
PostgreSQL with ``FOR UPDATE SKIP LOCKED`` so N pollers on N machines never poll a feed twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import String, Table, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session

from evwire.errors import EvwireError, NotFoundError
from evwire.ingest.opml import OpmlFeed
from evwire.ingest.schedule import DEFAULT_INTERVAL, FeedState, revive
from evwire.store.notify import FEEDS, notify
from evwire.store.tables import Article, Feed, FeedItem

STATUSES = ("active", "paused", "dead")
CLAIM_LEASE = timedelta(minutes=10)
# what the columns hold (the data model says, here it is enforced before PostgreSQL refuses a row)
URL_MAX = cast(String, Feed.__table__.c.url.type).length or 2000  # feeds.url, site_url
TEXT_MAX = cast(String, Feed.__table__.c.title.type).length or 500  # feeds.title, category


@dataclass(frozen=True)
class FeedJob:
    """What a poller needs of a claimed feed: a snapshot, so no ORM object crosses threads."""

    id: int
    url: str
    title: str | None
    etag: str | None
    last_modified: str | None
    state: FeedState
    full_text: bool
    backfilled: bool
    websub_hub: str | None
    websub_topic: str | None
    websub_renew_at: datetime | None


# the columns a poll needs, read with Core (no ORM objects: a pass may claim thousands of feeds)
STATE_COLUMNS = (
    Feed.id,
    Feed.status,
    Feed.interval_seconds,
    Feed.error_count,
    Feed.first_error_at,
    Feed.last_error,
    Feed.last_success_at,
    Feed.websub_lease_until,
)
JOB_COLUMNS = (
    *STATE_COLUMNS,
    Feed.url,
    Feed.title,
    Feed.etag,
    Feed.last_modified,
    Feed.full_text,
    Feed.backfilled,
    Feed.websub_hub,
    Feed.websub_topic,
    Feed.websub_renew_at,
)


def feed_state(feed: Any) -> FeedState:
    """The scheduler's view of a feed row (an ORM Feed or a Row with the STATE_COLUMNS)."""
    return FeedState(
        interval=timedelta(seconds=feed.interval_seconds or DEFAULT_INTERVAL.total_seconds()),
        error_count=feed.error_count or 0,
        first_error_at=feed.first_error_at,
        last_error=feed.last_error,
        last_success_at=feed.last_success_at,
        dead=feed.status == "dead",
        websub_until=feed.websub_lease_until,
    )


def state_values(state: FeedState, next_at: datetime | None, now: datetime) -> dict[str, Any]:
    """Feed columns for a FeedState decided by the scheduler (status only moves active → dead here)."""
    values: dict[str, Any] = {
        "interval_seconds": int(state.interval.total_seconds()),
        "error_count": state.error_count,
        "first_error_at": state.first_error_at,
        "last_error": state.last_error,
        "last_success_at": state.last_success_at,
        "next_poll_at": next_at,
        "claimed_until": None,
        "updated_at": now,
    }
    if state.last_error:
        values["last_error_at"] = now
    if state.dead:
        values["status"] = "dead"
    return values


def job_of(feed: Any) -> FeedJob:
    return FeedJob(
        id=feed.id,
        url=feed.url,
        title=feed.title,
        etag=feed.etag,
        last_modified=feed.last_modified,
        state=feed_state(feed),
        full_text=feed.full_text,
        backfilled=feed.backfilled,
        websub_hub=feed.websub_hub,
        websub_topic=feed.websub_topic,
        websub_renew_at=feed.websub_renew_at,
    )


# ---------------------------------------------------------------- operator actions


def add_feed(
    session: Session,
    url: str,
    *,
    now: datetime,
    title: str | None = None,
    site_url: str | None = None,
    category: str | None = None,
    full_text: bool = False,
) -> tuple[Feed, bool]:
    """Follow a feed (polled at once). Returns (feed, created); an already followed URL is returned as is."""
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() in ("http", "https"):  # schemes are case-insensitive: HTTPS://… is one
        url = scheme.lower() + sep + rest
    if not url.startswith(("http://", "https://")):
        raise EvwireError(f"{url!r} is not an http(s) address")
    if len(url) > URL_MAX:
        raise EvwireError(f"the address is {len(url)} characters long; evwire keeps at most {URL_MAX}")
    # what an OPML file or a page says about the feed is cut to what the columns hold
    title, category = (title or "")[:TEXT_MAX] or None, (category or "")[:TEXT_MAX] or None
    site_url = site_url if site_url and len(site_url) <= URL_MAX else None
    row = session.scalar(select(Feed).where(Feed.url == url))
    if row is not None:
        return row, False
    row = Feed(
        url=url,
        title=title,
        site_url=site_url,
        category=category,
        status="active",
        full_text=full_text,
        next_poll_at=now,
        interval_seconds=int(DEFAULT_INTERVAL.total_seconds()),
        error_count=0,
        items_seen=0,
        backfilled=False,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    notify(session, FEEDS)  # poll workers wake at commit (PostgreSQL)
    return row, True


def get_feed(session: Session, ref: int | str) -> Feed:
    """A feed by id or by URL; NotFoundError names what was asked for."""
    row: Feed | None
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        row = session.get(Feed, int(ref))
    else:
        row = session.scalar(select(Feed).where(Feed.url == ref))
    if row is None:
        raise NotFoundError(f"no feed {ref!r}; see `evwire feeds list`")
    return row


def list_feeds(session: Session, *, status: str | None = None) -> list[Feed]:
    stmt = select(Feed).order_by(Feed.id)
    if status:
        stmt = stmt.where(Feed.status == status)
    return list(session.scalars(stmt))


def pause_feed(session: Session, ref: int | str, *, now: datetime) -> Feed:
    row = get_feed(session, ref)
    row.status = "paused"
    row.claimed_until = None
    row.updated_at = now
    session.flush()
    return row


def resume_feed(session: Session, ref: int | str, *, now: datetime) -> Feed:
    """Back to active, polled at once; a dead feed also gets a clean slate of errors."""
    row = get_feed(session, ref)
    if row.status == "dead":
        state = revive(feed_state(row))
        row.error_count, row.first_error_at, row.last_error = (
            state.error_count,
            state.first_error_at,
            state.last_error,
        )
    row.status = "active"
    row.next_poll_at = now
    row.claimed_until = None
    row.updated_at = now
    session.flush()
    notify(session, FEEDS)
    return row


def remove_feed(session: Session, ref: int | str) -> Feed:
    """Stop following a feed. Its articles stay (their feed_id becomes NULL)."""
    row = get_feed(session, ref)
    session.execute(update(Article).where(Article.feed_id == row.id).values(feed_id=None))
    session.execute(delete(FeedItem).where(FeedItem.feed_id == row.id))
    session.delete(row)
    session.flush()
    return row


def set_full_text(session: Session, ref: int | str, enabled: bool, *, now: datetime) -> Feed:
    row = get_feed(session, ref)
    row.full_text = enabled
    row.updated_at = now
    session.flush()
    return row


def export_feeds(session: Session) -> list[OpmlFeed]:
    return [
        OpmlFeed(
            xml_url=f.url,
            title=f.title,
            html_url=f.site_url,
            category=tuple(p for p in (f.category or "").split("/") if p),
        )
        for f in list_feeds(session)
    ]


# ---------------------------------------------------------------- the poller's side


_LEASE = (
    update(Feed)
    .where(Feed.id.in_(bindparam("ids", expanding=True)))
    .values(claimed_until=bindparam("until"))
    .execution_options(synchronize_session=False)
)


def claim_due_feeds(
    session: Session,
    *,
    now: datetime,
    limit: int | None = None,
    lease: timedelta = CLAIM_LEASE,
    feed_ids: Sequence[int] | None = None,
) -> list[FeedJob]:
    """Lease active feeds whose next poll is due (or the given ids, due or not) to this poller."""
    stmt = select(*JOB_COLUMNS).where(
        Feed.status == "active",
        or_(Feed.claimed_until.is_(None), Feed.claimed_until < now),
    )
    if feed_ids is not None:
        stmt = stmt.where(Feed.id.in_(list(feed_ids)))
    else:
        stmt = stmt.where(Feed.next_poll_at.is_not(None), Feed.next_poll_at <= now)
    stmt = stmt.order_by(Feed.next_poll_at, Feed.id)
    if limit:
        stmt = stmt.limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list(session.execute(stmt))
    ids = [r.id for r in rows]
    for start in range(0, len(ids), 1000):  # an expanding IN: no expression object per id
        session.execute(_LEASE, {"ids": ids[start : start + 1000], "until": now + lease})
    return [job_of(r) for r in rows]


_ACTIVE = select(Feed.id).where(Feed.id.in_(bindparam("ids", expanding=True)), Feed.status == "active")


def active_ids(session: Session, feed_ids: Sequence[int]) -> set[int]:
    """Those of ``feed_ids`` still active (not paused, dead or removed while being polled).
    One prepared statement with an expanding IN: no per-id expression objects."""
    ids = list(feed_ids)
    out: set[int] = set()
    for start in range(0, len(ids), 500):
        out.update(session.scalars(_ACTIVE, {"ids": ids[start : start + 500]}))
    return out


def changed_values(values: dict[str, Any], before: FeedState) -> dict[str, Any]:
    """``state_values`` minus the columns that still hold what the claim read: a 304 of a healthy feed
    then writes 4 columns instead of 8, which is most of the cost of storing it."""
    old = {
        "interval_seconds": int(before.interval.total_seconds()),
        "error_count": before.error_count,
        "first_error_at": before.first_error_at,
        "last_error": before.last_error,
        "last_success_at": before.last_success_at,
    }
    return {k: v for k, v in values.items() if k not in old or old[k] != v}


def record_states(
    session: Session, updates: Iterable[tuple[int, dict[str, Any]]], *, only_active: bool = False
) -> int:
    """Store many polls that brought no items (304s, errors) in one statement per column set.
    ``only_active``: leave rows that were paused (or marked dead) meanwhile as they are."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for feed_id, values in updates:
        groups.setdefault(tuple(sorted(values)), []).append({"fid": feed_id, **values})
    n = 0
    for keys, rows in groups.items():
        table = cast(Table, Feed.__table__)
        stmt = update(table).where(table.c.id == bindparam("fid"))
        if only_active:
            stmt = stmt.where(table.c.status == "active")
        stmt = stmt.values({k: bindparam(k) for k in keys})
        session.connection().execute(stmt, rows)
        n += len(rows)
    return n


def known_items(
    session: Session, feed_id: int, guids: Iterable[str]
) -> dict[str, tuple[int, str, int | None]]:
    """guid -> (feed_items.id, fingerprint, article_id) for the guids this feed has shown before."""
    wanted = list(dict.fromkeys(guids))
    out: dict[str, tuple[int, str, int | None]] = {}
    for start in range(0, len(wanted), 500):
        rows = session.execute(
            select(FeedItem.guid, FeedItem.id, FeedItem.fingerprint, FeedItem.article_id).where(
                FeedItem.feed_id == feed_id, FeedItem.guid.in_(wanted[start : start + 500])
            )
        )
        for guid, item_id, fingerprint, article_id in rows:
            out[guid] = (item_id, fingerprint, article_id)
    return out


def move_feed(session: Session, feed: Feed, new_url: str) -> str | None:
    """A 301/308 moved the feed: store the new address, unless another feed already follows it
    (then a note for the operator is returned and the address is kept)."""
    if new_url == feed.url:
        return None
    if len(new_url) > URL_MAX:
        return (
            f"the feed moved to an address {len(new_url)} characters long; evwire keeps at most "
            f"{URL_MAX}, so it keeps asking the old one"
        )
    other = session.scalar(select(Feed.id).where(Feed.url == new_url, Feed.id != feed.id))
    if other is not None:
        return f"the feed moved to {new_url}, which feed {other} already follows; remove one of them"
    feed.url = new_url
    return None


def feed_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Feed.status, func.count()).group_by(Feed.status))
    return {status: n for status, n in rows}
