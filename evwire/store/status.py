"""What an operator checks first: feeds by status, feeds in error, articles, queues and their lag.

    report = collect_status(session, now=utcnow())     # a StatusReport: sections of named values
    register_section("alerts", my_section)             # more sections: fn(session, now) -> Section | None

Read-only, one query per figure, cheap enough for ``evwire status`` and a Prometheus scrape. Queue
tables are looked up by name at run time (``outbox``): a database migrated before they existed
simply has no queue section. Other parts add sections with ``register_section``; a section that
fails is reported as an error in the report instead of failing the whole status.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from evwire.store.tables import UTCDateTime

log = logging.getLogger(__name__)
FEEDS_IN_ERROR_SHOWN = 20


@dataclass
class Section:
    """One block of the status: ``values`` (name -> number or text) and optional ``rows`` (a table)."""

    title: str
    values: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class StatusReport:
    at: datetime
    sections: dict[str, Section] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # section name -> what went wrong

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "sections": {
                name: {"title": s.title, "values": s.values, "rows": s.rows}
                for name, s in self.sections.items()
            },
            "errors": self.errors,
        }


SectionFn = Callable[[Session, datetime], Section | None]
_SECTIONS: dict[str, SectionFn] = {}


def register_section(name: str, fn: SectionFn) -> None:
    """Add (or replace) a status section; ``fn`` returns None when it has nothing to say."""
    _SECTIONS[name] = fn


def collect_status(session: Session, *, now: datetime, only: list[str] | None = None) -> StatusReport:
    report = StatusReport(at=now)
    for name, fn in _SECTIONS.items():
        if only and name not in only:
            continue
        try:
            with session.begin_nested():
                section = fn(session, now)
        except Exception as exc:  # noqa: BLE001 - one broken section must not hide the others
            log.warning("status section %s failed", name, exc_info=True)
            report.errors[name] = f"{type(exc).__name__}: {exc}"
            continue
        if section is not None:
            report.sections[name] = section
    return report


def _table(session: Session, name: str) -> bool:
    return sa.inspect(session.connection()).has_table(name)


def _age_seconds(now: datetime, at: datetime | None) -> float | None:
    if at is None:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=now.tzinfo)
    return max(0.0, (now - at).total_seconds())


def feeds_section(session: Session, now: datetime) -> Section | None:
    if not _table(session, "feeds"):
        return None
    feeds = sa.table(
        "feeds",
        sa.column("id"),
        sa.column("url"),
        sa.column("title"),
        sa.column("status"),
        sa.column("last_error"),
        sa.column("last_error_at", UTCDateTime()),
        sa.column("error_count"),
        sa.column("next_poll_at", UTCDateTime()),
    )
    section = Section("Feeds")
    by_status = session.execute(sa.select(feeds.c.status, sa.func.count()).group_by(feeds.c.status)).all()
    section.values["total"] = sum(n for _, n in by_status)
    for status, n in sorted(by_status):
        section.values[str(status)] = n
    in_error = feeds.c.last_error.is_not(None)
    section.values["in error"] = session.scalar(sa.select(sa.func.count()).where(in_error)) or 0
    section.values["due now"] = (
        session.scalar(
            sa.select(sa.func.count()).where(feeds.c.status == "active", feeds.c.next_poll_at <= now)
        )
        or 0
    )
    rows = session.execute(
        sa.select(feeds.c.id, feeds.c.url, feeds.c.error_count, feeds.c.last_error_at, feeds.c.last_error)
        .where(in_error)
        .order_by(feeds.c.error_count.desc(), feeds.c.id)
        .limit(FEEDS_IN_ERROR_SHOWN)
    ).all()
    section.rows = [
        {
            "feed_id": r.id,
            "url": r.url,
            "errors": r.error_count,
            "since": r.last_error_at.isoformat() if r.last_error_at else None,
            "last_error": r.last_error,
        }
        for r in rows
    ]
    return section


def articles_section(session: Session, now: datetime) -> Section | None:
    articles = sa.table("articles", sa.column("id"), sa.column("created_at", UTCDateTime()))
    section = Section("Articles")
    section.values["total"] = session.scalar(sa.select(sa.func.count()).select_from(articles)) or 0
    since = now - timedelta(hours=24)
    section.values["last 24 h"] = (
        session.scalar(sa.select(sa.func.count()).where(articles.c.created_at >= since)) or 0
    )
    newest = session.scalar(sa.select(sa.func.max(articles.c.created_at)))
    section.values["newest"] = newest.isoformat() if newest else None
    return section


def outbox_section(session: Session, now: datetime) -> Section | None:
    """Alert queue depth by status, what is due, and the oldest pending alert (the lag)."""
    if not _table(session, "outbox"):
        return None
    outbox = sa.table(
        "outbox",
        sa.column("status"),
        sa.column("next_attempt_at", UTCDateTime()),
        sa.column("created_at", UTCDateTime()),
    )
    section = Section("Alert queue (outbox)")
    by_status: dict[Any, Any] = dict(
        session.execute(sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status)).all()
    )
    for status in ("pending", "sending", "sent", "failed", "skipped"):
        section.values[status] = by_status.pop(status, 0)
    section.values.update({str(k): v for k, v in by_status.items()})
    pending = outbox.c.status == "pending"
    section.values["due now"] = (
        session.scalar(sa.select(sa.func.count()).where(pending, outbox.c.next_attempt_at <= now)) or 0
    )
    oldest = session.scalar(sa.select(sa.func.min(outbox.c.created_at)).where(pending))
    section.values["oldest pending"] = oldest.isoformat() if oldest else None
    section.values["oldest pending age s"] = _age_seconds(now, oldest)
    return section


register_section("feeds", feeds_section)
register_section("articles", articles_section)
register_section("outbox", outbox_section)


def queue_depths(session: Session, now: datetime) -> dict[str, float]:
    """Numbers for gauges: outbox rows by status, due, oldest pending age; feeds due and in error."""
    out: dict[str, float] = {}
    report = collect_status(session, now=now, only=["feeds", "outbox"])
    feeds = report.sections.get("feeds")
    if feeds:
        out["feeds_due"] = float(feeds.values.get("due now", 0))
        out["feeds_in_error"] = float(feeds.values.get("in error", 0))
    outbox = report.sections.get("outbox")
    if outbox:
        for key in ("pending", "sending", "failed"):
            out[f"outbox_{key}"] = float(outbox.values.get(key, 0))
        out["outbox_due"] = float(outbox.values.get("due now", 0))
        out["outbox_oldest_pending_seconds"] = float(outbox.values.get("oldest pending age s") or 0.0)
    return out
