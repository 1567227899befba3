"""Stories: one news item told by several sources. Articles point at their story (``story_id``).

The grouping itself is ``ingest.dedupe.StoryIndex`` (MinHash + LSH, in memory). Signatures are kept
on ``feed_items.signature`` so a poller rebuilds its index from the database at start-up
(``load_story_index``) for a recent window. Functions take a Session and never commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, FromClause, and_, bindparam, exists, insert, or_, select
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


def insert_stories(session: Session, count: int, *, now: datetime) -> list[int]:
    """``count`` new stories (as ``new_story`` makes them) in one statement, ids ascending."""
    if not count:
        return []
    return sorted(session.execute(insert(Story).returning(Story.id), [{"created_at": now}] * count).scalars())


@dataclass(frozen=True)
class _Pending:
    """Stand-in index id of a run's k-th article until its row exists."""

    k: int


@dataclass(frozen=True)
class _NewStory:
    """Stand-in story id of a run's k-th article when it starts a story, until the row exists."""

    k: int


class RunGrouping:
    """Story groups for a run of new articles stored together (docs/decisions/0017).

    Each article is matched in order against the index holding the run's earlier articles, as when
    they are stored one by one, under stand-in ids; ``story_ids`` inserts the new stories, ``settle``
    swaps the stand-ins for the stored ids (same index, same bucket order), ``forget`` drops them
    when the run's savepoint rolled back.
    """

    def __init__(self, index: StoryIndex, sigs: Sequence[Signature]) -> None:
        self.index, self.sigs = index, list(sigs)
        self.pending: list[_Pending] = []
        self.groups: list[Hashable] = []
        for k, sig in enumerate(self.sigs):
            match = index.best_match(sig) if sig.size else None
            group = match.group_id if match is not None else _NewStory(k)
            self.pending.append(_Pending(k))
            index.add_signature(self.pending[-1], sig, group)
            self.groups.append(group)

    def story_ids(self, session: Session, *, now: datetime) -> list[int]:
        """The story of each article, new stories inserted."""
        fresh = list(dict.fromkeys(g for g in self.groups if isinstance(g, _NewStory)))
        story_of = dict(zip(fresh, insert_stories(session, len(fresh), now=now), strict=True))
        return [story_of[g] if isinstance(g, _NewStory) else int(g) for g in self.groups]  # type: ignore[call-overload]

    def settle(self, article_ids: Sequence[int], story_ids: Sequence[int]) -> None:
        for p, article_id, story_id in zip(self.pending, article_ids, story_ids, strict=True):
            self.index.rename(p, article_id, story_id)
        self.pending = []

    def forget(self) -> None:
        for p in self.pending:
            self.index.remove(p)
        self.pending = []


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
