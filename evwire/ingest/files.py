"""Article bytes (a file, stdin or an upload) to a ParsedArticle: checks, decoding, HTML or plain text.

Every problem is an IngestError whose message says what is wrong with the input.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from evwire.errors import IngestError
from evwire.ingest.html import parse_html
from evwire.ingest.plaintext import parse_plain_text
from evwire.ingest.types import ParsedArticle

HTML_START_RE = re.compile(rb"^\s*<(?:!doctype\s+html|html|head|body|meta|article|!--)", re.I)
HTML_TAG_RE = re.compile(rb"<(?:html|head|body|p|div|article)\b[^>]*>", re.I)
CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.I)
HTML_SUFFIXES = (".html", ".htm", ".xhtml")


def _human(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB"
    if n >= 1_000:
        return f"{n / 1_000:.0f} KB"
    return f"{n} bytes"


def looks_like_html(data: bytes, name: str | None = None) -> bool:
    if name and name.lower().endswith(HTML_SUFFIXES):
        return True
    head = data[:4096].lstrip(codecs.BOM_UTF8)
    return bool(HTML_START_RE.match(head) or (head.lstrip().startswith(b"<") and HTML_TAG_RE.search(head)))


def decode_text(data: bytes, *, html: bool, label: str) -> str:
    """UTF-8 (with or without BOM); for HTML also a charset the page declares."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise IngestError(f"{label} starts with a UTF-16 mark but is not valid UTF-16") from exc
    if b"\x00" in data:
        raise IngestError(f"{label} contains NUL bytes: it is a binary file, not a text or HTML article")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if html and (m := CHARSET_RE.search(data[:4096])):
            charset = m.group(1).decode("ascii", "replace")
            try:
                codecs.lookup(charset)
                return data.decode(charset)
            except (LookupError, UnicodeDecodeError):
                pass
        raise IngestError(
            f"{label} is not UTF-8 text (invalid byte at offset {exc.start}); save it as UTF-8 and try again"
        ) from exc


def read_article_bytes(
    data: bytes, *, name: str | None = None, max_bytes: int, url: str | None = None
) -> ParsedArticle:
    """Parse an article from raw bytes, sniffing HTML vs the plain-text format.

    `name` (a file name, for messages and the .html hint) and `url` (overrides what the file says).
    """
    label = name or "the input"
    if len(data) > max_bytes:
        raise IngestError(
            f"{label} is {_human(len(data))}; the limit is {_human(max_bytes)} (EVWIRE_MAX_ARTICLE_BYTES)"
        )
    if not data.strip():
        raise IngestError(f"{label} is empty: expected an article (plain text or an HTML page)")
    html = looks_like_html(data, name)
    text = decode_text(data, html=html, label=label)
    try:
        if html:
            parsed = parse_html(text, url=url)
        else:
            parsed = parse_plain_text(text, url=url)
    except IngestError as exc:
        raise IngestError(f"{label}: {exc}") from exc
    if url and parsed.url != url:
        parsed = replace(parsed, url=url)
    return parsed


def read_article_source(
    source: str, *, max_bytes: int, url: str | None = None, stdin: BinaryIO | None = None
) -> ParsedArticle:
    """Read and parse an article from a file path, or from `stdin` when source is "-"."""
    if source == "-":
        if stdin is None:
            raise IngestError("no standard input to read the article from")
        data = stdin.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise IngestError(
                f"standard input is more than {_human(max_bytes)}, the limit (EVWIRE_MAX_ARTICLE_BYTES)"
            )
        return read_article_bytes(data, name="standard input", max_bytes=max_bytes, url=url)
    path = Path(source)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise IngestError(
                f"{source} is {_human(size)}; the limit is {_human(max_bytes)} (EVWIRE_MAX_ARTICLE_BYTES)"
            )
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except IsADirectoryError as exc:
        raise IngestError(f"{source} is a folder, not an article file") from exc
    except OSError as exc:
        raise IngestError(f"cannot read {source}: {exc.strerror or exc}") from exc
    return read_article_bytes(data, name=source, max_bytes=max_bytes, url=url)
