"""Chart series and Vega-Lite specs: one bar per (month, year) with data; quarters for quarterly makers;
the year's total against its target."""

from __future__ import annotations

import re

from evwire.charts.render import to_svg
from evwire.charts.spec import progress_rows, progress_spec, yoy_series, yoy_spec
from tests.charts.helpers import shown

XIAOMI = [
    shown("2024-04", 7058),
    shown("2024-05", 8646),
    shown("2024-06", 10000, lower_bound=True),
    shown("2024-Q2", 27307),
    shown("2024", 136854),
    shown("2024", 130000, kind="target"),
    shown("2025-02", 20000, lower_bound=True),
    shown("2025-11", 46249),
    shown("2025-12", 50000, lower_bound=True),
    shown("2025", 410000, lower_bound=True),
    shown("2025-12", 99999, scope="overseas"),  # not company-wide: not drawn
    shown("2025-12", 1, metric="orders"),  # another metric: not drawn
    shown("2026", 550000, kind="target"),
    shown("2023-05", 1),  # older year: not among the default two
]


def _series(figures=XIAOMI, **kw):  # type: ignore[no-untyped-def]
    s = yoy_series(figures, company="xiaomi", company_name="Xiaomi", metric="deliveries", **kw)
    assert s is not None
    return s


def test_spec_yoy_has_one_bar_per_month_and_year_with_data() -> None:
    s = _series()
    assert s.granularity == "month" and s.years == (2024, 2025)
    assert s.title == "Xiaomi monthly deliveries 2024 vs 2025"
    assert [(b.label, b.year, b.value) for b in s.bars] == [
        ("Apr", 2024, 7058),
        ("May", 2024, 8646),
        ("Jun", 2024, 10000),
        ("Feb", 2025, 20000),
        ("Nov", 2025, 46249),
        ("Dec", 2025, 50000),
    ]
    spec = yoy_spec(s)
    values = spec["data"]["values"]
    assert sorted((v["label"], v["year"]) for v in values) == sorted((b.label, str(b.year)) for b in s.bars)
    assert len({(v["label"], v["year"]) for v in values}) == len(values)
    assert spec["encoding"]["xOffset"]["field"] == "year"
    assert spec["encoding"]["x"]["scale"]["domain"][0] == "Jan"  # all twelve months on the axis, gaps visible
    # the rendered SVG has exactly one bar per datum
    svg = to_svg(spec)
    assert len(re.findall(r'aria-roledescription="bar"', svg)) == len(values)


def test_spec_yoy_years_chosen_and_table_rows() -> None:
    s = _series(years=[2023, 2025])
    assert s.years == (2023, 2025)
    assert {b.year for b in s.bars} == {2023, 2025}
    table = dict(s.table())
    assert list(table) == ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    assert table["Feb"][0] is None and table["Feb"][1] is not None and table["Feb"][1].lower_bound


def test_spec_quarterly_maker_is_drawn_by_quarter() -> None:
    tesla = [
        shown(p, v, company="tesla", name="Tesla")
        for p, v in [
            ("2024-Q1", 386810),
            ("2024-Q4", 495570),
            ("2025-Q1", 336681),
            ("2025-Q4", 418227),
            ("2024", 1789226),
        ]
    ]
    s = yoy_series(tesla, company="tesla", company_name="Tesla", metric="deliveries")
    assert s is not None and s.granularity == "quarter"
    assert s.title == "Tesla quarterly deliveries 2024 vs 2025"
    assert [(b.label, b.year) for b in s.bars] == [("Q1", 2024), ("Q4", 2024), ("Q1", 2025), ("Q4", 2025)]
    assert yoy_series([], company="x", company_name="X", metric="deliveries") is None


def test_spec_progress_year_total_against_target() -> None:
    rows = {p.year: p for p in progress_rows(XIAOMI, metric="deliveries")}
    assert sorted(rows) == [2023, 2024, 2025, 2026]
    assert (rows[2024].actual, rows[2024].basis, rows[2024].target) == (
        136854,
        "reported for the year",
        130000,
    )
    assert rows[2025].actual_lower_bound and rows[2025].target is None
    assert (rows[2026].actual, rows[2026].basis, rows[2026].target) == (0, "no figures yet", 550000)
    assert rows[2023].basis == "sum of 1 months"
    months_only = [shown("2025-01", 10), shown("2025-02", 20), shown("2025", 100, kind="target")]
    (only,) = progress_rows(months_only, metric="deliveries")
    assert (only.actual, only.basis, only.share) == (30, "sum of 2 months", 0.3)
    spec = progress_spec("Xiaomi", "deliveries", list(rows.values()))
    data = spec.get("data") or spec["layer"][0]["data"]  # Altair may hoist the shared data to the top
    labels = [v["label"] for v in data["values"]]
    assert "no figures yet; target 550,000" in labels
