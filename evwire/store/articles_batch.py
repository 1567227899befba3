"""New articles of one feed poll, stored together: a statement per table instead of one per row.

``upsert_article`` + ``apply_tagging`` + ``replace_extracted_figures`` store one article in about a
dozen statements, each a round trip (and on PostgreSQL a statement-level trigger). For articles
known to be new (their URL and content hash are stored nowhere yet: ``stored_identities``), the
rows are the same ones those functions write, so ``insert_new_articles`` writes them with one
multi-row INSERT per table. Functions take a Session and never commit.
See docs/decisions/0017-batched-item-storing.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from evwire.ingest.types import ParsedArticle
from evwire.store.articles import tagging_rows
from evwire.store.companies import company_ids
from evwire.store.figures import extracted_figure_rows
from evwire.store.tables import Article, ArticlePerson, ArticleTicker, Base, DeliveryFigure, Mention
from evwire.tag.types import Tagging

log = logging.getLogger(__name__)
_CHUNK = 500  # values per IN list
# Core tables, not ORM entities: the ORM's bulk INSERT path costs more than the statements themselves
_ARTICLES, _FEED_ITEMS = Base.metadata.tables["articles"], Base.metadata.tables["feed_items"]


@dataclass(frozen=True)
class NewArticle:
    """An article to insert, as ``upsert_article`` would for one no stored article matches."""

    parsed: ParsedArticle
    tagging: Tagging
    content_hash: str
    story_id: int | None = None
    feed_id: int | None = None
    guid: str | None = None
    is_backfill: bool = False


def stored_identities(
    session: Session, urls: Iterable[str], hashes: Iterable[str]
) -> tuple[set[str], set[str]]:
    """(URLs, content hashes) among these that stored articles already have, in one query per chunk."""
    url_list, hash_list = list(dict.fromkeys(urls)), list(dict.fromkeys(hashes))
    found_urls: set[str] = set()
    found_hashes: set[str] = set()
    for start in range(0, max(len(url_list), len(hash_list)), _CHUNK):
        u, h = url_list[start : start + _CHUNK], hash_list[start : start + _CHUNK]
        rows = session.execute(
            select(Article.url, Article.content_hash).where(
                or_(Article.url.in_(u), Article.content_hash.in_(h))
            )
        )
        for url, digest in rows:
            if url:
                found_urls.add(url)
            found_hashes.add(digest)
    return found_urls & set(url_list), found_hashes & set(hash_list)


def _company_ids(session: Session) -> dict[str, int]:
    ids = session.info.get("company_ids")  # shared with apply_tagging: one lookup per transaction
    if ids is None:
        ids = session.info["company_ids"] = company_ids(session)
    return ids


def new_for_sure(session: Session, items: Sequence[tuple[str, str | None, str, bool]]) -> list[bool]:
    """For a poll's items in feed order, as (guid, URL, content hash, seen before in the feed): whether
    each is new for sure — a new guid whose URL and text no stored article and no earlier item of the
    poll has. Anything else may be an update of a stored article, decided one by one."""
    fresh = [(url, digest) for _, url, digest, known in items if not known]
    stored_urls, stored_hashes = stored_identities(session, [u for u, _ in fresh if u], [h for _, h in fresh])
    seen_guids: set[str] = set()
    seen_urls: set[str] = set()
    seen_hashes: set[str] = set()
    out: list[bool] = []
    for guid, url, digest, known in items:
        out.append(
            not known
            and guid not in seen_guids
            and digest not in seen_hashes
            and digest not in stored_hashes
            and not (url and (url in seen_urls or url in stored_urls))
        )
        seen_guids.add(guid)
        seen_hashes.add(digest)
        if url:
            seen_urls.add(url)
    return out


def insert_new_articles(session: Session, new: Sequence[NewArticle], *, now: datetime) -> list[int]:
    """Insert articles no stored article matches (by URL or content hash, nor each other), with
    their mentions, tickers, people and extracted figures. Returns their ids, in order."""
    if not new:
        return []
    rows = [
        {
            "url": a.parsed.url,
            "content_hash": a.content_hash,
            "created_at": now,
            "published_at": a.parsed.published_at or now,
            "feed_id": a.feed_id,
            "guid": a.guid,
            "is_backfill": a.is_backfill,
            "story_id": a.story_id,
            "title": a.parsed.title,
            "body": a.parsed.body,
            "bullets": list(a.parsed.bullets),
            "image_url": a.parsed.image_url,
            "image_caption": a.parsed.image_caption,
            "image_credit": a.parsed.image_credit,
            "source_name": a.parsed.source_name,
            "updated_at": now,
        }
        for a in new
    ]
    # Matched back by content hash (unique), so the ids come out in order whatever order the
    # database returns the rows of a multi-row INSERT in.
    by_hash = dict(session.execute(insert(Article).returning(Article.content_hash, Article.id), rows).all())
    ids = [by_hash[a.content_hash] for a in new]
    cids = _company_ids(session)
    mentions: list[dict[str, Any]] = []
    tickers: list[dict[str, Any]] = []
    people: list[dict[str, Any]] = []
    figures: list[dict[str, Any]] = []
    for article_id, a in zip(ids, new, strict=True):
        m, t, p = tagging_rows(article_id, a.tagging, cids)
        mentions += m
        tickers += t
        people += p
        figures += extracted_figure_rows(
            a.tagging.facts, article_id=article_id, source_url=a.parsed.url, ids=cids, now=now
        )
    for table, values in (
        (Mention, mentions),
        (ArticleTicker, tickers),
        (ArticlePerson, people),
        (DeliveryFigure, figures),
    ):
        if values:
            session.execute(insert(Base.metadata.tables[table.__tablename__]), values)
    return ids


def transient_article(article_id: int, a: NewArticle, *, now: datetime) -> Article:
    """The inserted article as an object outside the session, for ``AlertMatcher.match_article``."""
    return Article(
        id=article_id,
        url=a.parsed.url,
        title=a.parsed.title,
        body=a.parsed.body,
        bullets=list(a.parsed.bullets),
        content_hash=a.content_hash,
        created_at=now,
        published_at=a.parsed.published_at or now,
        feed_id=a.feed_id,
        guid=a.guid,
        is_backfill=a.is_backfill,
        story_id=a.story_id,
    )


def insert_feed_items(
    session: Session, feed_id: int, items: Sequence[tuple[str, str, int, bytes]], *, now: datetime
) -> None:
    """The feed_items rows of new articles: (guid, fingerprint, article id, signature bytes) each."""
    session.execute(
        insert(_FEED_ITEMS),
        [
            {
                "feed_id": feed_id,
                "guid": guid,
                "fingerprint": fingerprint,
                "article_id": article_id,
                "signature": sig,
                "first_seen_at": now,
                "updated_at": now,
            }
            for guid, fingerprint, article_id, sig in items
        ],
    )
