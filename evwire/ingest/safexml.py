"""Untrusted XML, read safely: no entity expansion, no DTD, no network; wrong charsets worked around.

A document that declares entities is refused outright. Used for feeds (``feedparse``) and OPML.

    root, warnings = parse_xml_bytes(body, url=url, header_charset=charset)
"""

from __future__ import annotations

import re
from html.entities import html5 as HTML5_ENTITIES
from typing import Any

from lxml import etree

from evwire.errors import IngestError


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
