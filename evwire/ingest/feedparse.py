"""Parse RSS 0.9x/1.0/2.0, Atom and JSON Feed into ``FeedItem`` values.

Our own parser on lxml (docs/decisions/0006-feeds.md says why: same answers as feedparser on the
fixtures, several times faster; ``bench/polling.py`` measures it). XML is parsed with entity
resolution, DTD loading and network access off; a document that declares entities is refused.

    feed = parse_feed(result.body, url=result.final_url, fetched_at=now, content_type=result.content_type)
    for item in feed.items: item.guid, item.title, item.link, item.published_at, item.text, ...

The pieces: ``safexml`` (safe XML parsing), ``feedxml`` (RSS and Atom elements), ``jsonfeed``,
``feeditems`` (``FeedItem``, ``ParsedFeed``, cleaning an item), ``feedtext`` (HTML, text, dates, links).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from evwire.errors import IngestError
from evwire.ingest.feeditems import ParsedFeed, _finish
from evwire.ingest.feedtext import clean_title
from evwire.ingest.feedxml import ATOM03, _atom_entry, _feed_links, _rss_item, _text
from evwire.ingest.jsonfeed import _parse_json
from evwire.ingest.safexml import _local, _ns, parse_xml_bytes


def parse_feed(body: bytes, *, url: str, fetched_at: datetime, content_type: str | None = None) -> ParsedFeed:
    """Parse a feed document. Raises IngestError (in words for the operator) when it isn't one."""
    if fetched_at.tzinfo is None:
        raise ValueError("fetched_at must be timezone-aware")
    fetched_at = fetched_at.astimezone(UTC)
    if not body or not body.strip():
        raise IngestError("the feed is empty (the server sent no content)")
    charset = _charset(content_type)
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start in (b"{", b"["):
        return _parse_json(body, url, fetched_at, charset)
    sniff = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if sniff.startswith(b"<!doctype html") or sniff.startswith(b"<html") or b"<html" in sniff[:300]:
        kind = "html"
    else:
        root, warnings = parse_xml_bytes(body, url=url, header_charset=charset)
        kind = _local(root.tag)
    used: set[str] = set()
    if kind == "rss":
        channel = next((c for c in root if _local(c.tag) == "channel"), root)
        entries = [c for c in channel if _local(c.tag) == "item"] or [
            c for c in root if _local(c.tag) == "item"
        ]
        raws = [_rss_item(e, url) for e in entries]
        fmt, head = ("rss09x" if root.get("version", "2.0").startswith("0.9") else "rss2"), channel
    elif kind == "RDF":
        head = next((c for c in root if _local(c.tag) == "channel"), root)
        raws = [_rss_item(e, url) for e in root if _local(e.tag) == "item"]
        fmt = "rss090" if _ns(head.tag) == "http://my.netscape.com/rdf/simple/0.9/" else "rss1"
    elif kind == "feed":
        head = root
        raws = [_atom_entry(e, root.base or url) for e in root if _local(e.tag) == "entry"]
        fmt = "atom03" if _ns(root.tag) == ATOM03 else "atom"
    elif kind == "html":
        raise IngestError(
            "the address returned an HTML page, not a feed; add the site's home page and evwire will "
            "look for its feed link, or find the feed address on the site"
        )
    else:
        raise IngestError(f"the document is XML but not a feed (its root element is <{kind}>)")
    title_el = next((c for c in head if _local(c.tag) == "title"), None)
    title = clean_title(_text(title_el), is_html=True) if title_el is not None else ""
    site, self_url, hubs = _feed_links(head, url)
    items = [i for i in (_finish(r, fetched_at, used) for r in raws) if i is not None]
    if len(items) < len(raws):
        warnings.append(f"{len(raws) - len(items)} item(s) skipped: empty, or a guid seen twice in the feed")
    return ParsedFeed(fmt, title, site, tuple(items), self_url, tuple(hubs), tuple(warnings))


def _charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = re.search(r"charset\s*=\s*\"?([A-Za-z0-9._:-]+)", content_type, re.I)
    return m.group(1) if m else None
