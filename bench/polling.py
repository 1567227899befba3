"""Feed polling benchmarks. Part 1 (here now): parse throughput of evwire's parser vs feedparser.

    python bench/polling.py parse [--seconds 2]

Both parse the same documents: the golden fixtures in tests/data/feeds/ and 20-item RSS 2.0 and
Atom feeds built from the labelled corpus (real article text). Reported: items/s for each and the
ratio, plus agreement on what matters (guid, link, title, date) per fixture.

Part 2 (5,000 feeds from a local server, conditional polls/s and items stored/s, beside a
sequential requests + feedparser loop) comes with the poller and the store.
"""

from __future__ import annotations

import argparse
import calendar
import html
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import feedparser  # noqa: E402

from evwire.errors import IngestError  # noqa: E402
from evwire.ingest.feedparse import parse_feed  # noqa: E402

DATA = ROOT / "tests" / "data" / "feeds"
CORPUS = ROOT.parent / "shared" / "corpus" / "articles.jsonl"
NOW = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)


def corpus_feeds(n_items: int = 20) -> dict[str, bytes]:
    rows = (
        [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]
        if CORPUS.exists()
        else []
    )
    rows = (rows or [{"id": "x", "title": "EV news", "text": "Body text.\n\nMore text."}]) * 3
    rss, atom = [], []
    for i, row in enumerate(rows[:n_items]):
        when = NOW - timedelta(hours=3 * i)
        body = "".join(f"<p>{html.escape(p)}</p>" for p in row["text"].split("\n\n")[1:])
        link = f"https://bench.example/{row['id']}-{i}"
        rss.append(
            f"<item><title>{html.escape(row['title'])}</title><link>{link}</link><guid>{link}</guid>"
            f"<pubDate>{when.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
            f"<description>{html.escape(body[:300])}</description>"
            f"<content:encoded><![CDATA[{body}]]></content:encoded></item>"
        )
        atom.append(
            f"<entry><title>{html.escape(row['title'])}</title><id>{link}</id><link href='{link}'/>"
            f"<updated>{when.isoformat()}</updated><content type='html'>{html.escape(body)}</content></entry>"
        )
    return {
        "corpus-rss2": (
            "<?xml version='1.0' encoding='utf-8'?><rss version='2.0' "
            "xmlns:content='http://purl.org/rss/1.0/modules/content/'><channel><title>Bench</title>"
            f"<link>https://bench.example/</link>{''.join(rss)}</channel></rss>"
        ).encode(),
        "corpus-atom": (
            "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
            f"<title>Bench</title><id>urn:bench</id><updated>{NOW.isoformat()}</updated>{''.join(atom)}</feed>"
        ).encode(),
    }


def fixtures() -> dict[str, bytes]:
    docs = {
        p.parent.name: p.read_bytes() for p in sorted(DATA.glob("*/feed.*")) if p.suffix in (".xml", ".json")
    }
    docs.update(corpus_feeds())
    return docs


def ours(body: bytes, url: str) -> list:
    return list(parse_feed(body, url=url, fetched_at=NOW).items)


def theirs(body: bytes, url: str) -> list:
    return list(feedparser.parse(body, response_headers={"content-location": url}).entries)


def rate(fn, docs: dict[str, bytes], seconds: float) -> float:
    items = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for name, body in docs.items():
            items += len(fn(body, f"https://{name}.example/feed"))
    return items / (time.perf_counter() - start)


def agreement(docs: dict[str, bytes]) -> list[tuple[str, int, int, str]]:
    """(fixture, items ours, items feedparser, differences) on guid, link, title and date."""
    rows = []
    for name, body in docs.items():
        url = f"https://{name}.example/feed"
        try:
            mine = ours(body, url)
        except IngestError as exc:
            rows.append((name, 0, len(theirs(body, url)), f"ours refused: {exc}"))
            continue
        other = theirs(body, url)
        diffs = []
        for a, b in zip(mine, other, strict=False):
            if b.get("link") and a.link != b.get("link"):
                diffs.append(f"link {a.link} != {b.get('link')}")
            if b.get("title") and a.title != " ".join(html.unescape(b.get("title")).split()):
                diffs.append(f"title {a.title!r} != {b.get('title')!r}")
            if b.get("id") and a.guid != b.get("id"):
                diffs.append(f"guid {a.guid} != {b.get('id')}")
            parsed = b.get("published_parsed") or b.get("updated_parsed")
            if parsed and not a.date_missing and calendar.timegm(parsed) != int(a.published_at.timestamp()):
                diffs.append(f"date {a.published_at} != {time.strftime('%Y-%m-%dT%H:%M:%S', parsed)}")
        rows.append((name, len(mine), len(other), " | ".join(diffs) or "same"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("part", nargs="?", default="parse", choices=["parse"])
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    docs = fixtures()
    per_pass = sum(len(ours(b, "https://x.example/")) for b in docs.values())
    print(f"{len(docs)} documents, {per_pass} items per pass")
    print("agreement with feedparser (guid, link, title, date):")
    for name, n_ours, n_theirs, diff in agreement(docs):
        print(f"  {name:26s} items {n_ours:2d} / {n_theirs:2d}  {diff}")
    mine = rate(ours, docs, args.seconds)
    other = rate(theirs, docs, args.seconds)
    print(f"evwire parser {mine:,.0f} items/s; feedparser {other:,.0f} items/s; ratio {mine / other:.1f}x")


if __name__ == "__main__":
    main()
