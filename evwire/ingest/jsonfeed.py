"""JSON Feed (https://jsonfeed.org) 1.0 and 1.1 into a ``ParsedFeed``."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from evwire.errors import IngestError
from evwire.ingest.feeditems import FeedItem, ParsedFeed, _finish, _Raw
from evwire.ingest.feedtext import _abs, clean_title


def _parse_json(body: bytes, url: str, fetched_at: datetime, charset: str | None) -> ParsedFeed:
    warnings: list[str] = []
    try:
        data = json.loads(body)
    except UnicodeDecodeError:
        try:
            data = json.loads(body.decode(charset or "cp1252", errors="replace"))
        except (json.JSONDecodeError, LookupError) as exc:
            raise IngestError(f"the JSON feed is not valid JSON ({exc})") from exc
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
        authors = _list(entry.get("authors")) or _list(entry.get("author"))
        names = [a.get("name") for a in authors if isinstance(a, dict) and a.get("name")]
        raw.author = ", ".join(map(str, names)) or None
        raw.categories = [str(t) for t in _list(entry.get("tags")) if isinstance(t, str | int)]
        item = _finish(raw, fetched_at, used)
        if item is not None:
            items.append(item)
    if len(items) < len(entries):
        warnings.append(
            f"{len(entries) - len(items)} item(s) skipped: empty, or an id seen twice in the feed"
        )
    hubs = tuple(
        h["url"] for h in _list(data.get("hubs")) if isinstance(h, dict) and isinstance(h.get("url"), str)
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


def _list(value: Any) -> list[Any]:
    """A member that should be an array, as a list: a lone object or string is a list of one."""
    if isinstance(value, list):
        return value
    return [value] if isinstance(value, dict | str) else []
