"""What pages, mails and commands show about subscribers: the manage page's view, what a request
would add, a pending confirmation, the operator's list. Reads only; the writes are in
``store.subscriptions``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from evwire.store.subscriptions import parse_queries
from evwire.store.tables import Company, KeywordAlert, OutboxRow, Subscriber, Subscription

# --- the manage page ------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelRef:
    slug: str
    name: str


@dataclass(frozen=True)
class QueryRef:
    id: int
    text: str


@dataclass(frozen=True)
class SubscriberView:
    """What the manage page shows (plain values, safe to use after the session closed)."""

    id: int
    email: str
    status: str
    digest: str
    timezone: str
    digest_hour: int
    include_mentions: bool
    channels: tuple[ChannelRef, ...]
    queries: tuple[QueryRef, ...]
    created_at: datetime
    confirmed_at: datetime | None
    bounce_count: int
    pending_alerts: int


def subscriber_view(session: Session, subscriber_id: int) -> SubscriberView | None:
    sub = session.scalar(
        select(Subscriber)
        .where(Subscriber.id == subscriber_id)
        .options(
            selectinload(Subscriber.subscriptions).selectinload(Subscription.company),
            selectinload(Subscriber.keyword_alerts),
        )
    )
    if sub is None:
        return None
    pending = session.scalar(
        select(func.count()).where(
            OutboxRow.subscriber_id == sub.id, OutboxRow.status.in_(("pending", "sending"))
        )
    )
    channels = sorted(
        (ChannelRef(s.company.slug, s.company.name) for s in sub.subscriptions), key=lambda c: c.name
    )
    return SubscriberView(
        id=sub.id,
        email=sub.email,
        status=sub.status,
        digest=sub.digest,
        timezone=sub.timezone,
        digest_hour=sub.digest_hour,
        include_mentions=sub.include_mentions,
        channels=tuple(channels),
        queries=tuple(QueryRef(k.id, k.query_text) for k in sub.keyword_alerts),
        created_at=sub.created_at,
        confirmed_at=sub.confirmed_at,
        bounce_count=sub.bounce_count,
        pending_alerts=int(pending or 0),
    )


def requested_additions(
    session: Session, subscriber_id: int, slugs: Iterable[str], queries: Sequence[str] = ()
) -> tuple[tuple[ChannelRef, ...], tuple[str, ...]]:
    """What a request would add for this subscriber: the known channels it does not follow yet
    (unknown slugs are left out) and the canonical keyword alerts it does not have yet. Changes
    nothing; QueryInputError for a bad query."""
    wanted = sorted({s.strip().lower() for s in slugs if s and s.strip()})
    texts = parse_queries(queries)
    followed = set(
        session.scalars(
            select(Company.slug)
            .join(Subscription, Subscription.company_id == Company.id)
            .where(Subscription.subscriber_id == subscriber_id)
        )
    )
    rows = (
        session.execute(select(Company.slug, Company.name).where(Company.slug.in_(wanted))).all()
        if wanted
        else []
    )
    channels = sorted(
        (ChannelRef(slug, name) for slug, name in rows if slug not in followed), key=lambda c: c.name
    )
    have = set(
        session.scalars(select(KeywordAlert.query_text).where(KeywordAlert.subscriber_id == subscriber_id))
    )
    return tuple(channels), tuple(t for t in texts if t not in have)


# --- confirmation mails ---------------------------------------------------------------------


@dataclass(frozen=True)
class PendingConfirmation:
    """What a confirmation mail needs: who, and the channel names / queries asked for."""

    subscriber_id: int
    email: str
    following: tuple[str, ...]


def pending_confirmation(session: Session, subscriber_id: int) -> PendingConfirmation | None:
    """The confirmation to send for a pending subscriber; None when it is not pending."""
    view = subscriber_view(session, subscriber_id)
    if view is None or view.status != "pending":
        return None
    following = tuple(c.name for c in view.channels) + tuple(f'"{q.text}"' for q in view.queries)
    return PendingConfirmation(view.id, view.email, following)


# --- the operator's list -------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriberRow:
    id: int
    email: str
    status: str
    digest: str
    channels: tuple[str, ...]
    queries: int
    bounce_count: int
    created_at: datetime


def list_subscribers(
    session: Session, *, status: str | None = None, channel: str | None = None, limit: int = 1000
) -> list[SubscriberRow]:
    stmt = select(Subscriber).options(
        selectinload(Subscriber.subscriptions).selectinload(Subscription.company),
        selectinload(Subscriber.keyword_alerts),
    )
    if status:
        stmt = stmt.where(Subscriber.status == status)
    if channel:
        stmt = stmt.where(
            Subscriber.id.in_(
                select(Subscription.subscriber_id)
                .join(Company, Company.id == Subscription.company_id)
                .where(Company.slug == channel)
            )
        )
    rows = session.scalars(stmt.order_by(Subscriber.id).limit(limit))
    return [
        SubscriberRow(
            s.id,
            s.email,
            s.status,
            s.digest,
            tuple(sorted(x.company.slug for x in s.subscriptions)),
            len(s.keyword_alerts),
            s.bounce_count,
            s.created_at,
        )
        for s in rows
    ]


def count_subscribers(session: Session) -> dict[str, int]:
    rows = session.execute(select(Subscriber.status, func.count()).group_by(Subscriber.status)).all()
    return {status: int(n) for status, n in rows}
