"""The plain-text article format (the sample article's), documented in the README.

---                     optional front matter, `key: value` lines:
url: https://...        url, source, published, image, credit
---
Headline                first non-empty line

  • key point           bullet lines start with •, -, * or –
Caption alt text        optional; dropped when repeated below
(Caption. Image credit: Source)

Body paragraphs, separated by blank lines.
Jan 8, 2026             a lone date line near the end is the publication date;
Xiaomi News Alert ...   page furniture after it is dropped
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from evwire.errors import IngestError
from evwire.ingest.types import ParsedArticle

BULLET_RE = re.compile(r"^\s*[•\-\*–·▪●]\s+(.+)$")
CREDIT_RE = re.compile(
    r"^\((?P<caption>.*?)\s*(?:Image|Photo|Picture)\s+(?:credit|source)\s*:\s*(?P<credit>[^)]+)\)?\s*$", re.I
)
MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
DATE_LINE_RES = [
    (re.compile(rf"^(?:{MONTHS})[a-z]*\.? \d{{1,2}},? \d{{4}}$", re.I), None),
    (re.compile(rf"^\d{{1,2}} (?:{MONTHS})[a-z]* \d{{4}}$", re.I), None),
    (re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ][\d:]+(?:Z|[+-]\d{2}:?\d{2})?)?$"), None),
]
# Lines that are page furniture, not article text.
FURNITURE_RE = re.compile(
    r"^(join us on\b.*|share this\b.*|view more channels|subscribe to receive\b.*|.* news alert)$", re.I
)
YEARS_ONLY_RE = re.compile(r"^(?:(?:19|20)\d{2}\s*)+$")


def parse_date(text: str) -> datetime | None:
    """Dates as articles print them, to UTC midnight (or the given time)."""
    s = text.strip().rstrip(".")
    if re.match(r"^\d{4}-\d{2}-\d{2}", s):
        try:
            dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            return None
        return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    s = re.sub(r"\bSept\b", "Sep", s, flags=re.I).replace(",", "").replace(".", "")
    for fmt in ("%b %d %Y", "%B %d %Y", "%d %b %Y", "%d %B %Y"):
        try:
            return datetime.strptime(s, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _is_date_line(line: str) -> bool:
    return any(rx.match(line.strip()) for rx, _ in DATE_LINE_RES)


def _front_matter(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    if not lines or lines[0].strip() != "---":
        return {}, lines
    for i in range(1, min(len(lines), 40)):
        if lines[i].strip() == "---":
            meta = {}
            for raw in lines[1:i]:
                key, sep, value = raw.partition(":")
                if sep:
                    meta[key.strip().lower()] = value.strip()
            return meta, lines[i + 1 :]
    return {}, lines


def parse_plain_text(text: str, *, url: str | None = None) -> ParsedArticle:
    """Parse an article in the sample's plain-text format. Raises IngestError when there is no article."""
    if "\x00" in text:
        raise IngestError("the file contains NUL bytes; it is not a plain-text article")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    meta, lines = _front_matter(lines)
    idx = 0
    while idx < len(lines) and not lines[idx].strip():
        idx += 1
    if idx >= len(lines):
        raise IngestError("the article is empty: expected a headline on the first line")
    title = " ".join(lines[idx].split())
    idx += 1

    bullets: list[str] = []
    caption: str | None = None
    credit: str | None = None
    rest: list[str] = []
    in_head = True
    for line in lines[idx:]:
        stripped = line.strip()
        if in_head:
            m = BULLET_RE.match(line)
            if m:
                bullets.append(" ".join(m.group(1).split()))
                continue
            if not stripped:
                if bullets or rest:
                    in_head = not rest and True
                continue
        c = CREDIT_RE.match(stripped)
        if c and caption is None:
            caption = (
                c.group("caption").strip().rstrip(".").strip() + "." if c.group("caption").strip() else None
            )
            credit = c.group("credit").strip()
            # the alt text just above repeats the caption
            while rest and not rest[-1].strip():
                rest.pop()
            if rest and caption and rest[-1].strip().rstrip(".") == caption.rstrip("."):
                rest.pop()
            continue
        in_head = False
        rest.append(line)

    # A lone date line in the last part is the publication date; what follows is page furniture.
    published = parse_date(meta["published"]) if meta.get("published") else None
    tail_start = max(0, len(rest) - 12)
    for i in range(len(rest) - 1, tail_start - 1, -1):
        if _is_date_line(rest[i]):
            published = published or parse_date(rest[i])
            rest = rest[:i]
            break
    paragraphs: list[str] = []
    current: list[str] = []
    for line in rest:
        stripped = line.strip()
        if not stripped or FURNITURE_RE.match(stripped) or YEARS_ONLY_RE.match(stripped):
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        current.append(" ".join(stripped.split()))
    if current:
        paragraphs.append(" ".join(current))
    body = "\n\n".join(paragraphs)
    if not body and not bullets:
        raise IngestError("the article has a headline but no text")
    return ParsedArticle(
        title=title,
        body=body,
        bullets=tuple(bullets),
        url=meta.get("url") or url,
        image_url=meta.get("image") or None,
        image_caption=caption,
        image_credit=meta.get("credit") or credit,
        published_at=published,
        source_name=meta.get("source") or credit,
    )
