"""Find a site's feeds from its home page: ``<link rel="alternate" type="application/rss+xml">``.

candidates = find_feed_links(page_bytes, page_url)   # best first
if looks_like_feed(body, content_type): the address already is a feed
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from lxml import etree, html

FEED_TYPES = {
    "application/atom+xml": "atom",
    "application/rss+xml": "rss",
    "application/feed+json": "json",
    "application/json": "json",
    "application/rdf+xml": "rss",
}


@dataclass(frozen=True)
class FeedLink:
    url: str  # absolute
    kind: str  # atom | rss | json
    title: str | None


def find_feed_links(page: bytes | str, page_url: str) -> list[FeedLink]:
    """Feed links a page advertises, resolved against the page (and its <base href>), best first.

    The page's own order is kept (sites list their main feed first), with comment feeds last.
    """
    if not page or not page.strip():
        return []
    try:
        doc = html.fromstring(page)
    except (etree.ParserError, ValueError):
        return []
    base = page_url
    for el in doc.iter("base"):
        if el.get("href"):
            base = urljoin(page_url, el.get("href").strip())
            break
    found: dict[str, FeedLink] = {}
    for el in doc.iter("link"):
        rels = (el.get("rel") or "").lower().split()
        kind = FEED_TYPES.get((el.get("type") or "").split(";")[0].strip().lower())
        href = (el.get("href") or "").strip()
        if "alternate" not in rels or kind is None or not href:
            continue
        if (
            kind == "json"
            and (el.get("type") or "").lower().startswith("application/json")
            and "feed" not in (el.get("title") or href).lower()
        ):
            continue  # plain application/json alternates are usually APIs (e.g. oEmbed), not feeds
        url = urljoin(base, href)
        if not url.startswith(("http://", "https://")) or url in found:
            continue
        title = (el.get("title") or "").strip() or None
        found[url] = FeedLink(url, kind, title)
    links = list(found.values())
    # comment feeds are rarely what an operator means by "the site's feed"
    links.sort(key=lambda f: "comment" in ((f.title or "") + f.url).lower())
    return links


def looks_like_feed(body: bytes, content_type: str | None = None) -> bool:
    """A cheap check that fetched bytes are a feed rather than an HTML page."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype in FEED_TYPES and ctype != "application/json":
        return True
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"{"):
        return b"jsonfeed.org" in body[:4096]
    if b"<html" in head or head.startswith(b"<!doctype html"):
        return False
    return any(tag in body[:4096].lower() for tag in (b"<rss", b"<feed", b"<rdf:rdf"))
