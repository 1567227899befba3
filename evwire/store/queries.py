"""Read-side queries for article lists and one article, for the pages and the JSON API. Plain
dataclasses out; no HTTP here. The channel pages (index, company, page, feed entries) are in
``store.channels``, built on the lists, plans and chips here.

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
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sqlalchemy import (
    CompoundSelect,
    Row,
    Select,
    bindparam,
    exists,
    func,
    literal,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from evwire.store.figures import article_figure_companies
from evwire.store.stories import SourceRef, also_reported, story_lead_clause
from evwire.store.tables import (
    Article,
    ArticlePerson,
    ArticleTicker,
    Company,
    CompanyPerson,
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
    also: tuple[SourceRef, ...] = ()  # other sources of the same story ("also reported by")


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
    figure_companies: list[str] = field(default_factory=list)  # slugs it gave figures for, most first


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


# -- prebuilt statements (Core, bound parameters: built once, compiled once, cached by SQLAlchemy) ---

_A, _M, _C = Article.__table__, Mention.__table__, Company.__table__
_P = CompanyPerson.__table__
_AT, _AP = ArticleTicker.__table__, ArticlePerson.__table__

_CARD_COLS = (_A.c.id, _A.c.title, _A.c.url, _A.c.source_name, _A.c.published_at)
_BEFORE = tuple_(_A.c.published_at, _A.c.id) < tuple_(
    bindparam("before_at", type_=_A.c.published_at.type), bindparam("before_id")
)
_NEWEST = (_A.c.published_at.desc(), _A.c.id.desc())


def _keyset(base: Select) -> dict[bool, Select]:
    """The statement without and with a ``before`` cursor, newest first, ``:lim`` rows."""
    return {
        False: base.order_by(*_NEWEST).limit(bindparam("lim")),
        True: base.where(_BEFORE).order_by(*_NEWEST).limit(bindparam("lim")),
    }


_LATEST = _keyset(select(*_CARD_COLS).where(story_lead_clause(_A)))  # a story once, by its first article
# join strategy: all of the company's mentions (covering index), their articles, top-N sort
_CHANNEL_JOIN = _keyset(
    select(*_CARD_COLS)
    .join(_M, _M.c.article_id == _A.c.id)
    .where(_M.c.company_id == bindparam("cid"), _M.c.role == bindparam("role"))
)
# scan strategy: articles newest first (ix_articles_published_at_id), keep those with a mention
_CHANNEL_SCAN = _keyset(
    select(*_CARD_COLS).where(
        exists().where(
            _M.c.article_id == _A.c.id, _M.c.company_id == bindparam("cid"), _M.c.role == bindparam("role")
        )
    )
)
_MAX_ID = select(func.max(_A.c.id))
_CHIPS = (
    select(_M.c.article_id, _M.c.role, _C.c.slug, _C.c.name)
    .join(_C, _C.c.id == _M.c.company_id)
    .where(_M.c.article_id.in_(bindparam("ids", expanding=True)), _M.c.role.in_(VISIBLE_ROLES))
    .order_by(_M.c.article_id, _M.c.score.desc(), _C.c.name)
)
_ARTICLE = select(
    *_CARD_COLS,
    _A.c.updated_at,
    _A.c.bullets,
    _A.c.body,
    _A.c.image_url,
    _A.c.image_caption,
    _A.c.image_credit,
).where(_A.c.id == bindparam("id"))
_ARTICLE_TICKERS = (
    select(_AT.c.exchange, _AT.c.symbol, _C.c.slug, _C.c.name)
    .select_from(_AT.outerjoin(_C, _C.c.id == _AT.c.company_id))
    .where(_AT.c.article_id == bindparam("id"))
    .order_by(_AT.c.id)
)
_ARTICLE_PEOPLE = (
    select(_AP.c.name, _C.c.slug, _C.c.name.label("company_name"), _P.c.role)
    .select_from(
        _AP.outerjoin(_C, _C.c.id == _AP.c.company_id).outerjoin(
            _P, (_P.c.company_id == _AP.c.company_id) & (_P.c.name == _AP.c.name)
        )
    )
    .where(_AP.c.article_id == bindparam("id"))
    .order_by(_AP.c.id)
)


def _run(session: Session, stmt: Select | CompoundSelect, **params: object) -> Sequence[Row]:
    return session.connection().execute(stmt, params).all()


def _keyset_params(before: Cursor | None, limit: int) -> dict[str, object]:
    params: dict[str, object] = {"lim": limit + 1}
    if before is not None:
        params.update(before_at=as_utc(before[0]), before_id=before[1])
    return params


def load_chips(
    session: Session, article_ids: Iterable[int]
) -> dict[int, tuple[tuple[ChannelRef, ...], tuple[ChannelRef, ...]]]:
    """(about, mentioned) channels for many articles in one query; highest score first."""
    ids = list(dict.fromkeys(article_ids))
    if not ids:
        return {}
    about: dict[int, list[ChannelRef]] = defaultdict(list)
    mentioned: dict[int, list[ChannelRef]] = defaultdict(list)
    for article_id, role, slug, name in _run(session, _CHIPS, ids=ids):
        (about if role == "about" else mentioned)[article_id].append(ChannelRef(slug, name))
    return {i: (tuple(about.get(i, ())), tuple(mentioned.get(i, ()))) for i in ids}


def _cards(rows: Sequence, chips: dict) -> list[ArticleCard]:
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
    items = _cards(rows, load_chips(session, (r.id for r in rows)))
    also = also_reported(session, (r.id for r in rows))
    items = [replace(c, also=also[c.id]) if also.get(c.id) else c for c in items]
    nxt = (items[-1].published_at, items[-1].id) if more and items else None
    return CardPage(items, nxt)


# -- lists -----------------------------------------------------------------------------------


def latest_articles(session: Session, *, limit: int = 30, before: Cursor | None = None) -> CardPage:
    """The newest articles of all channels, with their chips."""
    rows = _run(session, _LATEST[before is not None], **_keyset_params(before, limit))
    return _page(session, rows, limit)


def _company_id(session: Session, slug: str) -> int | None:
    return (
        session.connection()
        .execute(select(_C.c.id).where(_C.c.slug == bindparam("slug")), {"slug": slug})
        .scalar()
    )


_PLAN_COUNT = select(func.count()).select_from(
    select(literal(1))
    .where(_M.c.company_id == bindparam("cid"), _M.c.role == bindparam("role"))
    .limit(bindparam("cap"))
    .subquery()
)


def _channel_article_rows(
    session: Session,
    company_id: int,
    role: str,
    limit: int,
    before: Cursor | None,
    total: int | None = None,
    known_count: int | None = None,
) -> Sequence:
    """The cheaper plan for this channel's size: join+sort costs ~count rows, the newest-first scan
    ~limit * total / count rows (see the module docstring). The count is taken only up to the
    break-even point, so choosing costs at most ~sqrt(limit * total) index entries; a ``known_count``
    (possibly stale) at or past that point skips counting, as the scan is right for any large channel."""
    if total is None:
        total = session.connection().execute(_MAX_ID).scalar() or 0  # cheap estimate of the table size
    cap = math.isqrt((limit + 1) * max(total, 1)) + 1
    if known_count is not None and known_count >= cap:
        count = cap
    else:
        params = {"cid": company_id, "role": role, "cap": cap}
        count = session.connection().execute(_PLAN_COUNT, params).scalar() or 0
        if not count:
            return []
    plan = _CHANNEL_JOIN if count < cap else _CHANNEL_SCAN
    return _run(session, plan[before is not None], cid=company_id, role=role, **_keyset_params(before, limit))


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
    return _page(session, _channel_article_rows(session, company_id, role, limit, before), limit)


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
    rows = _run(session, _ARTICLE, id=article_id)
    if not rows:
        return None
    art = rows[0]
    about, mentioned = load_chips(session, [article_id])[article_id]
    tickers = [
        TickerRef(ex, sym, ChannelRef(slug, name) if slug else None)
        for ex, sym, slug, name in _run(session, _ARTICLE_TICKERS, id=article_id)
    ]
    people = [
        PersonRef(pname, role or None, ChannelRef(slug, cname) if slug else None)
        for pname, slug, cname, role in _run(session, _ARTICLE_PEOPLE, id=article_id)
    ]
    card = ArticleCard(
        id=art.id,
        title=art.title,
        url=art.url,
        source_name=art.source_name,
        published_at=as_utc(art.published_at),
        about=about,
        mentioned=mentioned,
        also=also_reported(session, [article_id])[article_id],
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
        figure_companies=article_figure_companies(session, article_id),
    )


def site_counts(session: Session) -> tuple[int, int]:
    """(articles, companies) for the metrics gauges."""
    return (
        session.scalar(select(func.count()).select_from(Article)) or 0,
        session.scalar(select(func.count()).select_from(Company)) or 0,
    )
