"""Alert targets: Apprise URLs that get new articles, an operator's (per channel, or all news) or a
subscriber's own (what their mail gets; checked by ``store.target_urls``). Never commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from evwire.errors import NotFoundError
from evwire.ingest.guard import AddressPolicy
from evwire.store.subscriptions import SubscriptionError, _company_ids, _require
from evwire.store.tables import AlertTarget, Company
from evwire.store.target_urls import TargetRefused, check_subscriber_target

MAX_OWN_TARGETS = 5  # per subscriber: each article they get is posted to every one of them


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
        same = session.scalar(
            select(AlertTarget).where(AlertTarget.subscriber_id == subscriber_id, AlertTarget.url == url)
        )
        if same is not None:  # the form sent twice: one target, or each alert is posted twice
            same.active = True
            session.flush()
            return same
        owned = session.scalar(
            select(func.count()).select_from(AlertTarget).where(AlertTarget.subscriber_id == subscriber_id)
        )
        if (owned or 0) >= MAX_OWN_TARGETS:
            raise SubscriptionError(
                f"you have {MAX_OWN_TARGETS} targets of your own, the most evwire keeps; remove one first"
            )
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
