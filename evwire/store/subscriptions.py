"""Subscribers and what they follow: subscribe, confirm, preferences, unsubscribe. Never commits.

A subscriber is an address (normalised by ``alerts.mail.validate_address``) with a status:
``pending`` until the confirmation link is followed, then ``confirmed``; ``unsubscribed`` (by the
subscriber: channels and keyword alerts deleted, pending alerts skipped) or ``suspended`` (after 3
bounces). Only confirmed subscribers get alerts, and only for articles evwire first stored after
``confirmed_at``.

What pages and commands show about subscribers is in ``store.subscriber_views``; alert targets
(Apprise URLs, an operator's or a subscriber's own) in ``store.targets``.

Keyword alerts are stored in their canonical text (``alerts.query.to_text``). Any change to them (or
to a subscriber's ``include_mentions``, which changes how ``company:`` terms match) bumps the
``alerts_version`` meta value in the same transaction: matchers in every process compare it and
rebuild their percolator (``alerts.matching.AlertMatcher``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from evwire.errors import EvwireError, NotFoundError
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
