"""Subscribers, their channels and keyword alerts, and the operator's targets. Never commits.

A subscriber is an address (normalised by ``alerts.mail.validate_address``) with a status:
``pending`` until the confirmation link is followed, then ``confirmed``; ``unsubscribed`` (by the
subscriber: channels and keyword alerts deleted, pending alerts skipped) or ``suspended`` (after 3
bounces). Only confirmed subscribers get alerts, and only for articles evwire first stored after
``confirmed_at``.

Keyword alerts are stored in their canonical text (``alerts.query.to_text``). Any change to them (or
to a subscriber's ``include_mentions``, which changes how ``company:`` terms match) bumps the
``alerts_version`` meta value in the same transaction: matchers in every process compare it and
rebuild their percolator (``alerts.matching.AlertMatcher``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from evwire.errors import EvwireError, NotFoundError
from evwire.ingest.guard import AddressPolicy
from evwire.store.outbox import reschedule_pending
from evwire.store.tables import (
    AlertTarget,
    Company,
    KeywordAlert,
    MetaValue,
    OutboxRow,
    Subscriber,
    Subscription,
)
from evwire.store.target_urls import TargetRefused, check_subscriber_target

STATUSES = ("pending", "confirmed", "unsubscribed", "suspended")
DIGESTS = ("immediate", "daily", "weekly")
ALERTS_VERSION_KEY = "alerts_version"
MAX_KEYWORD_ALERTS = 50  # per subscriber
# confirmation mails per address: at most one per CONFIRM_GAP, CONFIRM_PER_DAY a day
CONFIRM_GAP = timedelta(minutes=5)
CONFIRM_PER_DAY = 5


class SubscriptionError(EvwireError):
    """A subscription request or preference that cannot be accepted; the message says why."""


class QueryInputError(SubscriptionError):
    """A keyword alert that does not parse: which one (``index``), where (``position``) and why."""

    def __init__(self, message: str, index: int, position: int | None, reason: str) -> None:
        super().__init__(message)
        self.index = index
        self.position = position
        self.reason = reason


# --- helpers --------------------------------------------------------------------------------


def normalize_email(address: str) -> str:
    """The stored form of an address: checked, then lower-cased whole (mailboxes that differ only in
    case are one person in practice). Raises ``alerts.mail.AddressError`` (an EvwireError) if unusable."""
    from evwire.alerts.mail import validate_address

    return validate_address(address.strip()).lower()


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SubscriptionError(
            f"unknown time zone {name[:60]!r}; use an IANA name like Europe/Berlin"
        ) from exc
    return name


def _company_ids(session: Session, slugs: Iterable[str]) -> dict[str, int]:
    wanted = sorted({s.strip().lower() for s in slugs if s and s.strip()})
    if not wanted:
        return {}
    found = dict(session.execute(select(Company.slug, Company.id).where(Company.slug.in_(wanted))).all())
    missing = [s for s in wanted if s not in found]
    if missing:
        raise NotFoundError(f"no channel {', '.join(missing)}; see `evwire channels list`")
    return found


def _upsert_meta(session: Session, key: str, value: str, now: datetime) -> None:
    dialect = session.get_bind().dialect.name
    ins = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = ins(MetaValue).values(key=key, value=value, updated_at=now)
    stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value, "updated_at": now})
    session.execute(stmt)


def bump_alerts_version(session: Session, now: datetime) -> None:
    """Tell every matcher (in any process) that keyword alerts changed; commits with the change."""
    _upsert_meta(session, ALERTS_VERSION_KEY, uuid.uuid4().hex, now)


def alerts_version(session: Session) -> str:
    return session.scalar(select(MetaValue.value).where(MetaValue.key == ALERTS_VERSION_KEY)) or ""


def parse_queries(texts: Sequence[str]) -> list[str]:
    """Canonical texts (blank ones dropped, duplicates once); QueryInputError names the bad one."""
    from evwire.alerts.query import QueryError, parse_query, to_text

    out: list[str] = []
    for i, text in enumerate(texts):
        if not text or not text.strip():
            continue
        try:
            canonical = to_text(parse_query(text))
        except QueryError as exc:
            raise QueryInputError(
                f"keyword alert {i + 1}: {exc}", i, getattr(exc, "position", None), str(exc)
            ) from exc
        if canonical not in out:
            out.append(canonical)
    if len(out) > MAX_KEYWORD_ALERTS:
        raise SubscriptionError(f"at most {MAX_KEYWORD_ALERTS} keyword alerts per address")
    return out


# --- subscribers ----------------------------------------------------------------------------


def get_subscriber(session: Session, subscriber_id: int) -> Subscriber | None:
    return session.get(Subscriber, subscriber_id)


def get_subscriber_by_email(session: Session, email: str) -> Subscriber | None:
    try:
        address = normalize_email(email)
    except EvwireError:
        return None
    return session.scalar(select(Subscriber).where(Subscriber.email == address))


def _require(session: Session, subscriber_id: int) -> Subscriber:
    sub = session.get(Subscriber, subscriber_id)
    if sub is None:
        raise NotFoundError(f"no subscriber with id {subscriber_id}")
    return sub


def _follow(session: Session, sub: Subscriber, company_ids: Iterable[int], now: datetime) -> int:
    have = set(session.scalars(select(Subscription.company_id).where(Subscription.subscriber_id == sub.id)))
    added = 0
    for cid in company_ids:
        if cid not in have:
            session.add(Subscription(subscriber_id=sub.id, company_id=cid, created_at=now))
            have.add(cid)
            added += 1
    return added


def subscribe(
    session: Session,
    email: str,
    slugs: Iterable[str],
    *,
    now: datetime,
    digest: str | None = None,
    queries: Sequence[str] = (),
    hold_confirmed: bool = False,
) -> Subscriber:
    """Ask for alerts: the address follows ``slugs`` (and keyword ``queries``). Idempotent.

    A new address, or one that had unsubscribed, is ``pending`` until ``confirm``; a confirmed one
    stays confirmed and gains the channels; a suspended one stays suspended. The caller answers the
    same whatever the state (no enumeration) and sends a confirmation mail when the result is
    pending and ``may_send_confirmation`` allows. Raises AddressError for an unusable address,
    NotFoundError for an unknown channel, QueryInputError for a bad query.

    ``hold_confirmed`` is for requests anyone can make (the channel pages' box, the public API): a
    confirmed or suspended address is then left exactly as it is, because only its owner may change
    what it follows. The caller mails the owner a manage link with the additions pre-selected
    (``requested_additions`` says what they are). Operators (``evwire subscribers add``) add directly.
    """
    address = normalize_email(email)
    ids = _company_ids(session, slugs)
    texts = parse_queries(queries)
    if digest is not None and digest not in DIGESTS:
        raise SubscriptionError(f"digest must be one of {', '.join(DIGESTS)}, not {digest!r}")
    sub = session.scalar(select(Subscriber).where(Subscriber.email == address))
    if sub is None:
        sub = Subscriber(
            email=address,
            status="pending",
            created_at=now,
            digest=digest or "immediate",
            timezone="UTC",
            digest_hour=8,
            include_mentions=False,
            bounce_count=0,
            confirm_sends=0,
        )
        session.add(sub)
        session.flush()
    elif hold_confirmed and sub.status in ("confirmed", "suspended"):
        return sub  # a stranger may not change someone's alerts; the owner gets a link instead
    elif sub.status == "unsubscribed":
        sub.status, sub.confirmed_at, sub.unsubscribed_at = "pending", None, None
        if digest:
            sub.digest = digest
    _follow(session, sub, ids.values(), now)
    if texts:
        have = set(
            session.scalars(select(KeywordAlert.query_text).where(KeywordAlert.subscriber_id == sub.id))
        )
        new = [t for t in texts if t not in have]
        if len(have) + len(new) > MAX_KEYWORD_ALERTS:
            raise SubscriptionError(f"at most {MAX_KEYWORD_ALERTS} keyword alerts per address")
        for t in new:
            session.add(KeywordAlert(subscriber_id=sub.id, query_text=t, created_at=now))
        if new:
            bump_alerts_version(session, now)
    session.flush()
    return sub


def confirm(session: Session, subscriber_id: int, *, now: datetime) -> Subscriber:
    """The confirmation link was followed: confirmed from now on (bounces forgiven). Idempotent:
    an already confirmed subscriber keeps its ``confirmed_at``."""
    sub = _require(session, subscriber_id)
    if sub.status != "confirmed":
        sub.status, sub.confirmed_at, sub.unsubscribed_at = "confirmed", now, None
        sub.bounce_count = 0
        bump_alerts_version(session, now)  # its keyword alerts start to count
    session.flush()
    return sub


def unsubscribe_all(session: Session, subscriber_id: int, *, now: datetime) -> Subscriber:
    """Stop everything for this address: channels and keyword alerts deleted, own targets turned off,
    pending alerts skipped."""
    sub = _require(session, subscriber_id)
    sub.status, sub.unsubscribed_at = "unsubscribed", now
    session.execute(delete(Subscription).where(Subscription.subscriber_id == sub.id))
    session.execute(delete(KeywordAlert).where(KeywordAlert.subscriber_id == sub.id))
    session.execute(
        update(OutboxRow)
        .where(OutboxRow.subscriber_id == sub.id, OutboxRow.status == "pending")
        .values(status="skipped", last_error="unsubscribed")
    )
    own_targets = select(AlertTarget.id).where(AlertTarget.subscriber_id == sub.id).scalar_subquery()
    session.execute(
        update(OutboxRow)
        .where(OutboxRow.target_id.in_(own_targets), OutboxRow.status == "pending")
        .values(status="skipped", last_error="unsubscribed")
    )
    session.execute(update(AlertTarget).where(AlertTarget.subscriber_id == sub.id).values(active=False))
    bump_alerts_version(session, now)
    session.flush()
    session.expire(sub, ["subscriptions", "keyword_alerts"])
    return sub


def update_preferences(
    session: Session,
    subscriber_id: int,
    *,
    digest: str | None = None,
    timezone: str | None = None,
    digest_hour: int | None = None,
    include_mentions: bool | None = None,
    slugs: Iterable[str] | None = None,
    queries: Sequence[str] | None = None,
    now: datetime | None = None,
) -> Subscriber:
    """Change what the manage page shows; ``None`` leaves a value as it is. ``slugs`` and ``queries``
    replace the lists. Nothing changes when one value is invalid (checked before any write).
    Pending alerts follow a change of digest mode or hour."""
    now = now or datetime.now(UTC)
    sub = _require(session, subscriber_id)
    if digest is not None and digest not in DIGESTS:
        raise SubscriptionError(f"digest must be one of {', '.join(DIGESTS)}, not {digest!r}")
    if timezone is not None:
        check_timezone(timezone)
    if digest_hour is not None and not 0 <= int(digest_hour) <= 23:
        raise SubscriptionError("digest hour must be between 0 and 23")
    ids = _company_ids(session, slugs) if slugs is not None else None
    texts = parse_queries(queries) if queries is not None else None
    bump = False
    schedule_changed = any(
        v is not None and v != getattr(sub, k)
        for k, v in (("digest", digest), ("timezone", timezone), ("digest_hour", digest_hour))
    )
    if digest is not None:
        sub.digest = digest
    if timezone is not None:
        sub.timezone = timezone
    if digest_hour is not None:
        sub.digest_hour = int(digest_hour)
    if include_mentions is not None and bool(include_mentions) != sub.include_mentions:
        sub.include_mentions = bool(include_mentions)
        bump = True
    if ids is not None:
        keep = set(ids.values())
        session.execute(
            delete(Subscription).where(
                Subscription.subscriber_id == sub.id, Subscription.company_id.not_in(keep or {-1})
            )
        )
        _follow(session, sub, keep, now)
    if texts is not None:
        rows = list(session.scalars(select(KeywordAlert).where(KeywordAlert.subscriber_id == sub.id)))
        have = {r.query_text: r for r in rows}
        for text, row in have.items():
            if text not in texts:
                session.delete(row)
                bump = True
        for text in texts:
            if text not in have:
                session.add(KeywordAlert(subscriber_id=sub.id, query_text=text, created_at=now))
                bump = True
    if bump:
        bump_alerts_version(session, now)
    session.flush()
    if schedule_changed:
        reschedule_pending(session, sub, now=now)
    session.expire(sub, ["subscriptions", "keyword_alerts"])
    return sub


def set_status(session: Session, subscriber_id: int, status: str, *, now: datetime) -> Subscriber:
    """An operator's change (suspend, or back to confirmed)."""
    if status not in STATUSES:
        raise SubscriptionError(f"status must be one of {', '.join(STATUSES)}")
    if status == "confirmed":
        return confirm(session, subscriber_id, now=now)
    if status == "unsubscribed":
        return unsubscribe_all(session, subscriber_id, now=now)
    sub = _require(session, subscriber_id)
    sub.status = status
    bump_alerts_version(session, now)
    session.flush()
    return sub


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


def may_send_confirmation(
    session: Session, subscriber: Subscriber, *, now: datetime, record: bool = True
) -> bool:
    """Whether a confirmation mail may go to this address now (one per 5 minutes, 5 a day).

    With ``record`` (the default) a True answer also counts this send, in the caller's transaction.
    """
    last = subscriber.last_confirm_sent_at
    if last is not None and now - last < CONFIRM_GAP:
        return False
    window = subscriber.confirm_window_at
    sends = subscriber.confirm_sends or 0
    if window is None or now - window >= timedelta(days=1):
        window, sends = now, 0
    if sends >= CONFIRM_PER_DAY:
        return False
    if record:
        subscriber.confirm_window_at, subscriber.confirm_sends = window, sends + 1
        subscriber.last_confirm_sent_at = now
        session.flush()
    return True


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


# --- targets --------------------------------------------------------------------------------


def add_target(
    session: Session,
    url: str,
    *,
    channel: str | None = None,
    label: str = "",
    subscriber_id: int | None = None,
    policy: AddressPolicy | None = None,
    now: datetime,
) -> AlertTarget:
    """Attach an Apprise URL to a channel (``channel`` None: all news); every new article about it is
    posted there once. With ``subscriber_id``: the subscriber's own target, which gets what their
    mail gets (no channel); its URL must pass the address guard (``policy``, default strict)."""
    url = url.strip()
    if "://" not in url or len(url) > 2000 or any(c.isspace() for c in url):
        raise SubscriptionError(
            f"{url[:60]!r} is not an Apprise URL (like tgram://token/chat or json://host/path)"
        )
    if subscriber_id is not None:
        if channel:
            raise SubscriptionError("a subscriber's target follows their alerts; it takes no channel")
        _require(session, subscriber_id)
        try:
            check_subscriber_target(url, policy or AddressPolicy())
        except TargetRefused as exc:
            raise SubscriptionError(str(exc)) from exc
    company_id = _company_ids(session, [channel])[channel.strip().lower()] if channel else None
    target = AlertTarget(
        url=url, company_id=company_id, label=label.strip()[:200], subscriber_id=subscriber_id, created_at=now
    )
    session.add(target)
    session.flush()
    return target


def list_targets(session: Session) -> list[tuple[AlertTarget, str | None]]:
    rows = session.execute(
        select(AlertTarget, Company.slug)
        .outerjoin(Company, Company.id == AlertTarget.company_id)
        .order_by(AlertTarget.id)
    ).all()
    return list(rows)


def subscriber_targets(session: Session, subscriber_id: int) -> list[AlertTarget]:
    """A subscriber's own targets, oldest first."""
    return list(
        session.scalars(
            select(AlertTarget).where(AlertTarget.subscriber_id == subscriber_id).order_by(AlertTarget.id)
        )
    )


def remove_subscriber_target(session: Session, subscriber_id: int, target_id: int) -> None:
    """Remove one of this subscriber's own targets (never another's: the id comes from a form)."""
    target = session.get(AlertTarget, target_id)
    if target is None or target.subscriber_id != subscriber_id:
        raise NotFoundError(f"you have no target {target_id}")
    session.delete(target)
    session.flush()


def remove_target(session: Session, target_id: int) -> None:
    target = session.get(AlertTarget, target_id)
    if target is None:
        raise NotFoundError(f"no target with id {target_id}")
    session.delete(target)
    session.flush()
