"""Feed discovery from a home page, OPML round trip, WebSub pure parts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from evwire.errors import IngestError
from evwire.ingest.discover import find_feed_links, looks_like_feed
from evwire.ingest.opml import OpmlFeed, parse_opml, write_opml
from evwire.ingest.websub import (
    Subscription,
    check_signature,
    renewal_time,
    sign,
    subscribe_form,
    verify_challenge,
)

PAGE = b"""<!doctype html><html><head><base href="/news/">
<link rel="stylesheet" href="x.css">
<link rel="alternate" type="application/rss+xml" title="Comments" href="/comments/feed">
<link rel="alternate" type="application/rss+xml" title="EV Daily" href="feed.xml">
<link rel="alternate" type="application/atom+xml" href="https://evdaily.example/atom">
<link rel="alternate" type="application/json" href="/wp-json/oembed">
<link rel="alternate" type="application/feed+json" href="feed.json">
</head><body><p>news</p></body></html>"""


def test_discover_finds_alternate_links_absolute() -> None:
    links = find_feed_links(PAGE, "https://evdaily.example/index.html")
    assert [(link.url, link.kind) for link in links] == [
        ("https://evdaily.example/news/feed.xml", "rss"),
        ("https://evdaily.example/atom", "atom"),
        ("https://evdaily.example/news/feed.json", "json"),
        ("https://evdaily.example/comments/feed", "rss"),
    ]
    assert links[0].title == "EV Daily"
    assert find_feed_links(b"<html><body>no feeds</body></html>", "https://x.example/") == []


def test_discover_tells_feeds_from_pages(feed_server) -> None:
    assert not looks_like_feed(PAGE, "text/html")
    assert looks_like_feed(b"<?xml version='1.0'?><rss version='2.0'>", "text/xml")
    assert looks_like_feed(b'{"version": "https://jsonfeed.org/version/1.1"}', "application/json")


OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0"><head><title>My feeds</title></head><body>
<outline text="EV"><outline text="China">
  <outline type="rss" text="CnEVPost" xmlUrl="https://cnevpost.example/feed" htmlUrl="https://cnevpost.example/"/>
</outline>
<outline type="rss" title="Electrek" text="electrek" xmlUrl="https://electrek.example/feed/"/></outline>
<outline type="rss" text="Top" xmlUrl="https://top.example/rss"/>
<outline type="rss" text="dupe" xmlUrl="https://top.example/rss"/>
<outline type="rss" text="bad" xmlUrl="javascript:alert(1)"/>
</body></opml>"""


def test_opml_parse_nested_and_round_trip() -> None:
    feeds = parse_opml(OPML)
    assert feeds == [
        OpmlFeed("https://cnevpost.example/feed", "CnEVPost", "https://cnevpost.example/", ("EV", "China")),
        OpmlFeed("https://electrek.example/feed/", "Electrek", None, ("EV",)),
        OpmlFeed("https://top.example/rss", "Top", None, ()),
    ]
    assert parse_opml(write_opml(feeds, now=datetime(2026, 1, 8, tzinfo=UTC))) == feeds


def test_opml_refuses_entities_and_non_opml() -> None:
    with pytest.raises(IngestError, match="declares XML entities"):
        parse_opml(b'<!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]><opml><body/></opml>')
    with pytest.raises(IngestError, match="not OPML"):
        parse_opml(b"<rss version='2.0'><channel/></rss>")


SUB = Subscription(
    hub="https://hub.example/",
    topic="https://evdaily.example/feed/",
    callback="https://evwire.test/websub/7/abc",
    secret="s3cret-s3cret",
    lease_seconds=86400,
)


def test_websub_subscribe_form() -> None:
    assert subscribe_form(SUB) == {
        "hub.mode": "subscribe",
        "hub.topic": "https://evdaily.example/feed/",
        "hub.callback": "https://evwire.test/websub/7/abc",
        "hub.secret": "s3cret-s3cret",
        "hub.lease_seconds": "86400",
    }


def test_websub_challenge_echoed_only_for_what_we_asked() -> None:
    good = {
        "hub.mode": "subscribe",
        "hub.topic": SUB.topic,
        "hub.challenge": "xyz",
        "hub.lease_seconds": "3600",
    }
    answer = verify_challenge(good, SUB)
    assert answer.ok and answer.body == "xyz" and answer.status == 200 and answer.lease_seconds == 3600
    assert verify_challenge({**good, "hub.topic": "https://evil.example/"}, SUB).status == 404
    assert verify_challenge({**good, "hub.mode": "unsubscribe"}, SUB).status == 404
    assert verify_challenge(good, None).status == 404
    denied = verify_challenge({"hub.mode": "denied", "hub.topic": SUB.topic, "hub.reason": "spam"}, SUB)
    assert not denied.ok and "spam" in denied.body


@pytest.mark.parametrize("method", ["sha1", "sha256"])
def test_websub_signature_checked(method: str) -> None:
    body = b"<feed>pushed</feed>"
    header = sign(body, SUB.secret, method)
    assert check_signature(header, body, SUB.secret)
    assert not check_signature(header, body + b"x", SUB.secret)
    assert not check_signature(header, body, "other-secret")
    assert not check_signature(None, body, SUB.secret)
    assert not check_signature("md5=abcd", body, SUB.secret)


def test_websub_renewal_before_lease_ends() -> None:
    at = datetime(2026, 1, 8, tzinfo=UTC)
    assert renewal_time(at, 10 * 86400) == at + timedelta(days=8)
    assert renewal_time(at, 3600) == at  # a one-hour lease: renew right away
