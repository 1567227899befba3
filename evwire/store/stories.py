"""Stories: one news item told by several sources. Articles point at their story (``story_id``).

The grouping itself is ``ingest.dedupe.StoryIndex`` (MinHash + LSH, in memory). Signatures are kept
on ``feed_items.signature`` so a poller rebuilds its index from the database at start-up
(``load_story_index``) for a recent window. Functions take a Session and never commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, FromClause, and_, bindparam, exists, or_, select
from sqlalchemy.orm import Session, aliased

from evwire.ingest.dedupe import Signature, StoryIndex
from evwire.store.tables import Article, Feed, FeedItem, Story

STORY_WINDOW = timedelta(days=3)  # documents older than this are not matched against


@dataclass(frozen=True)
class SourceRef:
    """Another source that reported the same story."""

    article_id: int
    name: str  # the source's name (feed title, site), else the host of its URL
    url: str | None


def new_story(session: Session, *, now: datetime) -> int:
    story = Story(created_at=now)
    session.add(story)
    session.flush()
    return story.id


def load_story_index(session: Session, *, now: datetime, window: timedelta = STORY_WINDOW) -> StoryIndex:
    """A StoryIndex of the articles first seen in feeds within ``window``, grouped as stored."""
    index = StoryIndex()
    rows = session.execute(
        select(FeedItem.article_id, FeedItem.signature, Article.story_id)
        .join(Article, Article.id == FeedItem.article_id)
        .where(FeedItem.first_seen_at >= now - window, FeedItem.signature.is_not(None))
        .order_by(FeedItem.id)
    )
    for article_id, sig, story_id in rows:
        if article_id is None or story_id is None or sig is None:
            continue
        index.add_signature(article_id, Signature.from_bytes(sig), story_id)
    return index


def story_lead_clause(articles: FromClause) -> ColumnElement[bool]:
    """True for the article a list shows for its story: the first stored one (or one without a story)."""
    other = aliased(Article)
    return or_(
        articles.c.story_id.is_(None),
        ~exists().where(and_(other.story_id == articles.c.story_id, other.id < articles.c.id)),
    )


def _source_name(name: str | None, feed_title: str | None, url: str | None) -> str:
    if name or feed_title:
        return str(name or feed_title)
    if url:
        from urllib.parse import urlsplit

        return urlsplit(url).hostname or url
    return "another source"


_MINE = aliased(Article)
# Built once: an aliased() entity resolves its columns on first use, which cost more than the
# query itself when it was made per call (a third of an article page's CPU).
_ALSO_REPORTED = (
    select(_MINE.id, Article.id, Article.source_name, Feed.title, Article.url)
    .join(Article, and_(Article.story_id == _MINE.story_id, Article.id != _MINE.id))
    .outerjoin(Feed, Feed.id == Article.feed_id)
    .where(_MINE.id.in_(bindparam("ids", expanding=True)), _MINE.story_id.is_not(None))
    .order_by(_MINE.id, Article.id)
)


def also_reported(session: Session, article_ids: Iterable[int]) -> dict[int, tuple[SourceRef, ...]]:
    """For each article, the other articles of its story (oldest first), in one query."""
    ids = list(dict.fromkeys(article_ids))
    if not ids:
        return {}
    rows = session.execute(_ALSO_REPORTED, {"ids": ids})
    out: dict[int, list[SourceRef]] = defaultdict(list)
    for own, other, name, feed_title, url in rows:
        out[own].append(SourceRef(other, _source_name(name, feed_title, url), url))
    return {i: tuple(out.get(i, ())) for i in ids}


def story_members(session: Session, story_id: int) -> list[int]:
    return list(session.scalars(select(Article.id).where(Article.story_id == story_id).order_by(Article.id)))
