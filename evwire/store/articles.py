"""Articles with their mentions, tickers and people. Functions take a Session and never commit.

Identity: an article is the same article when it has the same URL, or else the same content hash
(title + body, whitespace and case folded). Posting it again updates the row in place.

Mentions: ``origin='auto'`` rows come from the tagger and are replaced on every (re-)tagging;
``origin='editor'`` rows are corrections and are never touched by tagging. An editor row for a company
takes the place of any automatic one (one row per article and company), and role ``excluded``
takes the company off the article.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select
from sqlalchemy.orm import Session, selectinload

from evwire.errors import EvwireError, NotFoundError
from evwire.ingest.types import ParsedArticle
from evwire.store.companies import company_ids
from evwire.store.tables import Article, ArticlePerson, ArticleTicker, Base, Company, Mention
from evwire.tag.types import Tagging

EDITOR_ROLES = ("about", "mentioned", "excluded")
LIST_ROLES = ("about", "mentioned", "any")


def _load_options() -> list:
    return [
        selectinload(Article.mentions).selectinload(Mention.company),
        selectinload(Article.tickers).selectinload(ArticleTicker.company),
        selectinload(Article.people).selectinload(ArticlePerson.company),
    ]


def find_article(session: Session, parsed: ParsedArticle) -> Article | None:
    """The stored article `parsed` is a new version of: same URL, else same content."""
    if parsed.url:
        row = session.scalar(select(Article).where(Article.url == parsed.url))
        if row is not None:
            return row
    return session.scalar(select(Article).where(Article.content_hash == parsed.content_hash()))


def upsert_article(
    session: Session,
    parsed: ParsedArticle,
    tagging: Tagging,
    *,
    now: datetime,
    article_id: int | None = None,
    feed_id: int | None = None,
    guid: str | None = None,
    is_backfill: bool = False,
) -> tuple[Article, bool]:
    """Insert the article, or update the one with the same URL / content. Returns (article, created).

    On update the first URL stays (a re-post of the same text from another address is the same
    article), created_at is kept, and published_at is kept unless the new version gives one.
    ``article_id`` names the article this is a new version of (a feed item edited at its source).
    ``feed_id``, ``guid`` and ``is_backfill`` describe where a new article came from; an update
    keeps the original's.
    """
    digest = parsed.content_hash()
    row = session.get(Article, article_id) if article_id is not None else None
    if row is None:
        row = find_article(session, parsed)
    created = row is None
    if row is None:
        row = Article(
            url=parsed.url,
            content_hash=digest,
            created_at=now,
            published_at=parsed.published_at or now,
            feed_id=feed_id,
            guid=guid,
            is_backfill=is_backfill,
        )
        session.add(row)
    else:
        clash = session.scalar(select(Article.id).where(Article.content_hash == digest, Article.id != row.id))
        if clash is not None:
            raise EvwireError(
                f"this text is already stored as article {clash}; article {row.id} ({row.url}) is unchanged"
            )
        row.content_hash = digest
        if row.url is None and parsed.url:
            row.url = parsed.url
        if parsed.published_at is not None:
            row.published_at = parsed.published_at
    row.title = parsed.title
    row.body = parsed.body
    row.bullets = list(parsed.bullets)
    row.image_url = parsed.image_url
    row.image_caption = parsed.image_caption
    row.image_credit = parsed.image_credit
    row.source_name = parsed.source_name
    row.updated_at = now
    session.flush()
    apply_tagging(session, row, tagging, fresh=created)
    return row, created


def apply_tagging(session: Session, article: Article, tagging: Tagging, *, fresh: bool = False) -> None:
    """Replace the article's automatic mentions, tickers and people with `tagging`.

    Editor rows stay as they are, and no automatic row is added for a company an editor has set.
    Slugs the database does not know (catalog not synced) are skipped. ``fresh``: the article was
    just inserted, so it has no rows to replace (a feed poll stores many; this saves four queries).
    """
    session.flush()
    ids = session.info.get("company_ids")  # one lookup per transaction, not per article
    if ids is None:
        ids = session.info["company_ids"] = company_ids(session)
    taken: set[int] = set()
    if not fresh:
        session.execute(delete(Mention).where(Mention.article_id == article.id, Mention.origin == "auto"))
        session.execute(delete(ArticleTicker).where(ArticleTicker.article_id == article.id))
        session.execute(delete(ArticlePerson).where(ArticlePerson.article_id == article.id))
        session.flush()
        taken = set(session.scalars(select(Mention.company_id).where(Mention.article_id == article.id)))
    mentions, tickers, people = tagging_rows(article.id, tagging, ids, taken=taken)
    for table, rows in ((Mention, mentions), (ArticleTicker, tickers), (ArticlePerson, people)):
        if rows:
            session.execute(insert(Base.metadata.tables[table.__tablename__]), rows)
    session.flush()
    session.expire(article, ["mentions", "tickers", "people"])


def tagging_rows(
    article_id: int, tagging: Tagging, ids: Mapping[str, int], *, taken: Iterable[int] = ()
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The automatic (mentions, tickers, people) rows of one article's tagging: one mention per known
    company (none for ``taken`` ones, which an editor has set), each ticker and person once; slugs the
    database does not know (catalog not synced) are skipped."""
    seen = set(taken)
    mentions: list[dict[str, Any]] = []
    for tag in (*tagging.about, *tagging.mentioned):
        cid = ids.get(tag.slug)
        if cid is None or cid in seen:
            continue
        seen.add(cid)
        mentions.append(
            {
                "article_id": article_id,
                "company_id": cid,
                "score": float(tag.score),
                "role": tag.role,
                "origin": "auto",
            }
        )
    tickers: list[dict[str, Any]] = []
    seen_tickers: set[tuple[str, str]] = set()
    for t in tagging.tickers:
        if (t.exchange, t.symbol) in seen_tickers:
            continue
        seen_tickers.add((t.exchange, t.symbol))
        company_id = ids.get(t.company) if t.company else None
        tickers.append(
            {"article_id": article_id, "exchange": t.exchange, "symbol": t.symbol, "company_id": company_id}
        )
    people: list[dict[str, Any]] = []
    seen_people: set[str] = set()
    for p in tagging.people:
        if p.name in seen_people:
            continue
        seen_people.add(p.name)
        people.append({"article_id": article_id, "name": p.name, "company_id": ids.get(p.company)})
    return mentions, tickers, people


def _company_id(session: Session, slug: str) -> int:
    cid = session.scalar(select(Company.id).where(Company.slug == slug))
    if cid is None:
        raise NotFoundError(f"no company with slug {slug!r}; see `evwire channels list`")
    return cid


def _require_article(session: Session, article_id: int) -> None:
    if session.get(Article, article_id) is None:
        raise NotFoundError(f"no article with id {article_id}")


def set_editor_mention(session: Session, article_id: int, slug: str, role: str) -> Mention:
    """An editor's correction: file the article under `slug` as about/mentioned, or exclude it."""
    if role not in EDITOR_ROLES:
        raise EvwireError(f"role must be one of {', '.join(EDITOR_ROLES)}, not {role!r}")
    _require_article(session, article_id)
    cid = _company_id(session, slug)
    row = session.scalar(select(Mention).where(Mention.article_id == article_id, Mention.company_id == cid))
    if row is None:
        row = Mention(article_id=article_id, company_id=cid, score=1.0 if role == "about" else 0.0)
        session.add(row)
    row.role = role
    row.origin = "editor"
    session.flush()
    return row


def clear_editor_mention(session: Session, article_id: int, slug: str) -> bool:
    """Remove an editor's correction; returns whether there was one. Re-tag to restore the automatic tag."""
    _require_article(session, article_id)
    cid = _company_id(session, slug)
    result = session.execute(
        delete(Mention).where(
            Mention.article_id == article_id, Mention.company_id == cid, Mention.origin == "editor"
        )
    )
    session.flush()
    return bool(result.rowcount)  # type: ignore[attr-defined]  # a DML result is a CursorResult at runtime


def list_articles(
    session: Session,
    *,
    channel: str | None = None,
    role: str = "about",
    limit: int = 50,
    before: tuple[datetime, int] | None = None,
) -> list[Article]:
    """Newest first by (published_at, id). `before` is the cursor: the last row's (published_at, id).

    With `channel`, only articles filed under that company with `role` (about, mentioned or any;
    editor-excluded rows never count).
    """
    stmt = select(Article).options(*_load_options())
    if channel is not None:
        if role not in LIST_ROLES:
            raise EvwireError(f"role must be one of {', '.join(LIST_ROLES)}, not {role!r}")
        roles: Iterable[str] = ("about", "mentioned") if role == "any" else (role,)
        stmt = stmt.join(Mention, Mention.article_id == Article.id).join(
            Company, Company.id == Mention.company_id
        )
        stmt = stmt.where(Company.slug == channel, Mention.role.in_(list(roles)))
    if before is not None:
        at, last_id = before
        stmt = stmt.where(
            or_(Article.published_at < at, and_(Article.published_at == at, Article.id < last_id))
        )
    stmt = stmt.order_by(Article.published_at.desc(), Article.id.desc()).limit(limit)
    return list(session.scalars(stmt))


def get_article(session: Session, article_id: int) -> Article | None:
    return session.scalar(select(Article).where(Article.id == article_id).options(*_load_options()))


def article_channels(article: Article) -> tuple[list[str], list[str]]:
    """(about slugs, mentioned slugs), highest score first; editor-excluded companies left out."""
    ordered = sorted(article.mentions, key=lambda m: (-m.score, m.company.slug))
    about = [m.company.slug for m in ordered if m.role == "about"]
    mentioned = [m.company.slug for m in ordered if m.role == "mentioned"]
    return about, mentioned


def iter_article_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Article.id).order_by(Article.id)))
