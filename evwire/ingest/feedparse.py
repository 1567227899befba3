"""Parse RSS 0.9x/1.0/2.0, Atom and JSON Feed into ``FeedItem`` values.

Our own parser on lxml (docs/decisions/0006-feeds.md says why: same answers as feedparser on the
fixtures, several times faster; ``bench/polling.py`` measures it). XML is parsed with entity
resolution, DTD loading and network access off; a document that declares entities is refused.

    feed = parse_feed(result.body, url=result.final_url, fetched_at=now, content_type=result.content_type)
    for item in feed.items: item.guid, item.title, item.link, item.published_at, item.text, ...
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.entities import html5 as HTML5_ENTITIES
from typing import Any

import nh3
from lxml import etree

from evwire.errors import IngestError
from evwire.ingest.types import ParsedArticle

ATOM = "http://www.w3.org/2005/Atom"
ATOM03 = "http://purl.org/atom/ns#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"
MEDIA = "http://search.yahoo.com/mrss/"
XHTML = "http://www.w3.org/1999/xhtml"
FUTURE_SLACK = timedelta(minutes=10)


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


# ---------------------------------------------------------------- safe XML


def safe_xml_parser(*, recover: bool = False) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        recover=recover,
        collect_ids=False,
    )


_PARSER = safe_xml_parser()
_RECOVER = safe_xml_parser(recover=True)
_DOCTYPE_SUBSET = re.compile(rb"<!DOCTYPE[^\[>]*\[(.*?)\]\s*>", re.S | re.I)
_DECL = re.compile(rb"^(\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']", re.I)
_DECL_STR = re.compile(r"^\s*<\?xml[^>]*\?>")
_NAMED_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]{1,31});")
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
_LATIN = {"iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252", "us-ascii", "ascii", "iso8859-1"}


def refuse_entity_declarations(body: bytes) -> None:
    head = body[:65536]
    m = _DOCTYPE_SUBSET.search(head)
    if m and b"<!ENTITY" in m.group(1).upper():
        raise IngestError(
            "the document declares XML entities in its DOCTYPE; evwire never expands entities "
            "(that is how entity-expansion and external-entity attacks work), so it refuses the feed. "
            "Ask the site to publish a plain feed"
        )


def _html_entities_to_chars(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in _XML_ENTITIES:
            return m.group(0)
        char = HTML5_ENTITIES.get(name + ";")
        return char if char is not None else m.group(0)

    return _NAMED_ENTITY.sub(repl, text)


def parse_xml_bytes(body: bytes, *, url: str | None = None, header_charset: str | None = None) -> Any:
    """Parse untrusted XML into an lxml root, working around wrong charsets and HTML entities.

    Returns (root, warnings). Raises IngestError when the bytes are not XML that can be read.
    """
    refuse_entity_declarations(body)
    warnings: list[str] = []
    decl = _DECL.match(body[:400])
    declared = decl.group(2).decode("ascii").lower() if decl else None
    if (declared in _LATIN or (declared is None and (header_charset or "").lower() in _LATIN)) and any(
        b > 0x7F for b in body[:200000]
    ):
        try:
            text = body.decode("utf-8")
            warnings.append(f"the feed says it is {declared or header_charset} but is UTF-8; read as UTF-8")
            return _parse_text(text, url), warnings
        except (UnicodeDecodeError, etree.XMLSyntaxError):
            pass
    try:
        return etree.fromstring(body, _PARSER, base_url=url), warnings
    except etree.XMLSyntaxError as exc:
        first = exc
    candidates = [c for c in (header_charset, "utf-8", "cp1252") if c]
    for charset in dict.fromkeys(c.lower() for c in candidates):
        try:
            text = body.decode(charset)
        except (UnicodeDecodeError, LookupError):
            continue
        try:
            root = _parse_text(_html_entities_to_chars(text), url)
        except etree.XMLSyntaxError:
            continue
        if charset != (declared or "utf-8"):
            warnings.append(f"the feed's bytes are not {declared or 'UTF-8'}; read them as {charset}")
        else:
            warnings.append("the feed uses HTML entities that XML does not define; evwire converted them")
        return root, warnings
    text = body.decode("utf-8", errors="replace")
    try:
        root = _parse_text(_html_entities_to_chars(text), url, recover=True)
    except etree.XMLSyntaxError:
        root = None
    readable = root is not None and _local(root.tag) in ("rss", "RDF", "feed", "opml")
    if readable and any(_local(e.tag) in ("item", "entry", "outline") for e in root.iter()):
        warnings.append(f"the feed is not well-formed XML ({_syntax(first)}); evwire read what it could")
        return root, warnings
    raise IngestError(
        f"the feed is not valid XML ({_syntax(first)}); check that the address points to a feed, "
        "or ask the site to fix it"
    )


def _syntax(exc: etree.XMLSyntaxError) -> str:
    msg = str(exc.msg if hasattr(exc, "msg") else exc).split(", line")[0].strip()
    return f"line {exc.lineno}: {msg}" if getattr(exc, "lineno", None) else msg


def _parse_text(text: str, url: str | None, *, recover: bool = False) -> Any:
    text = _DECL_STR.sub("", text.lstrip("\ufeff"), count=1)
    return etree.fromstring(text.encode("utf-8"), _RECOVER if recover else _PARSER, base_url=url)


def _local(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _ns(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


# ---------------------------------------------------------------- HTML: sanitise, plain text

SAFE_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "dl", "dt", "em",
    "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "li", "mark", "ol",
    "p", "pre", "q", "s", "small", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "time", "tr", "u", "ul",
}  # fmt: skip
SAFE_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "time": {"datetime"},
    "blockquote": {"cite"},
}
_BLOCK = re.compile(
    r"(?i)<(?:br\s*/?|/?(?:p|div|li|h[1-6]|blockquote|tr|table|ul|ol|pre|figure|figcaption|hr)\b[^>]*)>"
)
_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANKS = re.compile(r"\n\s*\n+")
_EDGES = re.compile(r" ?\n ?")


def sanitize_html(fragment: str, base_url: str | None = None) -> str:
    """Untrusted HTML to a safe subset (nh3): no scripts, styles or event handlers; links absolute."""
    if not fragment or not fragment.strip():
        return ""
    return nh3.clean(
        fragment,
        tags=SAFE_TAGS,
        attributes=SAFE_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        url_relative=("rewrite_with_base", base_url) if base_url else "deny",
    ).strip()


def html_to_text(fragment: str) -> str:
    """Plain text of (sanitised) HTML: paragraphs separated by a blank line."""
    if not fragment:
        return ""
    text = html.unescape(_TAG.sub("", _BLOCK.sub("\n\n", fragment)))
    text = _EDGES.sub("\n", _SPACES.sub(" ", text))
    return _BLANKS.sub("\n\n", text).strip()


def clean_title(value: str, *, is_html: bool) -> str:
    if is_html and ("<" in value or "&" in value):
        value = html.unescape(_TAG.sub("", value))
        if "&" in value:  # double-escaped titles are common: "Ford &amp;amp; Xiaomi"
            value = html.unescape(value)
    return " ".join(value.split())


# ---------------------------------------------------------------- dates


_SLASH_DATE = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(.*)$")


def parse_feed_date(value: str | None) -> datetime | None:
    """RFC 822 and ISO 8601 dates (and what feedparser reads) to aware UTC; None when unreadable."""
    if not value:
        return None
    value = value.strip()
    if not value:
        return None
    dt: datetime | None = None
    slashed = _SLASH_DATE.match(value)
    if slashed:  # 2026/01/05 10:00 (feedparser misreads these)
        y, mo, d, rest = slashed.groups()
        value = f"{y}-{int(mo):02d}-{int(d):02d}{rest}"
    if value[:4].isdigit() and len(value) >= 10 and value[4] == "-":
        try:
            dt = datetime.fromisoformat(value.replace(" ", "T", 1) if len(value) > 10 else value)
        except ValueError:
            dt = None
    if dt is None:
        import email.utils

        try:
            dt = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            dt = None
    if dt is None:
        from feedparser.datetimes import _parse_date  # the long tail of date formats

        parsed = _parse_date(value)
        if parsed is None:
            return None
        import calendar

        dt = datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


# ---------------------------------------------------------------- items


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


def _abs(base: str, href: str | None) -> str | None:
    if not href:
        return None
    href = href.strip()
    if not href:
        return None
    from urllib.parse import urljoin

    try:
        out = urljoin(base, href)
    except ValueError:
        return None
    return out if out.startswith(("http://", "https://")) else None


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
    if guid in used:
        return None
    used.add(guid)
    image = _abs(base, raw.image) or _first_img(content_html or summary_html)
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


def _parse_json(body: bytes, url: str, fetched_at: datetime, charset: str | None) -> ParsedFeed:
    warnings: list[str] = []
    try:
        data = json.loads(body)
    except UnicodeDecodeError:
        data = json.loads(body.decode(charset or "cp1252", errors="replace"))
        warnings.append("the JSON feed is not UTF-8; read it as " + (charset or "cp1252"))
    except json.JSONDecodeError as exc:
        raise IngestError(f"the JSON feed is not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith("https://jsonfeed.org/"):
        raise IngestError("the document is JSON but not a JSON Feed (no https://jsonfeed.org version)")
    used: set[str] = set()
    items: list[FeedItem] = []
    entries: list[Any] = data["items"] if isinstance(data.get("items"), list) else []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        raw = _Raw(url)
        raw.guid = str(entry["id"]) if entry.get("id") not in (None, "") else None
        raw.title = _str(entry.get("title"))
        raw.link = _str(entry.get("url")) or _str(entry.get("external_url"))
        raw.published, raw.updated = _str(entry.get("date_published")), _str(entry.get("date_modified"))
        if entry.get("content_html"):
            raw.content = _str(entry.get("content_html"))
        elif entry.get("content_text"):
            raw.content, raw.content_is_text = _str(entry.get("content_text")), True
        if entry.get("summary"):
            raw.summary, raw.summary_is_text = _str(entry.get("summary")), True
        raw.image = _str(entry.get("image")) or _str(entry.get("banner_image"))
        authors = entry.get("authors") or ([entry["author"]] if isinstance(entry.get("author"), dict) else [])
        names = [a.get("name") for a in authors if isinstance(a, dict) and a.get("name")]
        raw.author = ", ".join(map(str, names)) or None
        raw.categories = [str(t) for t in entry.get("tags") or [] if isinstance(t, str | int)]
        item = _finish(raw, fetched_at, used)
        if item is not None:
            items.append(item)
    if len(items) < len(entries):
        warnings.append(
            f"{len(entries) - len(items)} item(s) skipped: empty, or an id seen twice in the feed"
        )
    hubs = tuple(
        h["url"] for h in data.get("hubs") or [] if isinstance(h, dict) and isinstance(h.get("url"), str)
    )
    return ParsedFeed(
        "json",
        clean_title(_str(data.get("title")) or "", is_html=False),
        _abs(url, _str(data.get("home_page_url"))),
        tuple(items),
        _abs(url, _str(data.get("feed_url"))),
        hubs,
        tuple(warnings),
    )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None
