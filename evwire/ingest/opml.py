"""OPML in and out: the feed lists other readers export and import.

entries = parse_opml(data)          # nested outlines flattened, folder path kept as category
data = write_opml(entries, title="evwire feeds")
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

from lxml import etree

from evwire.errors import IngestError
from evwire.ingest.safexml import parse_xml_bytes


@dataclass(frozen=True)
class OpmlFeed:
    xml_url: str
    title: str | None = None
    html_url: str | None = None
    category: tuple[str, ...] = ()  # folder path, outermost first


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """Feeds in an OPML file, in document order, each feed URL once. Raises IngestError if not OPML."""
    root, _warnings = parse_xml_bytes(data)
    if not isinstance(root.tag, str) or root.tag.rsplit("}", 1)[-1].lower() != "opml":
        raise IngestError("the file is XML but not OPML (its root element is not <opml>)")
    body = next((c for c in root if isinstance(c.tag, str) and c.tag.lower() == "body"), None)
    if body is None:
        raise IngestError("the OPML file has no <body>; export it again from your feed reader")
    feeds: dict[str, OpmlFeed] = {}
    _walk(body, (), feeds)
    return list(feeds.values())


def _attr(el: etree._Element, name: str) -> str | None:
    for key, value in el.attrib.items():
        if key.lower() == name.lower():
            value = " ".join(str(value).split())
            return value or None
    return None


def _walk(parent: etree._Element, path: tuple[str, ...], out: dict[str, OpmlFeed]) -> None:
    for el in parent:
        if not isinstance(el.tag, str) or el.tag.lower() != "outline":
            continue
        title = _attr(el, "title") or _attr(el, "text")
        xml_url = _attr(el, "xmlUrl")
        if xml_url:
            if urlsplit(xml_url).scheme in ("http", "https") and xml_url not in out:
                out[xml_url] = OpmlFeed(xml_url, title, _attr(el, "htmlUrl"), path)
            _walk(el, path, out)
        else:
            _walk(el, (*path, title) if title else path, out)


def write_opml(feeds: list[OpmlFeed], *, title: str = "evwire feeds", now: datetime | None = None) -> bytes:
    """OPML 2.0 with one folder outline per category path."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    etree.SubElement(head, "dateCreated").text = format_datetime(now or datetime.now(UTC), usegmt=True)
    body = etree.SubElement(root, "body")
    folders: dict[tuple[str, ...], etree._Element] = {(): body}
    for feed in feeds:
        parent = body
        for depth in range(1, len(feed.category) + 1):
            key = feed.category[:depth]
            if key not in folders:
                folders[key] = etree.SubElement(folders[key[:-1]], "outline", text=key[-1], title=key[-1])
            parent = folders[key]
        attrs = {"type": "rss", "text": feed.title or feed.xml_url, "xmlUrl": feed.xml_url}
        if feed.title:
            attrs["title"] = feed.title
        if feed.html_url:
            attrs["htmlUrl"] = feed.html_url
        etree.SubElement(parent, "outline", attrs)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
