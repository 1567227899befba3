"""The core steps in evwire.pipeline, on real databases."""

from __future__ import annotations

from pathlib import Path

import pytest

from evwire.errors import CatalogError
from evwire.ingest.plaintext import parse_plain_text
from evwire.pipeline import demo_files, import_catalog, load_demo, open_services, post_article, utcnow
from evwire.settings import Settings
from evwire.store.articles import get_article, list_articles
from evwire.store.companies import company_ids, stored_catalog_hash
from evwire.tag.catalog import dump_catalog
from tests.store.helpers import COMPANIES, small_catalog


def test_open_services_syncs_the_catalog_once(settings: Settings) -> None:
    svc = open_services(settings)
    try:
        with svc.db.session() as s:
            ids = company_ids(s)
            digest = stored_catalog_hash(s)
        assert set(ids) == {c.slug for c in svc.catalog}
        assert digest
    finally:
        svc.close()
    again = open_services(settings)
    try:
        with again.db.session() as s:
            assert company_ids(s) == ids and stored_catalog_hash(s) == digest
    finally:
        again.close()


def test_load_demo_is_idempotent_and_leaves_the_sample_to_be_posted(settings: Settings) -> None:
    svc = open_services(settings)
    try:
        n = load_demo(svc)
        assert n == len(demo_files()) >= 6
        assert load_demo(svc) == n
        with svc.db.session() as s:
            rows = list_articles(s, limit=100)
        assert len(rows) == n
        # the sample article is not in the demo: posting it on the demo is news (and alerts its followers)
        assert not any("Ford, Xiaomi has explored" in a.title for a in rows)
    finally:
        svc.close()


def test_demo_subscriber_gets_exactly_one_alert_for_the_sample(settings: Settings) -> None:
    from sqlalchemy import select

    from evwire.ingest.plaintext import parse_plain_text
    from evwire.store.subscriptions import confirm, subscribe
    from evwire.store.tables import OutboxRow
    from tests.conftest import SAMPLE_ARTICLE

    svc = open_services(settings)
    try:
        load_demo(svc)
        now = utcnow()
        with svc.db.session() as s:
            ids = []
            for address, slugs in (("a@example.org", ["xiaomi"]), ("b@example.org", ["xiaomi", "ford"])):
                sub = subscribe(s, address, slugs, now=now)
                confirm(s, sub.id, now=now)
                ids.append(sub.id)
        parsed = parse_plain_text(SAMPLE_ARTICLE.read_text(encoding="utf-8"))
        with svc.db.session() as s:
            post_article(s, parsed, svc.tagger, now=utcnow(), alerts=svc.alerts, any_date=True)
        with svc.db.session() as s:
            rows = list(s.scalars(select(OutboxRow)))
        assert sorted(r.subscriber_id for r in rows) == sorted(ids)  # one row per subscriber, no more
    finally:
        svc.close()


def test_post_article_then_import_catalog_retags(settings: Settings, tmp_path: Path) -> None:
    catalog_file = tmp_path / "catalog.yaml"
    catalog_file.write_text(dump_catalog(small_catalog()), encoding="utf-8")
    svc = open_services(settings.model_copy(update={"catalog_path": catalog_file}))
    try:
        parsed = parse_plain_text("Xiaomi and Ford\n\nFord held talks with Xiaomi about a venture.")
        with svc.db.session() as s:
            result = post_article(s, parsed, svc.tagger, now=utcnow())
        smaller = tmp_path / "smaller.yaml"
        smaller.write_text(dump_catalog(small_catalog([c for c in COMPANIES if c["slug"] != "ford"])))
        counts = import_catalog(svc, smaller)
        assert counts["removed"] == 1 and counts["retagged"] == 1
        assert catalog_file.read_text() == smaller.read_text()  # the active catalog is replaced
        with svc.db.session() as s:
            article = get_article(s, result.article_id)
            assert article is not None
            assert all(m.company.slug != "ford" for m in article.mentions)
        broken = tmp_path / "broken.yaml"
        broken.write_text("companies:\n  - slug: Not A Slug\n    name: X\n")
        with pytest.raises(CatalogError, match="slug"):
            import_catalog(svc, broken)
        assert catalog_file.read_text() == smaller.read_text()
    finally:
        svc.close()
