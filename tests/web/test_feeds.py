"""Per-channel RSS 2.0 and Atom feeds: they parse cleanly and carry the channel's articles."""

from __future__ import annotations

import feedparser
from fastapi.testclient import TestClient

from tests.web.conftest import ADMIN, HOSTILE, post


def test_feeds_rss_and_atom_parse_and_contain_sample(client: TestClient, sample_id: int) -> None:
    for kind, version in (("rss", "rss20"), ("atom", "atom10")):
        r = client.get(f"/channels/xiaomi/feed.{kind}")
        assert r.status_code == 200
        assert ("rss" if kind == "rss" else "atom") in r.headers["content-type"]
        feed = feedparser.parse(r.content)
        assert feed.bozo == 0, feed.get("bozo_exception")
        assert feed.version == version
        assert "Xiaomi" in feed.feed.title
        titles = [e.title for e in feed.entries]
        assert "Ford, Xiaomi has explored joint venture to produce EVs in US, report says" in titles
        entry = feed.entries[0]
        assert entry.link.endswith(f"/articles/{sample_id}")
        assert entry.published_parsed[:3] == (2026, 1, 8)
        assert "Jim Farley" in entry.summary


def test_feeds_only_about_articles_and_empty_channel_valid(client: TestClient, sample_id: int) -> None:
    tesla = feedparser.parse(client.get("/channels/tesla/feed.rss").content)
    assert tesla.bozo == 0 and tesla.entries == []  # Tesla is only mentioned
    atom = feedparser.parse(client.get("/channels/nio/feed.atom").content)
    assert atom.bozo == 0 and atom.entries == []
    assert client.get("/channels/nope/feed.rss").status_code == 404


def test_feeds_newest_first_and_hostile_text_is_escaped(client: TestClient) -> None:
    older = post(client, title="NIO older story", text="NIO news.", published="2025-01-01T00:00:00Z")
    newer = post(
        client,
        title=HOSTILE,
        text="NIO \x01control\x02 chars & <b>tags</b>.",
        published="2025-02-01T00:00:00Z",
    )
    for art in (older, newer):
        assert (
            client.put(
                f"/api/articles/{art['id']}/channels/nio", json={"role": "about"}, headers=ADMIN
            ).status_code
            == 200
        )
    for kind in ("rss", "atom"):
        r = client.get(f"/channels/nio/feed.{kind}")
        assert b"<script>" not in r.content
        feed = feedparser.parse(r.content)
        assert feed.bozo == 0, feed.get("bozo_exception")
        assert [e.link.rsplit("/", 1)[1] for e in feed.entries] == [str(newer["id"]), str(older["id"])]
        assert feed.entries[0].title == HOSTILE
