"""RSS 0.9x/1.0/2.0 and Atom: what each item or entry element says, and the feed's own links.

``parse_feed`` picks the format from the root element and hands the items here.
"""

from __future__ import annotations

import html
import re
from typing import Any

from lxml import etree

from evwire.ingest.feeditems import _Raw
from evwire.ingest.feedtext import _abs
from evwire.ingest.safexml import _local, _ns

ATOM = "http://www.w3.org/2005/Atom"
ATOM03 = "http://purl.org/atom/ns#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"
MEDIA = "http://search.yahoo.com/mrss/"
XHTML = "http://www.w3.org/1999/xhtml"


def _text(el: Any) -> str:
    return "".join(el.itertext()) if len(el) else (el.text or "")


def _xhtml(el: Any) -> str:
    """Inner markup of an Atom type="xhtml" construct (the div's children)."""
    div = next((c for c in el if _local(c.tag) == "div"), el)
    parts = [div.text and html.escape(div.text) or ""]
    for child in div:
        parts.append(etree.tostring(child, encoding="unicode", with_tail=True, method="html"))
    return re.sub(r"\s?xmlns(:\w+)?=\"[^\"]*\"", "", "".join(parts))


def _image_from(el: Any, raw: _Raw) -> None:
    ns, name = _ns(el.tag), _local(el.tag)
    if raw.image:
        return
    if name == "enclosure" and (el.get("type") or "").startswith("image/"):
        raw.image = el.get("url")
    elif ns == MEDIA and name in ("content", "thumbnail"):
        medium, mtype = el.get("medium") or "", el.get("type") or ""
        if name == "thumbnail" or medium == "image" or mtype.startswith("image/"):
            raw.image = el.get("url")
    elif ns == MEDIA and name == "group":
        for child in el:
            _image_from(child, raw)


def _rss_item(item: Any, base: str) -> _Raw:
    raw = _Raw(item.base or base)
    about = item.get(f"{{{RDF}}}about")
    for el in item:
        if not isinstance(el.tag, str):
            continue
        ns, name = _ns(el.tag), _local(el.tag)
        if ns in ("", "http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/"):
            if name == "title":
                raw.title, raw.title_is_html = _text(el), True
            elif name == "link" and not raw.link:
                raw.link = _text(el)
            elif name == "guid":
                raw.guid = _text(el)
                if el.get("isPermaLink", "true").lower() != "false" and not raw.link:
                    raw.link = raw.guid if raw.guid.strip().startswith("http") else None
            elif name == "pubDate":
                raw.published = _text(el)
            elif name == "description":
                raw.summary = _text(el)
            elif name == "author":
                raw.author = _text(el)
            elif name == "category":
                raw.categories.append(_text(el))
            elif name == "enclosure":
                _image_from(el, raw)
        elif ns == CONTENT and name == "encoded":
            raw.content = _text(el)
        elif ns == DC:
            if name == "date":
                raw.published = raw.published or _text(el)
            elif name == "creator":
                raw.author = raw.author or _text(el)
            elif name == "subject":
                raw.categories.append(_text(el))
        elif ns == ATOM and name == "link" and el.get("rel", "alternate") == "alternate" and not raw.link:
            raw.link = el.get("href")
        elif ns == ATOM and name in ("updated", "published"):
            setattr(raw, "updated" if name == "updated" else "published", _text(el))
        elif ns == MEDIA:
            _image_from(el, raw)
    if not raw.guid and about:
        raw.guid = about
    return raw


def _atom_construct(el: Any) -> tuple[str, bool]:
    """(markup or text, is_plain_text) of an Atom text construct."""
    kind = (el.get("type") or "text").lower()
    if kind == "xhtml":
        return _xhtml(el), False
    if kind in ("html", "text/html"):
        return _text(el), False
    if kind.startswith("text") or kind == "text":
        return _text(el), True
    return _text(el), False


def _atom_entry(entry: Any, base: str) -> _Raw:
    raw = _Raw(entry.base or base)
    for el in entry:
        if not isinstance(el.tag, str):
            continue
        ns, name = _ns(el.tag), _local(el.tag)
        if ns in (ATOM, ATOM03):
            if name == "id":
                raw.guid = _text(el)
            elif name == "title":
                value, plain = _atom_construct(el)
                raw.title, raw.title_is_html = value, not plain
            elif name == "link":
                rel = el.get("rel", "alternate")
                if rel == "alternate" and (not raw.link or (el.get("type") or "text/html") == "text/html"):
                    raw.link = _abs(el.base or raw.base, el.get("href"))
                elif rel == "enclosure":
                    _image_from_link(el, raw)
            elif name in ("published", "issued"):
                raw.published = _text(el)
            elif name in ("updated", "modified"):
                raw.updated = _text(el)
            elif name == "summary":
                raw.summary, raw.summary_is_text = _atom_construct(el)
            elif name == "content" and not el.get("src"):
                raw.content, raw.content_is_text = _atom_construct(el)
            elif name == "author":
                raw.author = next((_text(c) for c in el if _local(c.tag) == "name"), None) or raw.author
            elif name == "category":
                raw.categories.append(el.get("label") or el.get("term") or "")
        elif ns == MEDIA:
            _image_from(el, raw)
        elif ns == DC and name == "creator":
            raw.author = raw.author or _text(el)
    return raw


def _image_from_link(el: Any, raw: _Raw) -> None:
    if not raw.image and (el.get("type") or "").startswith("image/"):
        raw.image = el.get("href")


def _feed_links(parent: Any, base: str) -> tuple[str | None, str | None, list[str]]:
    site = self_url = None
    hubs: list[str] = []
    for el in parent:
        if not isinstance(el.tag, str) or _local(el.tag) != "link":
            continue
        if _ns(el.tag) in (ATOM, ATOM03):
            rel, href = el.get("rel", "alternate"), _abs(el.base or base, el.get("href"))
            if rel == "self":
                self_url = href
            elif rel == "hub" and href:
                hubs.append(href)
            elif rel == "alternate" and not site:
                site = href
        elif not site:
            site = _abs(base, _text(el))
    return site, self_url, hubs
