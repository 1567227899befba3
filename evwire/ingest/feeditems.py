"""A parsed feed and its items, and how what an item says (``_Raw``) becomes a clean ``FeedItem``.

``FeedItem`` and ``ParsedFeed`` are what ``parse_feed`` returns; ``_finish`` sanitises, dates and
identifies an item the same way whatever the feed's format.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from evwire.ingest.feedtext import (
    MAX_URL,
    _abs,
    clean_title,
    html_to_text,
    parse_feed_date,
    sanitize_html,
)
from evwire.ingest.types import ParsedArticle

FUTURE_SLACK = timedelta(minutes=10)
MAX_GUID = 2000  # feed_items.guid, articles.guid


@dataclass(frozen=True)
class FeedItem:
    guid: str  # identity within the feed: guid/id, else link, else a hash of title+date
    title: str
    link: str | None  # absolute
    published_at: datetime  # UTC; the fetch time when the feed gives none (then date_missing)
    summary_html: str  # sanitised
    content_html: str  # sanitised; "" when the feed has only a summary
    text: str  # plain text of the content, else of the summary
    image_url: str | None = None
    updated_at: datetime | None = None
    author: str | None = None
    categories: tuple[str, ...] = ()
    date_missing: bool = False

    @property
    def has_full_text(self) -> bool:
        """False when the feed carries only a summary: fetch the page for the full text."""
        return bool(self.content_html) and len(self.text) >= 600

    def fingerprint(self) -> str:
        """Changes when the item is edited (same guid, new title or text): an update, not news."""
        data = "\x1f".join((self.title, self.link or "", self.text))
        return hashlib.sha256(data.encode("utf-8")).hexdigest()

    def to_article(self, source_name: str | None = None) -> ParsedArticle:
        return ParsedArticle(
            title=self.title,
            body=self.text,
            url=self.link,
            image_url=self.image_url,
            published_at=self.published_at,
            source_name=source_name,
            extra={"guid": self.guid},
        )


@dataclass(frozen=True)
class ParsedFeed:
    format: str  # rss2 | rss09x | rss1 | rss090 | atom | atom03 | json
    title: str
    site_url: str | None
    items: tuple[FeedItem, ...]
    self_url: str | None = None
    hub_urls: tuple[str, ...] = ()  # WebSub hubs the feed advertises
    warnings: tuple[str, ...] = ()  # problems evwire worked around, worth showing the operator


class _Raw:
    """What an item says, before cleaning."""

    __slots__ = (
        "guid", "title", "title_is_html", "link", "published", "updated", "summary", "content",
        "summary_is_text", "content_is_text", "image", "author", "categories", "base",
    )  # fmt: skip

    def __init__(self, base: str) -> None:
        self.guid: str | None = None
        self.title: str | None = None
        self.link: str | None = None
        self.published: str | None = None
        self.updated: str | None = None
        self.summary: str | None = None
        self.content: str | None = None
        self.image: str | None = None
        self.author: str | None = None
        self.title_is_html = False
        self.summary_is_text = self.content_is_text = False
        self.categories: list[str] = []
        self.base = base


def _finish(raw: _Raw, fetched_at: datetime, used: set[str]) -> FeedItem | None:
    title = clean_title(raw.title or "", is_html=raw.title_is_html)
    link = _abs(raw.base, raw.link)
    base = link or raw.base
    content_html = sanitize_html(_as_html(raw.content, raw.content_is_text), base) if raw.content else ""
    summary_html = sanitize_html(_as_html(raw.summary, raw.summary_is_text), base) if raw.summary else ""
    text = html_to_text(content_html or summary_html)
    if not title and not text and not link:
        return None
    if not title:
        flat = " ".join(text.split())
        title = (flat[:120].rsplit(" ", 1)[0] + "…") if len(flat) > 120 else flat
    published = parse_feed_date(raw.published) or parse_feed_date(raw.updated)
    updated = parse_feed_date(raw.updated)
    missing = published is None
    if published is None or published > fetched_at + FUTURE_SLACK:
        published = fetched_at
    guid = (raw.guid or "").strip() or link
    if not guid:
        basis = f"{title}\x1f{raw.published or raw.updated or text[:500]}"
        guid = "urn:evwire:sha1:" + hashlib.sha1(basis.encode("utf-8")).hexdigest()
    if len(guid) > MAX_GUID:  # feed_items.guid holds 2000 characters: a long guid is kept as its hash
        guid = "urn:evwire:sha1:" + hashlib.sha1(guid.encode("utf-8")).hexdigest()
    if guid in used:
        return None
    used.add(guid)
    image = _abs(base, raw.image) or _first_img(content_html or summary_html)
    if image and len(image) > MAX_URL:
        image = None
    return FeedItem(
        guid=guid,
        title=title,
        link=link,
        published_at=published,
        updated_at=updated,
        summary_html=summary_html,
        content_html=content_html,
        text=text,
        image_url=image,
        author=(raw.author or "").strip() or None,
        categories=tuple(dict.fromkeys(c.strip() for c in raw.categories if c and c.strip())),
        date_missing=missing,
    )


_IMG = re.compile(r'<img[^>]*?\ssrc="(https?://[^"]+)"', re.I)


def _first_img(fragment: str) -> str | None:
    m = _IMG.search(fragment)
    return html.unescape(m.group(1)) if m else None


def _as_html(value: str, is_text: bool) -> str:
    return html.escape(value).replace("\n\n", "<br><br>") if is_text else value
