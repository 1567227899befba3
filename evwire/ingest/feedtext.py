"""Cleaning what a feed says: HTML sanitised (nh3) and made plain text, titles, dates, links.

Shared by the RSS/Atom (``feedxml``) and JSON Feed (``jsonfeed``) readers through ``feeditems``.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import nh3

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

        try:  # "0000-00-00 00:00:00" comes back as year 0
            dt = datetime.fromtimestamp(calendar.timegm(parsed), UTC)
        except (ValueError, OverflowError, OSError):
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        return dt.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-14:00 is past datetime's range in UTC
        return None


# ---------------------------------------------------------------- links


MAX_URL = 2000  # the URL columns' length (articles.url, image_url, feeds.site_url, ...)


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
    if len(out) > MAX_URL:  # longer than the URL columns hold: as if the feed gave none
        return None
    return out if out.startswith(("http://", "https://")) else None
