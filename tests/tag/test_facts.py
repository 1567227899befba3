"""Delivery facts from text: figures, periods, kinds, the company a figure belongs to, and what is skipped.

Every sentence here is written for these tests (none is taken from the labelled corpus).
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from evwire.tag.catalog import catalog_from_data
from evwire.tag.facts import extract_facts
from evwire.tag.facts_text import find_figures, find_periods, month_year, split_sentences
from evwire.tag.types import FactTag, Match, TagInput

CATALOG = catalog_from_data(
    {
        "companies": [
            {"slug": "byd", "name": "BYD", "products": ["Seagull"]},
            {"slug": "tesla", "name": "Tesla", "products": ["Model Y", "Model 3"]},
            {"slug": "nio", "name": "NIO", "people": [{"name": "William Li", "role": "CEO"}]},
            {"slug": "onvo", "name": "Onvo", "parent": "nio", "kind": "ev-brand"},
            {"slug": "xpeng", "name": "Xpeng"},
            {"slug": "xiaomi", "name": "Xiaomi", "products": ["SU7"]},
        ]
    }
)


class NameFinder:
    """A stand-in for Tagger.find: every catalog name, person and product, case-sensitive."""

    def __init__(self) -> None:
        forms = []
        for c in CATALOG:
            forms += [(n, c.slug, "name") for n in c.all_names()]
            forms += [(p.name, c.slug, "person") for p in c.people]
            forms += [(p, c.slug, "product") for p in c.products]
        forms.sort(key=lambda f: -len(f[0]))
        self._forms = {f[0]: f for f in forms}
        self._rx = re.compile(r"\b(?:" + "|".join(re.escape(f[0]) for f in forms) + r")\b")

    def find(self, text: str) -> list[Match]:
        out = []
        for m in self._rx.finditer(text):
            _, slug, kind = self._forms[m.group(0)]
            out.append(Match(m.start(), m.end(), slug, kind, m.group(0)))  # type: ignore[arg-type]
        return out


FINDER = NameFinder()


def facts(
    body: str,
    published: date | None = date(2025, 6, 3),
    about: tuple[str, ...] = (),
    title: str = "News",
    bullets: tuple[str, ...] = (),
) -> list[FactTag]:
    doc = TagInput(title=title, bullets=bullets, body=body, published=published)
    return extract_facts(doc, FINDER, list(about))


def keys(found: list[FactTag]) -> set[tuple[str, str, str, int]]:
    return {(f.company, f.period, f.kind, f.value) for f in found if not f.scope}


# --- figures and periods -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "lower"),
    [
        ("shipped 411,837 cars", 411837, False),
        ("sold 1.2 million cars", 1_200_000, False),
        ("a 410k-unit goal", None, False),
        ("built 410k units", 410_000, False),
        ("sold 4.6 million vehicles", 4_600_000, False),
        ("handed over 38,204 cars", 38204, False),
        ("delivered over 40,000 cars", 40000, True),
        ("more than 25,000 orders", 25000, True),
    ],
)
def test_find_figures_values_and_bounds(text: str, value: int | None, lower: bool) -> None:
    found = find_figures(text)
    if value is None:
        assert found == []
        return
    assert [f.value for f in found] == [value]
    assert found[0].lower_bound is lower


def test_find_figures_not_percentages_prices_years_or_ranges_of_units() -> None:
    text = "Sales rose 12.5% in 2024 at a price of $35,000 (28,400 euros), 620 km, 85 kWh; up 45 percent."
    assert find_figures(text) == []


def test_find_figures_marks_approximate_values_as_printed() -> None:
    (fig,) = find_figures("nearly 52,300 cars")
    assert fig.value == 52300 and fig.approximate


@pytest.mark.parametrize(
    ("phrase", "kind", "quarter"),
    [
        ("in Q3", "quarter", 3),
        ("in the third quarter", "quarter", 3),
        ("in the July-September quarter", "quarter", 3),
        ("in the first half", "half", None),
        ("from January through October", "ytd", None),
    ],
)
def test_find_periods_kinds(phrase: str, kind: str, quarter: int | None) -> None:
    (span,) = find_periods(f"Volume was strong {phrase}.")
    assert span.kind == kind and span.quarter == quarter


def test_month_after_publication_month_is_last_year() -> None:
    assert month_year(11, date(2026, 1, 4)) == 2025
    assert month_year(5, date(2026, 6, 1)) == 2026


def test_split_sentences_keeps_abbreviations_together() -> None:
    sents = [
        s for _, s in split_sentences("Sales in the U.S. rose. Tesla Inc. said so on Sept. 3. It was fine.")
    ]
    assert sents == ["Sales in the U.S. rose.", "Tesla Inc. said so on Sept. 3.", "It was fine."]


# --- facts --------------------------------------------------------------------------------------


def test_facts_actual_for_a_year() -> None:
    found = facts("Xiaomi delivered 411,837 vehicles in 2025, a record.", published=date(2026, 1, 2))
    assert found == [FactTag("xiaomi", "2025", "deliveries", "actual", 411837)]


def test_facts_target_from_aims_to() -> None:
    found = facts("Xiaomi aims to deliver 550,000 vehicles in 2026.", published=date(2026, 1, 2))
    assert keys(found) == {("xiaomi", "2026", "target", 550000)}


def test_facts_month_without_year_resolved_with_published_date() -> None:
    body = "Xpeng reported deliveries of 46,249 units in November, up 99.73% year-on-year."
    assert keys(facts(body, published=date(2026, 1, 3))) == {("xpeng", "2025-11", "actual", 46249)}
    assert keys(facts(body, published=date(2025, 12, 1))) == {("xpeng", "2025-11", "actual", 46249)}


def test_facts_quarter_forms() -> None:
    pub = date(2025, 10, 3)
    assert keys(facts("Tesla handed over 412,500 cars in Q3.", published=pub)) == {
        ("tesla", "2025-Q3", "actual", 412500)
    }
    found = facts("In the third quarter Tesla built 401,000 vehicles.", published=pub)
    assert [(f.period, f.metric) for f in found] == [("2025-Q3", "production")]


def test_facts_last_month_resolved_against_published() -> None:
    body = "BYD sold 310,500 cars last month."
    assert keys(facts(body, published=date(2025, 3, 2))) == {("byd", "2025-02", "actual", 310500)}
    assert keys(facts(body, published=date(2025, 1, 2))) == {("byd", "2024-12", "actual", 310500)}


def test_facts_subject_not_nearest_name() -> None:
    body = "Xpeng delivered 30,500 vehicles in May, well ahead of NIO and close to BYD's pace."
    assert keys(facts(body)) == {("xpeng", "2025-05", "actual", 30500)}
    body = "Compared with Tesla, BYD shipped 380,000 cars in May."
    assert keys(facts(body)) == {("byd", "2025-05", "actual", 380000)}


def test_facts_two_companies_in_one_sentence() -> None:
    body = "NIO delivered 21,800 cars in May, while Xpeng handed over 33,500."
    assert keys(facts(body)) == {("nio", "2025-05", "actual", 21800), ("xpeng", "2025-05", "actual", 33500)}


def test_facts_brand_figure_inherits_period_and_pronoun_refers_back() -> None:
    body = "NIO delivered 24,900 vehicles in May. Onvo contributed 8,100 units. It built 26,000 cars."
    got = keys(facts(body, about=("nio",)))
    assert ("nio", "2025-05", "actual", 24900) in got
    assert ("onvo", "2025-05", "actual", 8100) in got


def test_facts_year_earlier_comparison_gets_prior_year() -> None:
    body = "Xpeng delivered 30,500 vehicles in May, up from 11,000 a year earlier."
    assert keys(facts(body)) == {("xpeng", "2025-05", "actual", 30500), ("xpeng", "2024-05", "actual", 11000)}


def test_facts_percentages_and_prices_are_not_facts() -> None:
    body = "BYD said sales rose 18% in May, and its Seagull now costs 69,800 yuan ($9,700)."
    assert facts(body) == []


@pytest.mark.parametrize(
    "body",
    [
        "Cumulative deliveries reached 1,234,567 units by the end of May.",
        "NIO has delivered 800,000 cars since its founding.",
        "In the first ten months, BYD sold 3,200,000 cars.",
        "Over the first half, Xpeng delivered 190,000 vehicles.",
        "Analysts estimate Tesla delivered 420,000 cars in the second quarter.",
        "The Model Y sold 30,000 units in May.",
        "Tesla registered 3,300 cars in Norway in May.",
    ],
)
def test_facts_skipped_totals_estimates_models_and_registrations(body: str) -> None:
    assert keys(facts(body)) == set()


def test_facts_one_market_and_phev_carry_a_scope() -> None:
    found = facts("BYD sold 382,000 cars in May. BYD's overseas sales reached 89,000 units in May.")
    assert ("byd", "2025-05", "actual", 382000) in keys(found)
    assert any(f.value == 89000 and f.scope == "overseas" for f in found)
    found = facts("BYD sold 382,000 cars in May. Its plug-in hybrid sales rose to 201,000.")
    assert any(f.value == 201000 and f.scope == "PHEV" for f in found)


def test_facts_lower_bound_target_and_range_target() -> None:
    found = facts("Xiaomi expects to deliver more than 350,000 cars in 2025.", published=date(2025, 3, 1))
    assert [(f.kind, f.value, f.lower_bound) for f in found] == [("target", 350000, True)]
    found = facts("Xpeng targets 500,000 to 600,000 deliveries in 2026.", published=date(2025, 12, 1))
    assert keys(found) == {("xpeng", "2026", "target", 500000)}


def test_facts_rounded_headline_repeat_is_dropped() -> None:
    found = facts(
        "BYD sold 4,272,145 vehicles in 2024.",
        title="BYD sold 4.27 million cars in 2024",
        published=date(2025, 1, 2),
    )
    assert keys(found) == {("byd", "2024", "actual", 4272145)}


def test_facts_without_period_or_published_date_are_skipped() -> None:
    assert facts("Tesla delivered 400,000 cars.", published=date(2025, 6, 1)) == []
    assert facts("Tesla delivered 400,000 cars last month.", published=None) == []
