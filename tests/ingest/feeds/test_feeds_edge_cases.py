"""Odd but legal feed documents that used to crash the parser (an exception other than IngestError
fails the whole poll with "evwire could not store this poll"). Each test failed before its fix."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from evwire.errors import IngestError
from evwire.feedops import OpmlImport, import_opml
from evwire.ingest.feedparse import parse_feed
from evwire.pipeline import open_services
from evwire.settings import Settings
from evwire.store.feeds import list_feeds

NOW = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)
VERSION = "https://jsonfeed.org/version/1.1"


def _json(data: dict) -> bytes:
    return json.dumps({"version": VERSION, "title": "EV", **data}).encode()


@pytest.mark.parametrize(
    "odd",
    [
        {"hubs": 5, "items": [{"id": "1", "title": "Xiaomi"}]},
        {"items": [{"id": "1", "title": "Xiaomi", "tags": 5}]},
        {"items": [{"id": "1", "title": "Xiaomi", "authors": 5}]},
    ],
)
def test_json_feed_with_wrongly_typed_lists_keeps_its_items(odd: dict) -> None:
    feed = parse_feed(_json(odd), url="https://ev.example/feed.json", fetched_at=NOW)
    assert [i.title for i in feed.items] == ["Xiaomi"] and feed.hub_urls == ()


def test_json_feed_tags_given_as_a_string_is_one_tag_not_its_letters() -> None:
    body = _json({"items": [{"id": "1", "title": "Xiaomi", "tags": "ev"}]})
    assert parse_feed(body, url="https://ev.example/feed.json", fetched_at=NOW).items[0].categories == ("ev",)


def test_json_feed_not_utf8_and_broken_is_an_ingest_error() -> None:
    body = b'{"version": "' + VERSION.encode() + b'", "title": "\xe9", "items": [}'
    with pytest.raises(IngestError, match="not valid JSON"):
        parse_feed(body, url="https://ev.example/feed.json", fetched_at=NOW)


def test_opml_import_takes_odd_entries_without_losing_the_others(settings: Settings) -> None:
    # an upper-case scheme is legal (RFC 3986: schemes are case-insensitive) and a feed reader's
    # title or folder can be long; either used to abort the whole import (EvwireError, or DataError
    # on PostgreSQL), so none of the file's feeds were followed
    long_title, long_folder = "T" * 700, "F" * 600
    opml = f"""<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
      <outline text="{long_folder}">
        <outline text="{long_title}" type="rss" xmlUrl="https://long.example/feed"/>
      </outline>
      <outline text="Upper" type="rss" xmlUrl="HTTPS://Upper.example/feed"/>
      <outline text="Plain" type="rss" xmlUrl="https://plain.example/feed"/>
    </body></opml>""".encode()
    services = open_services(settings)
    try:
        assert import_opml(services, opml, now=NOW) == OpmlImport(3, 0)
        with services.db.session() as session:
            rows = {f.url: f for f in list_feeds(session)}
            assert set(rows) == {
                "https://long.example/feed",
                "https://Upper.example/feed",
                "https://plain.example/feed",
            }
            long = rows["https://long.example/feed"]
            assert long.title == "T" * 500 and long.category == "F" * 500
    finally:
        services.close()


def test_opml_import_skips_what_it_cannot_follow_and_says_why(settings: Settings) -> None:
    far = "https://far.example/" + "x" * 2100
    opml = f"""<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
      <outline text="A" type="rss" xmlUrl="https://a.example/feed"/>
      <outline text="Far" type="rss" xmlUrl="{far}"/>
      <outline text="B" type="rss" xmlUrl="https://b.example/feed"/>
    </body></opml>""".encode()
    services = open_services(settings)
    try:
        result = import_opml(services, opml, now=NOW)
        assert (result.added, result.known) == (2, 0)
        assert len(result.skipped) == 1 and result.skipped[0].startswith("https://far.example/xxx")
        assert "at most 2000" in result.skipped[0]
        with services.db.session() as session:
            assert {f.url for f in list_feeds(session)} == {
                "https://a.example/feed",
                "https://b.example/feed",
            }
    finally:
        services.close()
