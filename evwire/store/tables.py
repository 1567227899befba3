"""The data model, in one place. Alembic migrations in ``evwire/migrations`` follow this file."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.expression import false
from sqlalchemy.types import TypeDecorator

# Constraint names that are the same on SQLite and PostgreSQL, so migrations can name them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, list[Any]: JSON}


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are stored in UTC and read back timezone-aware (UTC) on both backends.

    SQLite keeps no offset, so values are converted to UTC on the way in and tagged UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Company(Base):
    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40), default="carmaker")
    country: Mapped[str | None] = mapped_column(String(8))
    parent_slug: Mapped[str | None] = mapped_column(String(80))
    website: Mapped[str | None] = mapped_column(String(500))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)  # incl. Chinese names
    products: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    tickers: Mapped[list[CompanyTicker]] = relationship(
        back_populates="company", cascade="all, delete-orphan", order_by="CompanyTicker.id"
    )
    people: Mapped[list[CompanyPerson]] = relationship(
        back_populates="company", cascade="all, delete-orphan", order_by="CompanyPerson.id"
    )


class CompanyTicker(Base):
    __tablename__ = "company_tickers"
    __table_args__ = (UniqueConstraint("exchange", "symbol"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    exchange: Mapped[str] = mapped_column(String(20))
    symbol: Mapped[str] = mapped_column(String(20))

    company: Mapped[Company] = relationship(back_populates="tickers")


class CompanyPerson(Base):
    __tablename__ = "company_people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200), default="")

    company: Mapped[Company] = relationship(back_populates="people")


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (Index("ix_articles_published_at_id", "published_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str | None] = mapped_column(String(2000), unique=True)
    title: Mapped[str] = mapped_column(Text)
    image_url: Mapped[str | None] = mapped_column(String(2000))
    bullets: Mapped[list[str]] = mapped_column(JSON, default=list)
    body: Mapped[str] = mapped_column(Text, default="")
    image_caption: Mapped[str | None] = mapped_column(Text)
    image_credit: Mapped[str | None] = mapped_column(String(500))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    source_name: Mapped[str | None] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)  # when evwire first stored it
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # feeds in (docs/decisions/0009-polling.md): the feed that brought it, its guid there, whether it
    # came in a new feed's first poll (backfill: shown, never alerted), and its story group
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="SET NULL"), index=True)
    guid: Mapped[str | None] = mapped_column(String(2000))
    is_backfill: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"), index=True)

    mentions: Mapped[list[Mention]] = relationship(back_populates="article", cascade="all, delete-orphan")
    tickers: Mapped[list[ArticleTicker]] = relationship(cascade="all, delete-orphan")
    people: Mapped[list[ArticlePerson]] = relationship(cascade="all, delete-orphan")


class Mention(Base):
    """A company in an article. ``origin='editor'`` rows are corrections and survive re-tagging.

    role is ``about`` or ``mentioned``; an editor may also set ``excluded`` to take a company off
    an article entirely (the automatic tag for it is then not stored again).
    """

    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("article_id", "company_id"),
        Index("ix_mentions_company_role_article", "company_id", "role", "article_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    score: Mapped[float] = mapped_column(Float, default=0.0)
    role: Mapped[str] = mapped_column(String(12))  # about | mentioned | excluded (editor only)
    origin: Mapped[str] = mapped_column(String(8), default="auto")  # auto | editor
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    article: Mapped[Article] = relationship(back_populates="mentions")
    company: Mapped[Company] = relationship()


class ArticleTicker(Base):
    __tablename__ = "article_tickers"
    __table_args__ = (UniqueConstraint("article_id", "exchange", "symbol"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    exchange: Mapped[str] = mapped_column(String(20))
    symbol: Mapped[str] = mapped_column(String(20))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="SET NULL"))

    company: Mapped[Company | None] = relationship()


class ArticlePerson(Base):
    __tablename__ = "article_people"
    __table_args__ = (UniqueConstraint("article_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="SET NULL"))

    company: Mapped[Company | None] = relationship()


class MetaValue(Base):
    """Small key/value facts about this instance, e.g. the hash of the catalog last synced."""

    __tablename__ = "meta_values"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class DeliveryFigure(Base):
    """One delivery/sales/production/orders figure for a company and period, from one source.

    Several rows may give the same figure (same company, period, metric, kind, scope) from different
    sources; ``store.figures.pick_shown`` decides which one a page shows (see docs/decisions/0008).
    """

    __tablename__ = "delivery_figures"
    __table_args__ = (
        Index("ix_delivery_figures_company_metric_start", "company_id", "metric", "period_start"),
        CheckConstraint("metric IN ('deliveries', 'sales', 'production', 'orders')", name="metric"),
        CheckConstraint("kind IN ('actual', 'target', 'guidance')", name="kind"),
        CheckConstraint("origin IN ('extracted', 'imported', 'editor')", name="origin"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(10))  # YYYY, YYYY-MM or YYYY-Qn
    period_start: Mapped[date] = mapped_column(Date)  # first day of the period, for sorting
    metric: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(12))
    value: Mapped[int] = mapped_column(BigInteger)
    lower_bound: Mapped[bool] = mapped_column(Boolean, default=False)  # "over 40,000"
    scope: Mapped[str | None] = mapped_column(String(80))  # None: company-wide; overseas, BEV, HIMA...
    source_url: Mapped[str | None] = mapped_column(String(2000))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    origin: Mapped[str] = mapped_column(String(12))  # extracted | imported | editor
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    company: Mapped[Company] = relationship()


class Feed(Base):
    """A followed feed with its fetch state; errors are kept on the row in words (``last_error``).

    status: ``active`` (polled when ``next_poll_at`` is due), ``paused`` (by an operator) or ``dead``
    (7 days of failure or HTTP 410; kept, resumable). ``claimed_until`` is a poller's lease on the row.
    """

    __tablename__ = "feeds"
    __table_args__ = (
        Index("ix_feeds_status_next_poll_at", "status", "next_poll_at"),
        CheckConstraint("status IN ('active', 'paused', 'dead')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    title: Mapped[str | None] = mapped_column(String(500))
    site_url: Mapped[str | None] = mapped_column(String(2000))
    category: Mapped[str | None] = mapped_column(String(500))  # OPML folder path, "News/China"
    status: Mapped[str] = mapped_column(String(8), default="active")
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    first_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    interval_seconds: Mapped[int] = mapped_column(Integer, default=3600)
    items_seen: Mapped[int] = mapped_column(Integer, default=0)
    full_text: Mapped[bool] = mapped_column(Boolean, default=False)  # fetch article pages for summaries
    backfilled: Mapped[bool] = mapped_column(Boolean, default=False)  # the first poll's items are stored
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    websub_hub: Mapped[str | None] = mapped_column(String(2000))
    websub_topic: Mapped[str | None] = mapped_column(String(2000))
    websub_secret: Mapped[str | None] = mapped_column(String(200))
    websub_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # verified lease end
    websub_renew_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class FeedItem(Base):
    """An item seen in a feed: its identity (guid), a fingerprint that changes on edits, the article
    it was stored as, and its story-grouping signature (MinHash bytes) for rebuilding the index."""

    __tablename__ = "feed_items"
    __table_args__ = (UniqueConstraint("feed_id", "guid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    guid: Mapped[str] = mapped_column(String(2000))
    fingerprint: Mapped[str] = mapped_column(String(64))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"), index=True)
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Story(Base):
    """One news story told by several sources: its articles point here (``articles.story_id``)."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- alerts (docs/decisions/0010-outbox.md) ------------------------------------------------


class Subscriber(Base):
    """An email address that asked for alerts (double opt-in: ``pending`` until the link is followed).

    ``digest``: ``immediate`` (a mail per article), ``daily`` or ``weekly`` (grouped, sent at
    ``digest_hour`` in ``timezone``). ``confirm_sends`` counts confirmation mails since
    ``confirm_window_at`` (the per-address rate limit).
    """

    __tablename__ = "subscribers"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'confirmed', 'unsubscribed', 'suspended')", name="status"),
        CheckConstraint("digest IN ('immediate', 'daily', 'weekly')", name="digest"),
        CheckConstraint("digest_hour >= 0 AND digest_hour <= 23", name="digest_hour"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # normalised (validate_address)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    digest: Mapped[str] = mapped_column(String(10), default="immediate")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    digest_hour: Mapped[int] = mapped_column(Integer, default=8)
    include_mentions: Mapped[bool] = mapped_column(Boolean, default=False)
    bounce_count: Mapped[int] = mapped_column(Integer, default=0)
    last_confirm_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirm_window_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirm_sends: Mapped[int] = mapped_column(Integer, default=0)
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", order_by="Subscription.id"
    )
    keyword_alerts: Mapped[list[KeywordAlert]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", order_by="KeywordAlert.id"
    )


class Subscription(Base):
    """A subscriber follows a channel (company)."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("subscriber_id", "company_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    subscriber: Mapped[Subscriber] = relationship(back_populates="subscriptions")
    company: Mapped[Company] = relationship()


class KeywordAlert(Base):
    """A stored keyword query; ``query_text`` is the canonical form (``alerts.query.to_text``)."""

    __tablename__ = "keyword_alerts"
    __table_args__ = (UniqueConstraint("subscriber_id", "query_text"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    query_text: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    subscriber: Mapped[Subscriber] = relationship(back_populates="keyword_alerts")


class AlertTarget(Base):
    """An Apprise URL that gets new articles: the operator's outlet for a channel (``company_id``)
    or for all news (``company_id`` NULL); ``subscriber_id`` set for a subscriber's own target."""

    __tablename__ = "alert_targets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    label: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboxRow(Base):
    """One delivery: an article to a subscriber (or a target), at most once (the UNIQUE pairs).

    ``status``: pending -> sending (claimed: ``claimed_by`` until ``lease_until``) -> sent | failed |
    skipped; a temporary failure goes back to pending with a later ``next_attempt_at``. ``kind``
    ``digest`` rows wait for the subscriber's digest hour (``next_attempt_at``) and go out grouped.
    ``reasons``: why it matched, ``{"channels": [slugs], "queries": [keyword_alert ids]}``.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "article_id"),
        UniqueConstraint("target_id", "article_id"),
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'skipped')", name="status"),
        CheckConstraint("kind IN ('immediate', 'digest')", name="kind"),
        CheckConstraint("(subscriber_id IS NULL) <> (target_id IS NULL)", name="one_recipient"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    target_id: Mapped[int | None] = mapped_column(ForeignKey("alert_targets.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    reasons: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    kind: Mapped[str] = mapped_column(String(10), default="immediate")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    message_id: Mapped[str | None] = mapped_column(String(300))


class DeliveryAttempt(Base):
    """Every try to deliver an outbox row: accepted, retry (temporary) or bounce (permanent)."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (CheckConstraint("outcome IN ('accepted', 'retry', 'bounce')", name="outcome"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    outcome: Mapped[str] = mapped_column(String(10))
    code: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text, default="")
    worker: Mapped[str | None] = mapped_column(String(100))
