"""Parser golden cases (tests/data/feeds/<case>/ + expected.json) and XML safety.

Regenerate the expected files with EVWIRE_REGEN_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from evwire.errors import IngestError
from evwire.ingest.feedparse import parse_feed
from evwire.ingest.feedtext import html_to_text, parse_feed_date, sanitize_html
from evwire.ingest.safexml import safe_xml_parser

DATA = Path(__file__).resolve().parents[2] / "data" / "feeds"
NOW = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)
CASES = sorted(p.name for p in DATA.iterdir() if (p / "feed.xml").exists() or (p / "feed.json").exists())
HEADER_CHARSET = {"charset-header-lies": "application/rss+xml; charset=ISO-8859-1"}


def _as_json(case: str) -> dict:
    path = next((DATA / case).glob("feed.*"))
    feed = parse_feed(
        path.read_bytes(),
        url=f"https://{case}.example/feed",
        fetched_at=NOW,
        content_type=HEADER_CHARSET.get(case),
    )
    out = asdict(feed)
    for item in out["items"]:
        for key in ("published_at", "updated_at"):
            item[key] = item[key].isoformat() if item[key] else None
    return json.loads(json.dumps(out))


@pytest.mark.parametrize("case", CASES)
def test_parse_golden(case: str) -> None:
    expected_path = DATA / case / "expected.json"
    got = _as_json(case)
    if os.environ.get("EVWIRE_REGEN_GOLDEN") or not expected_path.exists():
        expected_path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n")
    assert got == json.loads(expected_path.read_text())


def test_parse_rss2_what_a_reader_sees() -> None:
    feed = parse_feed(
        (DATA / "rss2" / "feed.xml").read_bytes(), url="https://evdaily.example/feed/", fetched_at=NOW
    )
    first, second, third, undated = feed.items
    assert first.link == "https://evdaily.example/2026/01/xiaomi-deliveries"  # relative link made absolute
    assert first.published_at == datetime(2026, 1, 8, 1, 30, tzinfo=UTC)  # +0800 to UTC
    assert "onclick" not in first.content_html and "<iframe" not in first.content_html
    assert "script" not in first.summary_html
    assert 'href="https://evdaily.example/tags/xiaomi"' in first.content_html
    assert first.image_url == "https://cdn.evdaily.example/xiaomi-su7.jpg"
    assert second.title == "Ford & BYD: a battery deal?" and second.guid == second.link
    assert third.published_at == datetime(2026, 1, 2, 21, 5, tzinfo=UTC)  # EST
    assert (
        undated.date_missing and undated.published_at == NOW and undated.guid.startswith("urn:evwire:sha1:")
    )
    assert feed.hub_urls == ("https://hub.example/",) and feed.self_url == "https://evdaily.example/feed/"


def test_parse_atom_xml_base_and_xhtml() -> None:
    feed = parse_feed(
        (DATA / "atom" / "feed.xml").read_bytes(), url="https://atom.example/feed.atom", fetched_at=NOW
    )
    a, b = feed.items
    assert a.link == "https://atom.example/blog/posts/byd-tesla"
    assert b.link == "https://other.example/news/vw-xpeng.html"
    assert a.text == "BYD sold 2.26 million BEVs in 2025.\n\nSee the chart."
    assert a.published_at == datetime(2026, 1, 2, 0, 0, tzinfo=UTC) and a.updated_at is not None


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>T</title><item><title>&lol9;</title><link>https://x.example/</link></item></channel></rss>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>T</title><item><title>a &xxe; b</title><link>https://x.example/</link></item></channel></rss>"""


def test_parse_billion_laughs_refused_fast() -> None:
    started = time.monotonic()
    with pytest.raises(IngestError, match="never expands entities"):
        parse_feed(BILLION_LAUGHS, url="https://x.example/feed", fetched_at=NOW)
    assert time.monotonic() - started < 1


def test_parse_external_entity_refused() -> None:
    with pytest.raises(IngestError, match="declares XML entities"):
        parse_feed(XXE, url="https://x.example/feed", fetched_at=NOW)


def test_parse_safe_parser_never_expands_even_without_the_precheck() -> None:
    from lxml import etree

    root = etree.fromstring(XXE, safe_xml_parser())
    title = "".join(root.find(".//item/title").itertext())
    assert "root:" not in title  # /etc/passwd was not read
    with pytest.raises(etree.XMLSyntaxError):  # libxml2's amplification guard, and no expansion
        root = etree.fromstring(BILLION_LAUGHS, safe_xml_parser())
        assert len("".join(root.itertext())) < 1000


def test_parse_invalid_xml_and_non_feeds() -> None:
    with pytest.raises(IngestError, match="empty"):
        parse_feed(b"  ", url="https://x.example/", fetched_at=NOW)
    with pytest.raises(IngestError, match="not a feed"):
        parse_feed(b"<?xml version='1.0'?><svg/>", url="https://x.example/", fetched_at=NOW)
    with pytest.raises(IngestError, match="not a JSON Feed"):
        parse_feed(b'{"hello": 1}', url="https://x.example/", fetched_at=NOW)


def test_parse_recovers_a_slightly_broken_feed_with_a_warning() -> None:
    body = (
        b"<rss version='2.0'><channel><title>T</title>"
        b"<item><title>A & B</title><link>https://x.example/a</link></item></channel></rss>"
    )
    feed = parse_feed(body, url="https://x.example/feed", fetched_at=NOW)
    assert [i.link for i in feed.items] == ["https://x.example/a"]
    assert feed.warnings and "not well-formed" in feed.warnings[0]


def test_parse_future_dates_clamped_to_fetch_time() -> None:
    body = (
        b"<rss version='2.0'><channel><item><title>T</title><guid>g</guid>"
        b"<pubDate>Mon, 01 Jan 2035 00:00:00 GMT</pubDate></item></channel></rss>"
    )
    assert parse_feed(body, url="https://x.example/", fetched_at=NOW).items[0].published_at == NOW


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Thu, 08 Jan 2026 09:30:00 +0800", datetime(2026, 1, 8, 1, 30, tzinfo=UTC)),
        ("Thu, 08 Jan 2026 09:30:00 GMT", datetime(2026, 1, 8, 9, 30, tzinfo=UTC)),
        ("2026-01-08T09:30:00Z", datetime(2026, 1, 8, 9, 30, tzinfo=UTC)),
        ("2026-01-08T09:30:00.123+01:00", datetime(2026, 1, 8, 8, 30, 0, 123000, tzinfo=UTC)),
        ("2026-01-08", datetime(2026, 1, 8, tzinfo=UTC)),
        ("08 Jan 2026 09:30 PST", datetime(2026, 1, 8, 17, 30, tzinfo=UTC)),
        ("2026/01/05 10:00", datetime(2026, 1, 5, 10, 0, tzinfo=UTC)),
        ("not a date", None),
    ],
)
def test_parse_dates_to_utc(raw: str, expected: datetime | None) -> None:
    assert parse_feed_date(raw) == expected


def test_parse_sanitiser_keeps_a_safe_subset() -> None:
    dirty = (
        '<p style="x" onmouseover="a()">Hi <a href="javascript:alert(1)">x</a> <a href="/ok">ok</a></p>'
        "<script>bad()</script><style>p{}</style>"
    )
    clean = sanitize_html(dirty, "https://site.example/a/")
    rel = 'rel="noopener noreferrer nofollow"'
    assert clean == f'<p>Hi <a {rel}>x</a> <a href="https://site.example/ok" {rel}>ok</a></p>'
    assert html_to_text(clean) == "Hi x ok"


def test_parse_agrees_with_feedparser_on_fixtures() -> None:
    """Same guid, link, title and date as feedparser, except where we chose otherwise: titles as plain
    text (feedparser keeps markup), guids kept verbatim (feedparser resolves them as URLs)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_polling", DATA.parents[2] / "bench" / "polling.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rows = {name: (mine, theirs, diff) for name, mine, theirs, diff in bench.agreement(bench.fixtures())}
    for name in ("rss1", "rss091", "corpus-rss2", "corpus-atom"):
        assert rows[name][2] == "same", (name, rows[name])
    for name, (mine, theirs, diff) in rows.items():
        if name != "jsonfeed":  # feedparser does not read JSON Feed
            assert mine == theirs, (name, diff)
        for part in filter(None, diff.replace("same", "").split(" | ")):
            assert part.startswith(("title", "guid")), (name, part)
