"""The outbox: rows to deliver, claimed with leases, results recorded. Functions never commit.

Rows are inserted with ON CONFLICT DO NOTHING (UNIQUE(subscriber_id, article_id) and
UNIQUE(target_id, article_id)): a second match of the same article adds nothing. A claim is one
UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING: on PostgreSQL concurrent
workers skip each other's rows; on SQLite the statement is one write transaction. A row whose
lease ran out (its worker died) is claimable again. See docs/decisions/0010-outbox.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Table, and_, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from evwire.store.tables import DeliveryAttempt, OutboxRow, Subscriber

MAX_ATTEMPTS = 12  # about two days of backoff with the default 30 s .. 6 h
BOUNCES_TO_SUSPEND = 3
INSERT_CHUNK = 5000
_OUTBOX = cast(Table, OutboxRow.__table__)


# --- digest schedule (pure) -----------------------------------------------------------------


def next_digest_at(now: datetime, digest: str, timezone: str, hour: int) -> datetime:
    """The next time (UTC) a ``daily`` or ``weekly`` (Mondays) digest is due after ``now``:
    ``hour``:00 in ``timezone``. ``immediate`` is due now."""
    if digest == "immediate":
        return now
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    local = now.astimezone(tz)
    at = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if at <= local:
        at += timedelta(days=1)
    if digest == "weekly":
        at += timedelta(days=(7 - at.weekday()) % 7)
    # rebuild from the wall clock so a DST change in between lands on the right hour
    at = datetime(at.year, at.month, at.day, hour, tzinfo=tz)
    return at.astimezone(UTC)


def reschedule_pending(session: Session, sub: Subscriber, *, now: datetime) -> int:
    """After a change of digest mode, hour or time zone: pending rows follow the new schedule."""
    kind = "immediate" if sub.digest == "immediate" else "digest"
    due = next_digest_at(now, sub.digest, sub.timezone, sub.digest_hour)
    result = session.execute(
        update(OutboxRow)
        .where(OutboxRow.subscriber_id == sub.id, OutboxRow.status == "pending", OutboxRow.attempts == 0)
        .values(kind=kind, next_attempt_at=due)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- inserting ------------------------------------------------------------------------------


def insert_rows(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert outbox rows, ignoring those that already exist. Returns how many were offered."""
    if not rows:
        return 0
    ins = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for start in range(0, len(rows), INSERT_CHUNK):
        session.execute(ins(OutboxRow).on_conflict_do_nothing(), list(rows[start : start + INSERT_CHUNK]))
    return len(rows)


# --- claiming -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    id: int
    subscriber_id: int | None
    target_id: int | None
    article_id: int
    reasons: dict[str, Any]
    kind: str
    attempts: int


_CLAIM_COLUMNS = (
    OutboxRow.id,
    OutboxRow.subscriber_id,
    OutboxRow.target_id,
    OutboxRow.article_id,
    OutboxRow.reasons,
    OutboxRow.kind,
    OutboxRow.attempts,
)


def _due(now: datetime) -> Any:
    return or_(
        and_(OutboxRow.status == "pending", OutboxRow.next_attempt_at <= now),
        and_(OutboxRow.status == "sending", OutboxRow.lease_until < now),
    )


def claim_due(
    session: Session, worker: str, *, now: datetime, lease: timedelta, limit: int = 200
) -> list[Claimed]:
    """Claim up to ``limit`` due immediate rows (pending, or leased by a worker that went away)."""
    pick = (
        select(OutboxRow.id)
        .where(OutboxRow.kind == "immediate", _due(now))
        .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        update(OutboxRow)
        .where(OutboxRow.id.in_(pick.scalar_subquery()))
        .values(status="sending", claimed_by=worker, lease_until=now + lease)
        .returning(*_CLAIM_COLUMNS)
        .execution_options(synchronize_session=False)
    )
    rows = [Claimed(*r) for r in session.execute(stmt).all()]
    rows.sort(key=lambda r: r.id)
    return rows


def claim_digests(
    session: Session, worker: str, *, now: datetime, lease: timedelta, subscribers: int = 50
) -> list[Claimed]:
    """Claim every due digest row of up to ``subscribers`` subscribers (a digest is never split).

    On PostgreSQL the subscriber rows are locked (SKIP LOCKED) so two workers take different people.
    """
    due_subs = select(OutboxRow.subscriber_id).where(OutboxRow.kind == "digest", _due(now))
    pick = (
        select(Subscriber.id)
        .where(Subscriber.id.in_(due_subs))
        .order_by(Subscriber.id)
        .limit(subscribers)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        update(OutboxRow)
        .where(OutboxRow.kind == "digest", _due(now), OutboxRow.subscriber_id.in_(pick.scalar_subquery()))
        .values(status="sending", claimed_by=worker, lease_until=now + lease)
        .returning(*_CLAIM_COLUMNS)
        .execution_options(synchronize_session=False)
    )
    rows = [Claimed(*r) for r in session.execute(stmt).all()]
    rows.sort(key=lambda r: r.id)
    return rows


def release_dead(session: Session, dead: Iterable[str]) -> int:
    """Make rows claimed by the workers ``dead`` (ids of this host's senders that are gone) claimable at
    once, instead of after their lease. Only the named workers: a sender that claimed its first rows
    after the caller looked is alive by definition, and its rows must stay its own."""
    dead = list(dead)
    if not dead:
        return 0
    stmt = (
        update(OutboxRow)
        .where(OutboxRow.status == "sending", OutboxRow.claimed_by.in_(dead))
        .values(lease_until=datetime(2000, 1, 1, tzinfo=UTC))
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]


def release_claims(session: Session, ids: Iterable[int], worker: str) -> int:
    """Give back rows this worker claimed but will not send before its lease runs short, so they are
    claimable at once (by anyone) instead of being sent late by a worker whose lease has expired."""
    ids = list(ids)
    if not ids:
        return 0
    stmt = (
        update(OutboxRow)
        .where(OutboxRow.id.in_(ids), OutboxRow.status == "sending", OutboxRow.claimed_by == worker)
        .values(status="pending", claimed_by=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]


def claimed_workers(session: Session, prefix: str) -> list[str]:
    stmt = select(OutboxRow.claimed_by).where(
        OutboxRow.status == "sending", OutboxRow.claimed_by.like(prefix + "%")
    )
    return sorted({w for w in session.scalars(stmt.distinct()) if w})


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What happened to one claimed row (filled in by the sender, written by ``record_outcomes``)."""

    outbox_id: int
    outcome: str  # accepted | retry | bounce | skipped
    detail: str = ""
    code: int | None = None
    message_id: str | None = None
    subscriber_id: int | None = None
    retry_at: datetime | None = None


# Built once: building and caching a statement costs more than running it for a few rows.
_MARK_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("oid"))
    .values(
        status="sent",
        sent_at=bindparam("now"),
        message_id=bindparam("mid"),
        lease_until=None,
        attempts=_OUTBOX.c.attempts + 1,
    )
)
_INSERT_ATTEMPTS = cast(Table, DeliveryAttempt.__table__).insert()


def _attempt_rows(outcomes: Sequence[Outcome], worker: str, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "outbox_id": o.outbox_id,
            "at": now,
            "outcome": o.outcome,
            "code": o.code,
            "detail": o.detail[:2000],
            "worker": worker,
        }
        for o in outcomes
    ]


def record_sent(conn: Connection, outcomes: Sequence[Outcome], worker: str, *, now: datetime) -> None:
    """``record_outcomes`` for a batch of accepted rows only, on a plain connection (the fan-out's
    hot path: one executemany for the rows, one for their delivery_attempts)."""
    if any(o.outcome != "accepted" for o in outcomes):
        raise ValueError("record_sent takes accepted outcomes only")
    if outcomes:
        conn.execute(_MARK_SENT, [{"oid": o.outbox_id, "mid": o.message_id, "now": now} for o in outcomes])
        conn.execute(_INSERT_ATTEMPTS, _attempt_rows(outcomes, worker, now))


def record_outcomes(session: Session, outcomes: Sequence[Outcome], worker: str, *, now: datetime) -> None:
    """Write a batch of results: sent rows, retries (back to pending), bounces (failed; the subscriber
    suspended at the third), skips; every try is a delivery_attempts row."""
    sent = [o for o in outcomes if o.outcome == "accepted"]
    if sent:
        session.execute(_MARK_SENT, [{"oid": o.outbox_id, "mid": o.message_id, "now": now} for o in sent])
    for o in outcomes:
        if o.outcome == "retry":
            row = session.get(OutboxRow, o.outbox_id)
            if row is None or row.status == "sent":
                continue
            row.attempts += 1
            row.last_error = o.detail[:2000]
            row.lease_until = None
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
            else:
                row.status = "pending"
                row.next_attempt_at = o.retry_at or now
        elif o.outcome == "bounce":
            row = session.get(OutboxRow, o.outbox_id)
            if row is None or row.status == "sent":
                continue
            row.attempts += 1
            row.status, row.last_error, row.lease_until = "failed", o.detail[:2000], None
        elif o.outcome == "skipped":
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == o.outbox_id, OutboxRow.status != "sent")
                .values(status="skipped", last_error=o.detail[:2000], lease_until=None)
                .execution_options(synchronize_session=False)
            )
    bounced = Counter(o.subscriber_id for o in outcomes if o.outcome == "bounce" and o.subscriber_id)
    for sid, n in sorted(bounced.items()):
        sub = session.get(Subscriber, sid)
        if sub is None:
            continue
        sub.bounce_count = (sub.bounce_count or 0) + n
        if sub.bounce_count >= BOUNCES_TO_SUSPEND and sub.status == "confirmed":
            sub.status = "suspended"
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.subscriber_id == sid, OutboxRow.status == "pending")
                .values(status="skipped", last_error="address suspended after bounces")
                .execution_options(synchronize_session=False)
            )
    attempts = _attempt_rows(
        [o for o in outcomes if o.outcome in ("accepted", "retry", "bounce")], worker, now
    )
    if attempts:
        session.execute(_INSERT_ATTEMPTS, attempts)
    if len(sent) < len(outcomes):
        session.flush()


# --- reading (admin page, status) -----------------------------------------------------------


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    subscriber_id: int | None
    email: str | None
    target_id: int | None
    article_id: int
    article_title: str
    reasons: dict[str, Any]
    status: str
    kind: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime
    message_id: str | None


def list_outbox(
    session: Session, *, status: str | None = None, limit: int = 100, before_id: int | None = None
) -> list[OutboxEntry]:
    """Newest first; for the admin outbox page and `evwire send --list`."""
    from evwire.store.tables import Article

    stmt = (
        select(OutboxRow, Subscriber.email, Article.title)
        .outerjoin(Subscriber, Subscriber.id == OutboxRow.subscriber_id)
        .join(Article, Article.id == OutboxRow.article_id)
    )
    if status:
        stmt = stmt.where(OutboxRow.status == status)
    if before_id is not None:
        stmt = stmt.where(OutboxRow.id < before_id)
    stmt = stmt.order_by(OutboxRow.id.desc()).limit(limit)
    return [
        OutboxEntry(
            r.id,
            r.subscriber_id,
            email,
            r.target_id,
            r.article_id,
            title,
            dict(r.reasons or {}),
            r.status,
            r.kind,
            r.attempts,
            r.next_attempt_at,
            r.last_error,
            r.sent_at,
            r.created_at,
            r.message_id,
        )
        for r, email, title in session.execute(stmt).all()
    ]


def delivery_attempts(session: Session, outbox_id: int) -> list[DeliveryAttempt]:
    stmt = select(DeliveryAttempt).where(DeliveryAttempt.outbox_id == outbox_id).order_by(DeliveryAttempt.id)
    return list(session.scalars(stmt))


def outbox_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status)).all()
    return {status: int(n) for status, n in rows}


def oldest_pending_at(session: Session) -> datetime | None:
    return session.scalar(
        select(func.min(OutboxRow.created_at)).where(OutboxRow.status.in_(("pending", "sending")))
    )


def next_due_at(session: Session) -> datetime | None:
    """When the next row is due (a pending row's time, or a lease running out); None: nothing to do."""
    pending = session.scalar(select(func.min(OutboxRow.next_attempt_at)).where(OutboxRow.status == "pending"))
    leased = session.scalar(select(func.min(OutboxRow.lease_until)).where(OutboxRow.status == "sending"))
    times = [t for t in (pending, leased) if t is not None]
    return min(times) if times else None
