from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from evwire.errors import EvwireError, NotFoundError
from evwire.ingest.types import ParsedArticle
from evwire.pipeline import retag_articles, untag_article
from evwire.store.articles import (
    apply_tagging,
    article_channels,
    clear_editor_mention,
    get_article,
    list_articles,
    set_editor_mention,
    upsert_article,
)
from evwire.store.companies import sync_catalog
from evwire.store.db import Database
from evwire.tag.tagger import Tagger
from evwire.tag.types import CompanyTag, Tagging
from tests.store.helpers import sample_tagging, small_catalog

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
ARTICLE = ParsedArticle(
    title="Ford, Xiaomi explore a joint venture",
    body="Ford has held talks with Xiaomi about making EVs in the US. Tesla and Nvidia were not involved.",
    bullets=("Ford CEO Jim Farley likes the Xiaomi SU7.",),
    url="https://example.org/a",
    published_at=datetime(2026, 1, 8, tzinfo=UTC),
    source_name="Example",
)


@pytest.fixture
def synced(db: Database) -> Database:
    with db.session() as s:
        sync_catalog(s, small_catalog())
    return db


def _count(db: Database) -> int:
    with db.session() as s:
        return len(list_articles(s, limit=1000))


def test_upsert_article_inserts_with_mentions_tickers_people(synced: Database) -> None:
    with synced.session() as s:
        article, created = upsert_article(s, ARTICLE, sample_tagging(), now=NOW)
        article_id = article.id
    assert created
    with synced.session() as s:
        a = get_article(s, article_id)
        assert a is not None
        assert article_channels(a) == (["xiaomi", "ford"], ["tesla", "nvidia"])
        assert a.created_at == NOW and a.published_at == datetime(2026, 1, 8, tzinfo=UTC)
        assert a.published_at.tzinfo is not None
        assert {(t.exchange, t.symbol, t.company.slug if t.company else None) for t in a.tickers} == {
            ("HKG", "1810", "xiaomi"),
            ("NASDAQ", "TSLA", "tesla"),
            ("LSE", "XYZ", None),
        }
        assert {(p.name, p.company.slug if p.company else None) for p in a.people} == {
            ("Jim Farley", "ford"),
            ("Jensen Huang", "nvidia"),
        }
        assert all(m.origin == "auto" for m in a.mentions)


def test_upsert_article_same_url_updates_in_place(synced: Database) -> None:
    with synced.session() as s:
        first, _ = upsert_article(s, ARTICLE, sample_tagging(), now=NOW)
    edited = ParsedArticle(title="Ford and Xiaomi: talks confirmed", body="New text.", url=ARTICLE.url)
    later = NOW + timedelta(hours=2)
    with synced.session() as s:
        again, created = upsert_article(s, edited, Tagging(), now=later)
    assert not created and again.id == first.id
    assert _count(synced) == 1
    with synced.session() as s:
        a = get_article(s, first.id)
        assert a is not None
        assert a.title == "Ford and Xiaomi: talks confirmed"
        assert a.created_at == NOW and a.updated_at == later
        assert a.published_at == ARTICLE.published_at  # kept: the new version gives no date
        assert article_channels(a) == ([], [])


def test_upsert_article_same_content_other_url_updates_in_place(synced: Database) -> None:
    with synced.session() as s:
        first, _ = upsert_article(s, ARTICLE, sample_tagging(), now=NOW)
    # the same text, re-posted from another address with different whitespace and case
    repost = ParsedArticle(
        title=ARTICLE.title.upper(),
        body="  " + ARTICLE.body.replace(" ", "\n  "),
        url="https://mirror.example.org/a",
    )
    with synced.session() as s:
        again, created = upsert_article(s, repost, sample_tagging(), now=NOW + timedelta(minutes=5))
    assert not created and again.id == first.id
    assert again.url == ARTICLE.url  # the first URL stays
    assert _count(synced) == 1


def test_upsert_article_without_url_matches_by_content(synced: Database) -> None:
    plain = ParsedArticle(title="No address", body="Just text about BYD.")
    with synced.session() as s:
        a, created1 = upsert_article(s, plain, Tagging(), now=NOW)
    with synced.session() as s:
        b, created2 = upsert_article(s, plain, Tagging(), now=NOW)
    assert created1 and not created2 and a.id == b.id
    assert b.published_at == NOW  # no date in the article: when stored


def test_upsert_article_url_of_one_text_of_another_is_refused(synced: Database) -> None:
    other = ParsedArticle(title="Other", body="Other text.", url="https://example.org/b")
    with synced.session() as s:
        upsert_article(s, ARTICLE, Tagging(), now=NOW)
        upsert_article(s, other, Tagging(), now=NOW)
    clash = ParsedArticle(title=other.title, body=other.body, url=ARTICLE.url)
    with pytest.raises(EvwireError, match="already stored as article"), synced.session() as s:
        upsert_article(s, clash, Tagging(), now=NOW)
    assert _count(synced) == 2


def test_editor_mention_wins_and_survives_retag(synced: Database) -> None:
    with synced.session() as s:
        article, _ = upsert_article(s, ARTICLE, sample_tagging(), now=NOW)
        article_id = article.id
    with synced.session() as s:
        set_editor_mention(s, article_id, "xiaomi", "excluded")
        set_editor_mention(s, article_id, "tesla", "about")
        set_editor_mention(s, article_id, "byd", "mentioned")
    tagger = Tagger(small_catalog())
    with synced.session() as s:
        assert retag_articles(s, tagger) == 1
    with synced.session() as s:
        a = get_article(s, article_id)
        assert a is not None
        roles = {m.company.slug: (m.role, m.origin) for m in a.mentions}
        assert roles["xiaomi"] == ("excluded", "editor")
        assert roles["tesla"] == ("about", "editor")
        assert roles["byd"] == ("mentioned", "editor")
        about, mentioned = article_channels(a)
        assert "xiaomi" not in about + mentioned and "tesla" in about and "byd" in mentioned
        # automatic tags from a later tagging never override the editor either
        apply_tagging(s, a, sample_tagging())
    with synced.session() as s:
        a = get_article(s, article_id)
        assert a is not None
        assert {m.company.slug: m.origin for m in a.mentions if m.company.slug in ("xiaomi", "tesla")} == {
            "xiaomi": "editor",
            "tesla": "editor",
        }
        assert list_articles(s, channel="xiaomi") == []
        assert [x.id for x in list_articles(s, channel="tesla")] == [article_id]


def test_clear_editor_mention_restores_the_automatic_tag(synced: Database) -> None:
    with synced.session() as s:
        article, _ = upsert_article(s, ARTICLE, sample_tagging(), now=NOW)
        set_editor_mention(s, article.id, "ford", "excluded")
    with synced.session() as s:
        assert clear_editor_mention(s, article.id, "ford")
        assert not clear_editor_mention(s, article.id, "ford")
    with synced.session() as s:
        a = get_article(s, article.id)
        assert a is not None
        assert "ford" not in article_channels(a)[0]  # gone until re-tagged
    tagging = Tagging(about=(CompanyTag("ford", "Ford", 0.9, "about"),))

    class Fixed(Tagger):
        def tag(self, doc):  # type: ignore[no-untyped-def]
            return tagging

    with synced.session() as s:
        set_editor_mention(s, article.id, "ford", "excluded")
        untag_article(s, article.id, "ford", Fixed(small_catalog()))
    with synced.session() as s:
        a = get_article(s, article.id)
        assert a is not None
        assert article_channels(a) == (["ford"], [])


def test_set_editor_mention_rejects_unknown_role_article_and_company(synced: Database) -> None:
    with synced.session() as s:
        article, _ = upsert_article(s, ARTICLE, Tagging(), now=NOW)
    with pytest.raises(EvwireError, match="role must be"), synced.session() as s:
        set_editor_mention(s, article.id, "ford", "owner")
    with pytest.raises(NotFoundError, match="no article"), synced.session() as s:
        set_editor_mention(s, 9999, "ford", "about")
    with pytest.raises(NotFoundError, match="no company"), synced.session() as s:
        set_editor_mention(s, article.id, "nope", "about")


def test_list_articles_newest_first_with_cursor_and_channel(synced: Database) -> None:
    base = datetime(2025, 1, 1, tzinfo=UTC)
    with synced.session() as s:
        for i in range(5):
            about = (CompanyTag("ford", "Ford", 0.9, "about"),) if i % 2 == 0 else ()
            mentioned = (CompanyTag("ford", "Ford", 0.1, "mentioned"),) if i % 2 else ()
            # two articles share a timestamp so the id breaks the tie
            published = base + timedelta(days=min(i, 3))
            upsert_article(
                s,
                ParsedArticle(title=f"A{i}", body=f"text {i}", published_at=published),
                Tagging(about=about, mentioned=mentioned),
                now=NOW,
            )
    with synced.session() as s:
        all_rows = list_articles(s)
        assert [a.title for a in all_rows] == ["A4", "A3", "A2", "A1", "A0"]
        page1 = list_articles(s, limit=2)
        last = page1[-1]
        page2 = list_articles(s, limit=2, before=(last.published_at, last.id))
        page3 = list_articles(s, limit=2, before=(page2[-1].published_at, page2[-1].id))
        assert [a.title for a in page1 + page2 + page3] == ["A4", "A3", "A2", "A1", "A0"]
        assert [a.title for a in list_articles(s, channel="ford")] == ["A4", "A2", "A0"]
        assert [a.title for a in list_articles(s, channel="ford", role="mentioned")] == ["A3", "A1"]
        assert len(list_articles(s, channel="ford", role="any")) == 5
        assert list_articles(s, channel="tesla") == []
