"""Delivery figures in the store: CSV import (good, bad, idempotent) on SQLite and PostgreSQL, the
display rule, and facts extracted from a posted article."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from evwire.ingest.plaintext import parse_plain_text
from evwire.pipeline import post_article
from evwire.store.articles import upsert_article
from evwire.store.companies import sync_catalog
from evwire.store.db import Database
from evwire.store.figures import (
    Figure,
    import_figures_csv,
    list_figures,
    pick_shown,
    replace_extracted_figures,
    shipped_figures_path,
    shown_figures,
)
from evwire.store.figures_csv import (
    CSV_HEADER,
    FigureImportError,
    period_start,
    read_figures_csv,
    write_figures_csv,
)
from evwire.store.tables import DeliveryFigure
from evwire.tag.catalog import Catalog
from evwire.tag.tagger import Tagger
from evwire.tag.types import FactTag, Tagging
from tests.conftest import SAMPLE_ARTICLE
from tests.store.helpers import small_catalog

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
HEADER = ",".join(CSV_HEADER)
GOOD = f"""{HEADER}
xiaomi,2025-11,deliveries,actual,46249,false,,https://example.com/xiaomi-nov,imported
xiaomi,2025-10,deliveries,actual,40000,true,,https://example.com/xiaomi-oct,imported
xiaomi,2026,deliveries,target,550000,false,,https://example.com/xiaomi-2026,imported
tesla,2025-Q4,deliveries,actual,418227,false,,https://example.com/tesla-q4,imported
byd,2025,sales,actual,1046083,false,overseas,https://example.com/byd,imported
"""
BAD = f"""{HEADER}
xiaomi,2025-11,deliveries,actual,46249,false,,https://example.com/a,imported
nosuchco,2025-11,deliveries,actual,1,false,,,imported
xiaomi,2025-09,deliveries,actual,40000,true,,,imported
xiaomi,2025-13,deliveries,actual,1,false,,,imported
xiaomi,2025-08,deliveries,actual,12.5k,false,,,imported
xiaomi,2025-07,cars,actual,1,false,,,imported
xiaomi,2025-06,deliveries,hope,1,false,,,imported
"""


def _count(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(DeliveryFigure)) or 0


@pytest.fixture
def fdb(db: Database) -> Database:
    with db.session() as session:
        sync_catalog(session, small_catalog())
    return db


def test_figures_import_good_csv_then_reimport_adds_nothing(fdb: Database) -> None:
    with fdb.session() as session:
        first = import_figures_csv(session, GOOD, now=NOW)
    with fdb.session() as session:
        again = import_figures_csv(session, GOOD, now=NOW + timedelta(days=1))
    assert (first.added, first.unchanged) == (5, 0)
    assert (again.added, again.unchanged) == (0, 5)
    assert _count(fdb) == 5
    with fdb.session() as session:
        rows = list_figures(session, companies=["xiaomi"])
    assert [(r.period, r.value, r.lower_bound, r.period_start) for r in rows] == [
        ("2025-10", 40000, True, date(2025, 10, 1)),
        ("2025-11", 46249, False, date(2025, 11, 1)),
        ("2026", 550000, False, date(2026, 1, 1)),
    ]
    with fdb.session() as session:
        byd = list_figures(session, companies=["byd"])
    assert byd[0].scope == "overseas" and byd[0].metric == "sales" and byd[0].value == 1046083


def test_figures_import_bad_csv_names_every_bad_line_and_stores_nothing(fdb: Database) -> None:
    with fdb.session() as session:
        import_figures_csv(session, GOOD, now=NOW)
    with pytest.raises(FigureImportError) as info, fdb.session() as session:
        import_figures_csv(session, BAD, now=NOW)
    lines = [line for line, _ in info.value.errors]
    assert lines == [3, 5, 6, 7, 8]
    reasons = dict(info.value.errors)
    assert "unknown company slug 'nosuchco'" in reasons[3]
    assert "month must be 01-12" in reasons[5]
    assert "'12.5k' is not a whole number" in reasons[6]
    assert "unknown metric 'cars'" in reasons[7]
    assert "unknown kind 'hope'" in reasons[8]
    assert "line 3:" in str(info.value) and "nothing imported" in str(info.value)
    assert _count(fdb) == 5  # the good rows of the bad file (lines 2 and 4) were not stored either


def test_figures_import_rolls_back_with_the_transaction(fdb: Database) -> None:
    with pytest.raises(RuntimeError), fdb.session() as session:
        import_figures_csv(session, GOOD, now=NOW)
        raise RuntimeError("the command failed after the import")
    assert _count(fdb) == 0


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("company,period,metric\n", 1, "header must be exactly"),
        ("", 1, "the file is empty"),
        (f"{HEADER}\nxiaomi,2025-11,deliveries,actual\n", 2, "4 fields, expected 9"),
        (
            f"{HEADER}\n\nxiaomi,2025-Q5,deliveries,actual,1,false,,,imported\n",
            3,
            "not YYYY, YYYY-MM or YYYY-Qn",
        ),
        (f"{HEADER}\nxiaomi,2025,deliveries,actual,-4,false,,,imported\n", 2, "not a whole number"),
        (f"{HEADER}\nxiaomi,2025,deliveries,actual,4,maybe,,,imported\n", 2, "lower_bound 'maybe'"),
        (f"{HEADER}\nxiaomi,2025,deliveries,actual,4,false,,ftp://x,imported\n", 2, "not an http"),
        (f"{HEADER}\nxiaomi,2025,deliveries,actual,4,false,,,guessed\n", 2, "unknown origin 'guessed'"),
    ],
)
def test_figures_csv_reports_line_and_reason(text: str, line: int, reason: str) -> None:
    with pytest.raises(FigureImportError) as info:
        read_figures_csv(text, {"xiaomi"})
    assert info.value.errors[0][0] == line
    assert reason in info.value.errors[0][1]


def test_figures_csv_round_trip_of_the_shipped_file(catalog: Catalog) -> None:
    text = shipped_figures_path().read_text(encoding="utf-8")
    rows = read_figures_csv(text, {c.slug for c in catalog})
    assert len(rows) == 288
    assert read_figures_csv(write_figures_csv(rows), {c.slug for c in catalog}) == rows
    assert write_figures_csv(rows).splitlines()[0] == HEADER


def test_figures_period_start() -> None:
    assert period_start("2025") == date(2025, 1, 1)
    assert period_start("2025-07") == date(2025, 7, 1)
    assert period_start("2025-Q3") == date(2025, 7, 1)
    for bad in ("2025-7", "25", "2025-Q0", "2025-00", "2025/07"):
        with pytest.raises(ValueError):
            period_start(bad)


def _fig(id_: int, origin: str, value: int, at: datetime) -> Figure:
    return Figure(
        id_,
        "xiaomi",
        "Xiaomi",
        "2025",
        date(2025, 1, 1),
        "deliveries",
        "actual",
        value,
        False,
        None,
        None,
        None,
        origin,
        at,
    )


def test_figures_display_rule_editor_then_imported_then_extracted_newest_first() -> None:
    old, new = NOW - timedelta(days=30), NOW
    extracted_new = _fig(1, "extracted", 411837, new)
    imported_old = _fig(2, "imported", 410000, old)
    imported_new = _fig(3, "imported", 410500, new)
    editor_old = _fig(4, "editor", 411000, old)
    assert pick_shown([extracted_new, imported_old]).shown is imported_old
    assert pick_shown([extracted_new, imported_old, imported_new]).shown is imported_new
    picked = pick_shown([extracted_new, imported_old, imported_new, editor_old])
    assert picked.shown is editor_old
    assert picked.others == (imported_new, imported_old, extracted_new)
    # same origin and time: the later row (a later line of the imported file) wins
    a, b = _fig(5, "imported", 300000, old), _fig(6, "imported", 350000, old)
    assert pick_shown([b, a]).shown is b
    with pytest.raises(ValueError):
        pick_shown([])


def test_figures_shown_and_others_from_the_database(fdb: Database) -> None:
    with fdb.session() as session:
        import_figures_csv(session, GOOD, now=NOW)
        article, _ = upsert_article(session, parse_plain_text(SAMPLE_ARTICLE.read_text()), Tagging(), now=NOW)
        replace_extracted_figures(
            session, article, [FactTag("xiaomi", "2025-11", "deliveries", "actual", 46000, True)], now=NOW
        )
    with fdb.session() as session:
        (nov,) = shown_figures(session, companies=["xiaomi"], period="2025-11")
    assert nov.shown.origin == "imported" and nov.shown.value == 46249
    assert [(o.origin, o.value, o.article_id) for o in nov.others] == [("extracted", 46000, article.id)]
    later = f"{HEADER}\nxiaomi,2025-11,deliveries,actual,46300,false,,https://example.com/fix,editor\n"
    with fdb.session() as session:
        import_figures_csv(session, later, now=NOW - timedelta(days=1))
    with fdb.session() as session:
        (nov,) = shown_figures(session, companies=["xiaomi"], period="2025-11")
    assert (nov.shown.origin, nov.shown.value) == ("editor", 46300)
    assert [o.origin for o in nov.others] == ["imported", "extracted"]


def test_figures_extracted_facts_replace_on_repost_and_skip_unknown(fdb: Database) -> None:
    parsed = parse_plain_text(SAMPLE_ARTICLE.read_text())
    facts = [
        FactTag("xiaomi", "2025", "deliveries", "actual", 411837),
        FactTag("xiaomi", "2026", "deliveries", "target", 550000),
        FactTag("nosuchco", "2026", "deliveries", "target", 1),
        FactTag("xiaomi", "next year", "deliveries", "target", 1),
    ]
    with fdb.session() as session:
        article, _ = upsert_article(session, parsed, Tagging(), now=NOW)
        assert replace_extracted_figures(session, article, facts, now=NOW) == 2
        assert replace_extracted_figures(session, article, facts[1:2], now=NOW) == 1
    with fdb.session() as session:
        rows = list_figures(session, article_id=article.id)
    assert [(r.period, r.kind, r.value, r.origin, r.source_url) for r in rows] == [
        ("2026", "target", 550000, "extracted", article.url)
    ]


def test_figures_post_article_stores_the_tagging_facts(db: Database, catalog: Catalog) -> None:
    with db.session() as session:
        sync_catalog(session, catalog)
    parsed = parse_plain_text(SAMPLE_ARTICLE.read_text())
    with db.session() as session:
        result = post_article(session, parsed, Tagger(catalog), now=NOW)
    with db.session() as session:
        rows = list_figures(session, article_id=result.article_id)
    stored = {(r.company, r.period, r.metric, r.kind, r.value, r.lower_bound, r.scope) for r in rows}
    expected = {
        (f.company, f.period, f.metric, f.kind, f.value, f.lower_bound, f.scope) for f in result.tagging.facts
    }
    assert stored == expected
    assert all(r.origin == "extracted" for r in rows)


def test_figures_demo_loads_the_shipped_csv_for_the_xiaomi_chart(settings) -> None:  # type: ignore[no-untyped-def]
    from evwire.charts.views import company_charts
    from evwire.pipeline import load_demo, open_services

    services = open_services(settings)
    try:
        load_demo(services)
        load_demo(services)  # idempotent
        with services.db.session() as session:
            imported = list_figures(session)
            charts = company_charts(session, "xiaomi")
    finally:
        services.close()
    assert sum(1 for f in imported if f.origin == "imported") == 288
    assert charts is not None and charts.yoy is not None
    assert charts.yoy.title == "Xiaomi monthly deliveries 2024 vs 2025"
    assert len(charts.yoy.bars) == 19
    target_2026 = next(p for p in charts.progress if p.year == 2026)
    assert target_2026.target == 550000
