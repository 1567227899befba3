from __future__ import annotations

from datetime import UTC, datetime

from evwire.ingest.types import ParsedArticle
from evwire.store.articles import set_editor_mention, upsert_article
from evwire.store.companies import company_ids, get_company, list_channels, sync_catalog
from evwire.store.db import Database
from tests.store.helpers import COMPANIES, sample_tagging, small_catalog

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def test_sync_catalog_adds_companies_with_tickers_and_people(db: Database) -> None:
    with db.session() as s:
        counts = sync_catalog(s, small_catalog())
    assert counts == {"added": 5, "updated": 0, "removed": 0, "kept": 0}
    with db.session() as s:
        xiaomi = get_company(s, "xiaomi")
        assert xiaomi is not None
        assert [(t.exchange, t.symbol) for t in xiaomi.tickers] == [("HKG", "1810"), ("OTCMKTS", "XIACY")]
        assert [(p.name, p.role) for p in xiaomi.people] == [("Lei Jun", "CEO")]
        assert xiaomi.products == ["SU7"]
        assert set(company_ids(s)) == {"xiaomi", "ford", "tesla", "nvidia", "byd"}
        assert get_company(s, "nope") is None


def test_sync_catalog_is_a_no_op_when_nothing_changed(db: Database) -> None:
    with db.session() as s:
        sync_catalog(s, small_catalog())
    with db.session() as s:
        assert sync_catalog(s, small_catalog()) == {"added": 0, "updated": 0, "removed": 0, "kept": 0}


def test_sync_catalog_updates_removes_and_moves_a_ticker(db: Database) -> None:
    with db.session() as s:
        sync_catalog(s, small_catalog())
        before = company_ids(s)
    changed = [dict(c) for c in COMPANIES if c["slug"] != "byd"]  # byd removed
    changed[0] = {**changed[0], "name": "Xiaomi EV", "aliases": ["小米汽车"], "tickers": ["HKG:1810"]}
    # the OTC listing moves from xiaomi to tesla in the same sync
    changed[2] = {**changed[2], "tickers": ["NASDAQ:TSLA", "OTCMKTS:XIACY"], "parent": "ford"}
    changed.append({"slug": "nio", "name": "NIO", "tickers": ["NYSE:NIO"]})
    with db.session() as s:
        counts = sync_catalog(s, small_catalog(changed))
    assert counts == {"added": 1, "updated": 2, "removed": 1, "kept": 0}
    with db.session() as s:
        ids = company_ids(s)
        assert "byd" not in ids and "nio" in ids
        assert ids["xiaomi"] == before["xiaomi"]  # updated in place, same id
        xiaomi = get_company(s, "xiaomi")
        tesla = get_company(s, "tesla")
        assert xiaomi is not None and tesla is not None
        assert xiaomi.name == "Xiaomi EV" and xiaomi.aliases == ["小米汽车"]
        assert [t.symbol for t in xiaomi.tickers] == ["1810"]
        assert [t.symbol for t in tesla.tickers] == ["TSLA", "XIACY"]
        assert tesla.parent_slug == "ford"


def test_sync_catalog_keeps_a_removed_company_with_editor_mentions(db: Database) -> None:
    with db.session() as s:
        sync_catalog(s, small_catalog())
        article, _ = upsert_article(s, ParsedArticle(title="T", body="B"), sample_tagging(), now=NOW)
        set_editor_mention(s, article.id, "byd", "about")
    without_byd_and_tesla = [c for c in COMPANIES if c["slug"] not in ("byd", "tesla")]
    with db.session() as s:
        counts = sync_catalog(s, small_catalog(without_byd_and_tesla))
    assert counts["removed"] == 1 and counts["kept"] == 1
    with db.session() as s:
        assert "byd" in company_ids(s) and "tesla" not in company_ids(s)
        channels = {c.slug: c for c in list_channels(s)}
        assert channels["byd"].about == 1
        assert channels["xiaomi"].about == 1 and channels["nvidia"].mentioned == 1
