"""Article pages in HTML: trafilatura extracts the text, page metadata gives title, date, URL, image.

Only plain text is kept (scripts, styles, navigation and markup never reach the body); anything shown
later as HTML is escaped or sanitised by the web layer.
"""

from __future__ import annotations

import re

from evwire.errors import IngestError
from evwire.ingest.plaintext import parse_date
from evwire.ingest.types import ParsedArticle

LIST_ITEM_RE = re.compile(r"^\s*[-•*]\s+(.+)$")


def _meta(html: str) -> dict[str, str]:
    """Page metadata: canonical URL, Open Graph and article tags, by lower-case key."""
    import lxml.etree
    import lxml.html

    out: dict[str, str] = {}
    try:
        tree = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return out
    for el in tree.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        value = (el.get("content") or "").strip()
        if key and value and key not in out:
            out[key] = value
    for el in tree.iter("link"):
        if (el.get("rel") or "").strip().lower() == "canonical" and el.get("href"):
            out.setdefault("canonical", el.get("href", "").strip())
    return out


def _http_url(value: str | None) -> str | None:
    if value and re.match(r"^https?://", value, re.I):
        return value
    return None


def parse_html(html: str, *, url: str | None = None) -> ParsedArticle:
    """Extract an article from an HTML page. Raises IngestError when the page has no article text."""
    import trafilatura  # imported here: it is slow to import and only HTML needs it

    meta = _meta(html)
    try:
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            include_images=False,
            include_links=False,
        )
    except Exception as exc:  # noqa: BLE001 - trafilatura raises many kinds on broken markup
        raise IngestError(f"the HTML page could not be read ({type(exc).__name__})") from exc
    text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    if not text:
        raise IngestError("no article text found in the HTML page")
    title = " ".join((getattr(doc, "title", None) or meta.get("og:title") or "").split())
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    if lines and title and lines[0].rstrip(".") == title.rstrip("."):
        lines = lines[1:]
    if not title:
        if not lines:
            raise IngestError("the HTML page has no title and no text")
        title, lines = lines[0], lines[1:]
    bullets: list[str] = []
    while lines and (m := LIST_ITEM_RE.match(lines[0])):
        bullets.append(m.group(1).strip())
        lines = lines[1:]
    body = "\n\n".join(lines)
    if not body and not bullets:
        raise IngestError("the HTML page has a title but no article text")

    published = None
    for key in ("article:published_time", "og:published_time", "datepublished", "date", "dc.date"):
        if meta.get(key):
            published = parse_date(meta[key])
            if published:
                break
    if published is None and (doc_date := getattr(doc, "date", None)):
        published = parse_date(str(doc_date))
    page_url = (
        url
        or _http_url(meta.get("canonical"))
        or _http_url(meta.get("og:url"))
        or _http_url(getattr(doc, "url", None))
    )
    return ParsedArticle(
        title=title,
        body=body,
        bullets=tuple(bullets),
        url=page_url,
        image_url=_http_url(meta.get("og:image") or getattr(doc, "image", None)),
        published_at=published,
        source_name=meta.get("og:site_name") or getattr(doc, "hostname", None) or None,
    )
