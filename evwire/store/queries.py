"""Read-side queries for pages, feeds and the JSON API. Plain dataclasses out; no HTTP here.

Lists use keyset pagination on ``(published_at, id)`` (the ``ix_articles_published_at_id`` index):
``before`` is the last row of the previous page. Channel chips for a page of articles come from
one query (``load_chips``), never one per article.

A channel's latest articles can be found two ways, and ``_channel_article_rows`` picks the cheaper
one from the channel's size (see docs/decisions/0004-web.md):

* *join*: every mention of the company (index ``ix_mentions_company_role_article``), joined to
  its article, top-N sorted: cost ~ number of the company's articles;
* *scan*: walk articles newest first on ``ix_articles_published_at_id`` and keep those with a
  mention (unique index on ``(article_id, company_id)``): cost ~ limit * total / company's articles.
"""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Select, bindparam, exists, func, select, tuple_
from sqlalchemy.orm import Session

from evwire.store.tables import (
    Article,
    ArticlePerson,
    ArticleTicker,
    Company,
    CompanyPerson,
    CompanyTicker,
    Mention,
)

VISIBLE_ROLES = ("about", "mentioned")
Cursor = tuple[datetime, int]


@dataclass(frozen=True)
class ChannelRef:
    slug: str
    name: str


@dataclass(frozen=True)
class ArticleCard:
    id: int
    title: str
    url: str | None
    source_name: str | None
    published_at: datetime
    about: tuple[ChannelRef, ...] = ()
    mentioned: tuple[ChannelRef, ...] = ()


@dataclass(frozen=True)
class CardPage:
    items: list[ArticleCard]
    next_before: Cursor | None  # pass as ``before`` for the next page; None on the last page


@dataclass(frozen=True)
class TickerRef:
    exchange: str
    symbol: str
    channel: ChannelRef | None

    @property
    def label(self) -> str:
        return f"{self.exchange}:{self.symbol}"


@dataclass(frozen=True)
class PersonRef:
    name: str
    role: str | None
    channel: ChannelRef | None


@dataclass(frozen=True)
class ArticleView:
    card: ArticleCard
    bullets: list[str]
    body: str
    image_url: str | None
    image_caption: str | None
    image_credit: str | None
    updated_at: datetime
    tickers: list[TickerRef] = field(default_factory=list)
    people: list[PersonRef] = field(default_factory=list)


@dataclass(frozen=True)
class ChannelCount:
    slug: str
    name: str
    kind: str
    country: str | None
    about_count: int
    mentioned_count: int


@dataclass(frozen=True)
class ChannelInfo:
    id: int
    slug: str
    name: str
    kind: str
    country: str | None
    website: str | None
    aliases: list[str]
    products: list[str]
    tickers: list[str]
    people: list[tuple[str, str]]  # (name, role)
    parent: ChannelRef | None
    children: list[ChannelRef]
    about_count: int
    mentioned_count: int


@dataclass(frozen=True)
class ChannelView:
    info: ChannelInfo
    about: CardPage
    also_mentioned: list[ArticleCard]


# -- cursors ---------------------------------------------------------------------------------


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def encode_cursor(before: Cursor) -> str:
    raw = f"{as_utc(before[0]).isoformat()}|{before[1]}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> Cursor:
    """Inverse of encode_cursor; raises ValueError on anything else."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        stamp, _, ident = raw.partition("|")
        return as_utc(datetime.fromisoformat(stamp)), int(ident)
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise ValueError("invalid cursor; use next_cursor from a previous page") from exc


# -- building blocks -------------------------------------------------------------------------


def _card_columns() -> Select:
    return select(Article.id, Article.title, Article.url, Article.source_name, Article.published_at)


def _newest_first(stmt: Select, before: Cursor | None) -> Select:
    if before is not None:
        stmt = stmt.where(tuple_(Article.published_at, Article.id) < tuple_(*_cursor_params(before)))
    return stmt.order_by(Article.published_at.desc(), Article.id.desc())


def _cursor_params(before: Cursor) -> tuple:
    return (
        bindparam("before_at", as_utc(before[0]), type_=Article.__table__.c.published_at.type),
        bindparam("before_id", before[1]),
    )


def load_chips(
    session: Session, article_ids: Iterable[int]
) -> dict[int, tuple[tuple[ChannelRef, ...], tuple[ChannelRef, ...]]]:
    """(about, mentioned) channels for many articles in one query; highest score first."""
    ids = list(dict.fromkeys(article_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Mention.article_id, Mention.role, Company.slug, Company.name)
        .join(Company, Company.id == Mention.company_id)
        .where(Mention.article_id.in_(ids), Mention.role.in_(VISIBLE_ROLES))
        .order_by(Mention.article_id, Mention.score.desc(), Company.name)
    ).all()
    about: dict[int, list[ChannelRef]] = defaultdict(list)
    mentioned: dict[int, list[ChannelRef]] = defaultdict(list)
    for article_id, role, slug, name in rows:
        (about if role == "about" else mentioned)[article_id].append(ChannelRef(slug, name))
    return {i: (tuple(about.get(i, ())), tuple(mentioned.get(i, ()))) for i in ids}


def _cards(session: Session, rows: Sequence) -> list[ArticleCard]:
    chips = load_chips(session, (r.id for r in rows))
    return [
        ArticleCard(
            id=r.id,
            title=r.title,
            url=r.url,
            source_name=r.source_name,
            published_at=as_utc(r.published_at),
            about=chips[r.id][0],
            mentioned=chips[r.id][1],
        )
        for r in rows
    ]


def _page(session: Session, rows: Sequence, limit: int) -> CardPage:
    more = len(rows) > limit
    rows = rows[:limit]
    items = _cards(session, rows)
    nxt = (items[-1].published_at, items[-1].id) if more and items else None
    return CardPage(items, nxt)


# -- lists -----------------------------------------------------------------------------------


def latest_articles(session: Session, *, limit: int = 30, before: Cursor | None = None) -> CardPage:
    """The newest articles of all channels, with their chips."""
    rows = session.execute(_newest_first(_card_columns(), before).limit(limit + 1)).all()
    return _page(session, rows, limit)


def _company_id(session: Session, slug: str) -> int | None:
    return session.scalar(select(Company.id).where(Company.slug == slug))


def count_mentions(session: Session, company_id: int, role: str) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Mention)
            .where(Mention.company_id == company_id, Mention.role == role)
        )
        or 0
    )


def _channel_article_rows(
    session: Session, company_id: int, role: str, limit: int, before: Cursor | None, count: int
) -> Sequence:
    has_mention = (Mention.article_id == Article.id, Mention.company_id == company_id, Mention.role == role)
    total = session.scalar(select(func.max(Article.id))) or 0  # cheap estimate of the table size
    if count * count <= (limit + 1) * total:
        stmt = _newest_first(_card_columns().join(Mention, Mention.article_id == Article.id), before).where(
            Mention.company_id == company_id, Mention.role == role
        )
    else:
        stmt = _newest_first(_card_columns(), before).where(exists().where(*has_mention))
    return session.execute(stmt.limit(limit + 1)).all()


def channel_articles(
    session: Session,
    slug: str,
    *,
    role: str = "about",
    limit: int = 30,
    before: Cursor | None = None,
) -> CardPage | None:
    """A channel's articles (role ``about`` or ``mentioned``), newest first; None if no such channel."""
    company_id = _company_id(session, slug)
    if company_id is None:
        return None
    count = count_mentions(session, company_id, role)
    if count == 0:
        return CardPage([], None)
    return _page(session, _channel_article_rows(session, company_id, role, limit, before, count), limit)


def articles_page(
    session: Session,
    *,
    channel: str | None = None,
    role: str = "about",
    limit: int = 30,
    before: Cursor | None = None,
) -> CardPage | None:
    """Either the latest articles or one channel's; None when the channel does not exist."""
    if channel is None:
        return latest_articles(session, limit=limit, before=before)
    return channel_articles(session, channel, role=role, limit=limit, before=before)


# -- one article -----------------------------------------------------------------------------


def article_view(session: Session, article_id: int) -> ArticleView | None:
    art = session.get(Article, article_id)
    if art is None:
        return None
    about, mentioned = load_chips(session, [article_id])[article_id]
    tickers = [
        TickerRef(ex, sym, ChannelRef(slug, name) if slug else None)
        for ex, sym, slug, name in session.execute(
            select(ArticleTicker.exchange, ArticleTicker.symbol, Company.slug, Company.name)
            .outerjoin(Company, Company.id == ArticleTicker.company_id)
            .where(ArticleTicker.article_id == article_id)
            .order_by(ArticleTicker.id)
        )
    ]
    people = [
        PersonRef(pname, role or None, ChannelRef(slug, cname) if slug else None)
        for pname, slug, cname, role in session.execute(
            select(ArticlePerson.name, Company.slug, Company.name, CompanyPerson.role)
            .outerjoin(Company, Company.id == ArticlePerson.company_id)
            .outerjoin(
                CompanyPerson,
                (CompanyPerson.company_id == ArticlePerson.company_id)
                & (CompanyPerson.name == ArticlePerson.name),
            )
            .where(ArticlePerson.article_id == article_id)
            .order_by(ArticlePerson.id)
        )
    ]
    card = ArticleCard(
        id=art.id,
        title=art.title,
        url=art.url,
        source_name=art.source_name,
        published_at=as_utc(art.published_at),
        about=about,
        mentioned=mentioned,
    )
    return ArticleView(
        card=card,
        bullets=list(art.bullets or []),
        body=art.body or "",
        image_url=art.image_url,
        image_caption=art.image_caption,
        image_credit=art.image_credit,
        updated_at=as_utc(art.updated_at),
        tickers=list(dict.fromkeys(tickers)),
        people=list(dict.fromkeys(people)),
    )


# -- channels --------------------------------------------------------------------------------


def mention_counts(session: Session) -> dict[int, tuple[int, int]]:
    """company_id -> (about, mentioned) counts, from one pass over the mentions index."""
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for company_id, role, n in session.execute(
        select(Mention.company_id, Mention.role, func.count())
        .where(Mention.role.in_(VISIBLE_ROLES))
        .group_by(Mention.company_id, Mention.role)
    ):
        out[company_id][0 if role == "about" else 1] = n
    return {k: (v[0], v[1]) for k, v in out.items()}


def channel_index(session: Session, *, filter_text: str | None = None) -> list[ChannelCount]:
    """Every company with its article counts, by name; ``filter_text`` matches name, slug, alias or ticker."""
    counts = mention_counts(session)
    companies = session.execute(
        select(
            Company.id, Company.slug, Company.name, Company.kind, Company.country, Company.aliases
        ).order_by(func.lower(Company.name))
    ).all()
    needle = (filter_text or "").strip().casefold()
    tickers: dict[int, list[str]] = defaultdict(list)
    if needle:
        for cid, ex, sym in session.execute(
            select(CompanyTicker.company_id, CompanyTicker.exchange, CompanyTicker.symbol)
        ):
            tickers[cid].append(f"{ex}:{sym}")
    out = []
    for cid, slug, name, kind, country, aliases in companies:
        if needle:
            hay = " ".join([slug, name, *(aliases or []), *tickers[cid]]).casefold()
            if needle not in hay:
                continue
        about, mentioned = counts.get(cid, (0, 0))
        out.append(ChannelCount(slug, name, kind, country, about, mentioned))
    return out


def channel_refs(session: Session) -> list[ChannelRef]:
    """Every channel's slug and name, by name (no counts: cheap)."""
    rows = session.execute(select(Company.slug, Company.name).order_by(func.lower(Company.name)))
    return [ChannelRef(slug, name) for slug, name in rows]


def channel_info(session: Session, slug: str) -> ChannelInfo | None:
    company = session.scalar(select(Company).where(Company.slug == slug))
    if company is None:
        return None
    tickers = [
        f"{ex}:{sym}"
        for ex, sym in session.execute(
            select(CompanyTicker.exchange, CompanyTicker.symbol)
            .where(CompanyTicker.company_id == company.id)
            .order_by(CompanyTicker.id)
        )
    ]
    people = [
        (n, r)
        for n, r in session.execute(
            select(CompanyPerson.name, CompanyPerson.role)
            .where(CompanyPerson.company_id == company.id)
            .order_by(CompanyPerson.id)
        )
    ]
    parent = None
    if company.parent_slug:
        row = session.execute(
            select(Company.slug, Company.name).where(Company.slug == company.parent_slug)
        ).first()
        parent = ChannelRef(row.slug, row.name) if row else None
    children = [
        ChannelRef(s, n)
        for s, n in session.execute(
            select(Company.slug, Company.name)
            .where(Company.parent_slug == company.slug)
            .order_by(Company.name)
        )
    ]
    return ChannelInfo(
        id=company.id,
        slug=company.slug,
        name=company.name,
        kind=company.kind,
        country=company.country,
        website=company.website,
        aliases=list(company.aliases or []),
        products=list(company.products or []),
        tickers=tickers,
        people=people,
        parent=parent,
        children=children,
        about_count=count_mentions(session, company.id, "about"),
        mentioned_count=count_mentions(session, company.id, "mentioned"),
    )


def channel_view(
    session: Session, slug: str, *, limit: int = 30, before: Cursor | None = None, mentioned_limit: int = 10
) -> ChannelView | None:
    """Everything the channel page shows: the company, its latest about-articles, and a separate
    short list of articles that only mention it."""
    info = channel_info(session, slug)
    if info is None:
        return None
    about = (
        _page(
            session, _channel_article_rows(session, info.id, "about", limit, before, info.about_count), limit
        )
        if info.about_count
        else CardPage([], None)
    )
    also: list[ArticleCard] = []
    if info.mentioned_count and before is None:
        rows = _channel_article_rows(
            session, info.id, "mentioned", mentioned_limit, None, info.mentioned_count
        )
        also = _cards(session, rows[:mentioned_limit])
    return ChannelView(info, about, also)


@dataclass(frozen=True)
class FeedEntry:
    id: int
    title: str
    url: str | None
    source_name: str | None
    published_at: datetime
    updated_at: datetime
    bullets: list[str]
    body: str


def channel_feed_entries(
    session: Session, company_id: int, *, count: int, limit: int = 30
) -> list[FeedEntry]:
    """The newest about-articles of a channel with their text, for RSS/Atom."""
    if count == 0:
        return []
    ids = [r.id for r in _channel_article_rows(session, company_id, "about", limit, None, count)[:limit]]
    if not ids:
        return []
    rows = session.execute(
        select(
            Article.id,
            Article.title,
            Article.url,
            Article.source_name,
            Article.published_at,
            Article.updated_at,
            Article.bullets,
            Article.body,
        ).where(Article.id.in_(ids))
    ).all()
    by_id = {r.id: r for r in rows}
    return [
        FeedEntry(
            id=r.id,
            title=r.title,
            url=r.url,
            source_name=r.source_name,
            published_at=as_utc(r.published_at),
            updated_at=as_utc(r.updated_at),
            bullets=list(r.bullets or []),
            body=r.body or "",
        )
        for r in (by_id[i] for i in ids)
    ]


def site_counts(session: Session) -> tuple[int, int]:
    """(articles, companies) for the metrics gauges."""
    return (
        session.scalar(select(func.count()).select_from(Article)) or 0,
        session.scalar(select(func.count()).select_from(Company)) or 0,
    )
