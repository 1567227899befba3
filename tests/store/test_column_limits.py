"""The feed path cuts or drops values to what the columns hold, so that PostgreSQL never refuses a poll
(SQLite does not enforce lengths). ingest/ may not import the data model, so its limits are numbers of
its own: they must stay the columns' lengths."""

from __future__ import annotations

from sqlalchemy import Column

from evwire.ingest.feeditems import MAX_GUID
from evwire.ingest.feedtext import MAX_URL
from evwire.ingest.fetch import MAX_ETAG, MAX_LAST_MODIFIED
from evwire.store.tables import Article, Feed, FeedItem


def _length(column: Column) -> int:
    return column.type.length  # type: ignore[attr-defined, no-any-return]


def test_ingest_limits_are_the_columns_lengths() -> None:
    feeds, articles = Feed.__table__.c, Article.__table__.c
    assert MAX_URL == _length(articles.url) == _length(articles.image_url) == _length(feeds.site_url)
    assert MAX_URL == _length(feeds.websub_hub) == _length(feeds.websub_topic)
    assert MAX_GUID == _length(FeedItem.__table__.c.guid) == _length(articles.guid)
    assert (MAX_ETAG, MAX_LAST_MODIFIED) == (_length(feeds.etag), _length(feeds.last_modified))
