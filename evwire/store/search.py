"""Full-text search over articles: SQLite FTS5 (``articles_fts``) or PostgreSQL full-text search.

User input is never handed to a query parser as syntax. On SQLite the words are pulled out of the
input and each is quoted as an FTS5 string, so ``"``, ``*``, ``AND OR`` or ``NEAR(`` are plain
words (or nothing) rather than errors. On PostgreSQL ``websearch_to_tsquery`` takes any text.
The PostgreSQL expression is exactly the one the GIN index of migration 0001 is built on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from evwire.store.queries import ArticleCard, as_utc, load_chips

MAX_TERMS = 16
MAX_QUERY_CHARS = 500
MARK_START, MARK_END = "\x02", "\x03"
WORD_RE = re.compile(r"\w+", re.UNICODE)
PG_VECTOR = "to_tsvector('english', coalesce(a.title, '') || ' ' || coalesce(a.body, ''))"


@dataclass(frozen=True)
class SearchHit:
    card: ArticleCard
    snippet: list[tuple[str, bool]]  # text segments; True where a search term matched


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: list[SearchHit]
    has_more: bool


def fts5_query(user_text: str) -> str | None:
    """An FTS5 MATCH expression that finds articles containing every word of ``user_text``.

    Only word characters survive and every word is a quoted string, so nothing the user types can
    be read as FTS5 syntax. None when no word is left."""
    words = WORD_RE.findall(user_text[:MAX_QUERY_CHARS])[:MAX_TERMS]
    if not words:
        return None
    return " ".join(f'"{w}"' for w in words)


def _segments(snippet: str) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    for i, part in enumerate(re.split(f"[{MARK_START}{MARK_END}]", snippet or "")):
        if part:
            out.append((part, i % 2 == 1))
    return out


def _channel_filter(alias: str) -> str:
    return (
        f" AND EXISTS (SELECT 1 FROM mentions m JOIN companies c ON c.id = m.company_id"
        f" WHERE m.article_id = {alias}.id AND c.slug = :channel AND m.role IN ('about', 'mentioned'))"
    )


def search_articles(
    session: Session, user_text: str, *, channel: str | None = None, limit: int = 20, offset: int = 0
) -> SearchResult:
    """Articles matching ``user_text`` (every word), best first, optionally only in one channel."""
    user_text = (user_text or "").strip()[:MAX_QUERY_CHARS]
    params: dict[str, object] = {"limit": limit + 1, "offset": max(0, offset), "channel": channel}
    where_channel = _channel_filter("a") if channel else ""
    if session.get_bind().dialect.name == "sqlite":
        match = fts5_query(user_text)
        if match is None:
            return SearchResult(user_text, [], False)
        params["q"] = match
        sql = (
            "SELECT a.id, a.title, a.url, a.source_name, a.published_at,"
            " snippet(articles_fts, 1, char(2), char(3), '…', 24) AS snip"
            " FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid"
            f" WHERE articles_fts MATCH :q{where_channel}"
            " ORDER BY bm25(articles_fts, 10.0, 1.0), a.id DESC LIMIT :limit OFFSET :offset"
        )
    else:
        if not WORD_RE.search(user_text):
            return SearchResult(user_text, [], False)
        params["q"] = user_text
        params["opts"] = (
            f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=30, MinWords=12, MaxFragments=2"
        )
        sql = (
            "SELECT a.id, a.title, a.url, a.source_name, a.published_at,"
            " ts_headline('english', a.body, q.query, :opts) AS snip"
            " FROM (SELECT websearch_to_tsquery('english', :q) AS query) q"
            f" JOIN articles a ON {PG_VECTOR} @@ q.query"
            f" WHERE true{where_channel}"
            f" ORDER BY ts_rank({PG_VECTOR}, q.query) DESC, a.id DESC LIMIT :limit OFFSET :offset"
        )
    rows = session.execute(text(sql), params).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    chips = load_chips(session, (r.id for r in rows))
    hits = []
    for r in rows:
        about, mentioned = chips[r.id]
        card = ArticleCard(
            id=r.id,
            title=r.title,
            url=r.url,
            source_name=r.source_name,
            published_at=_as_datetime(r.published_at),
            about=about,
            mentioned=mentioned,
        )
        hits.append(SearchHit(card, _segments(r.snip)))
    return SearchResult(user_text, hits, has_more)


def _as_datetime(value: object) -> datetime:
    """Raw text() queries on SQLite return the stored string; parse it like the ORM would."""
    if isinstance(value, str):
        return as_utc(datetime.fromisoformat(value))
    return as_utc(value)  # type: ignore[arg-type]
