"""Read-side queries for the channel pages: the channel index, one channel's company, its page and
its RSS/Atom entries. Plain dataclasses out; no HTTP here.

A channel's articles come from ``store.queries`` (``_channel_article_rows`` picks the cheaper plan for
the channel's size); article lists, cursors and chips live there too. ``store.companies`` writes the
catalog into the ``companies`` table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, exists, func, literal, select, union_all
from sqlalchemy.orm import Session

from evwire.store.queries import (
    _CARD_COLS,
    _MAX_ID,
    VISIBLE_ROLES,
    ArticleCard,
    CardPage,
    ChannelRef,
    Cursor,
    _cards,
    _channel_article_rows,
    _run,
    as_utc,
    load_chips,
)
from evwire.store.tables import Article, Company, CompanyPerson, CompanyTicker, DeliveryFigure, Mention

_A, _M, _C = Article.__table__, Mention.__table__, Company.__table__
_T, _P = CompanyTicker.__table__, CompanyPerson.__table__


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
    has_figures: bool = True  # False: no delivery figures, so the page skips the chart panel


@dataclass(frozen=True)
class ChannelView:
    info: ChannelInfo
    about: CardPage
    also_mentioned: list[ArticleCard]


# -- prebuilt statements (as in store.queries: bound parameters, compiled once) ---------------

_COMPANY = select(
    _C.c.id,
    _C.c.slug,
    _C.c.name,
    _C.c.kind,
    _C.c.country,
    _C.c.website,
    _C.c.aliases,
    _C.c.products,
    _C.c.parent_slug,
    # Whether the chart panel has anything to draw: most channels have no figures, and the panel's
    # own queries were a fifth of an uncached channel page.
    exists().where(DeliveryFigure.__table__.c.company_id == _C.c.id).label("has_figures"),
).where(_C.c.slug == bindparam("slug"))
_ROLE_COUNTS = (
    select(_M.c.role, func.count())
    .where(_M.c.company_id == bindparam("cid"), _M.c.role.in_(VISIBLE_ROLES))
    .group_by(_M.c.role)
)
# tickers, people, sub-brands and parent of one company in one round trip
_COMPANY_EXTRAS = union_all(
    select(
        literal("ticker").label("k"), _T.c.exchange.label("a"), _T.c.symbol.label("b"), _T.c.id.label("o")
    ).where(_T.c.company_id == bindparam("cid")),
    select(literal("person"), _P.c.name, _P.c.role, _P.c.id).where(_P.c.company_id == bindparam("cid")),
    select(literal("child"), _C.c.slug, _C.c.name, _C.c.id).where(_C.c.parent_slug == bindparam("slug")),
    select(literal("parent"), _C.c.slug, _C.c.name, _C.c.id).where(_C.c.slug == bindparam("parent")),
)
_FEED_ROWS = select(*_CARD_COLS, _A.c.updated_at, _A.c.bullets, _A.c.body).where(
    _A.c.id.in_(bindparam("ids", expanding=True))
)


# -- channels --------------------------------------------------------------------------------


def role_counts(session: Session, company_id: int) -> tuple[int, int]:
    """(about, mentioned) article counts of one company, from the mentions index."""
    counts = dict(_run(session, _ROLE_COUNTS, cid=company_id))
    return counts.get("about", 0), counts.get("mentioned", 0)


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


def channel_index(
    session: Session, *, filter_text: str | None = None, counts: Mapping[int, tuple[int, int]] | None = None
) -> list[ChannelCount]:
    """Every company with its article counts, by name; ``filter_text`` matches name, slug, alias or ticker.
    ``counts`` is a recent ``mention_counts`` result, computed here when not given."""
    counts = mention_counts(session) if counts is None else counts
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


def channel_info(
    session: Session,
    slug: str,
    *,
    extras: bool = True,
    counts: Mapping[int, tuple[int, int]] | None = None,
) -> ChannelInfo | None:
    """The company behind a channel with its (about, mentioned) counts, exact unless ``counts`` (a
    recent ``mention_counts`` result) is given; ``extras=False`` skips tickers, people and brands."""
    rows = _run(session, _COMPANY, slug=slug)
    if not rows:
        return None
    c = rows[0]
    tickers: list[str] = []
    people: list[tuple[str, str]] = []
    children: list[ChannelRef] = []
    parent = None
    if extras:
        for kind, a, b, _order in sorted(
            _run(session, _COMPANY_EXTRAS, cid=c.id, slug=c.slug, parent=c.parent_slug or ""),
            key=lambda r: (r.k, r.o),
        ):
            if kind == "ticker":
                tickers.append(f"{a}:{b}")
            elif kind == "person":
                people.append((a, b))
            elif kind == "child":
                children.append(ChannelRef(a, b))
            else:
                parent = ChannelRef(a, b)
    about, mentioned = counts.get(c.id, (0, 0)) if counts is not None else role_counts(session, c.id)
    return ChannelInfo(
        id=c.id,
        slug=c.slug,
        name=c.name,
        kind=c.kind,
        country=c.country,
        website=c.website,
        aliases=list(c.aliases or []),
        products=list(c.products or []),
        tickers=tickers,
        people=people,
        parent=parent,
        children=sorted(children, key=lambda r: r.name.casefold()),
        about_count=about,
        mentioned_count=mentioned,
        has_figures=bool(c.has_figures),
    )


def channel_view(
    session: Session,
    slug: str,
    *,
    limit: int = 30,
    before: Cursor | None = None,
    mentioned_limit: int = 10,
    counts: Mapping[int, tuple[int, int]] | None = None,
) -> ChannelView | None:
    """Everything the channel page shows: the company, its latest about-articles, and a separate
    short list of articles that only mention it. Chips for both lists come from one query."""
    info = channel_info(session, slug, counts=counts)
    if info is None:
        return None
    total = session.connection().execute(_MAX_ID).scalar() or 0
    known = (info.about_count, info.mentioned_count) if counts is not None else (None, None)
    about_rows = _channel_article_rows(session, info.id, "about", limit, before, total, known[0])
    also_rows: Sequence = []
    if before is None:
        also_rows = _channel_article_rows(
            session, info.id, "mentioned", mentioned_limit, None, total, known[1]
        )
        also_rows = also_rows[:mentioned_limit]
    more = len(about_rows) > limit
    about_rows = about_rows[:limit]
    chips = load_chips(session, [r.id for r in about_rows] + [r.id for r in also_rows])
    items = _cards(about_rows, chips)
    nxt = (items[-1].published_at, items[-1].id) if more and items else None
    return ChannelView(info, CardPage(items, nxt), _cards(also_rows, chips))


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
    session: Session, company_id: int, *, limit: int = 30, known_count: int | None = None
) -> list[FeedEntry]:
    """The newest about-articles of a channel with their text, for RSS/Atom. ``known_count``: a
    recent count of them (see ``_channel_article_rows``)."""
    rows = _channel_article_rows(session, company_id, "about", limit, None, known_count=known_count)
    ids = [r.id for r in rows[:limit]]
    if not ids:
        return []
    by_id = {r.id: r for r in _run(session, _FEED_ROWS, ids=ids)}
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
