"""Matcher rules on sentences written for these tests."""

from __future__ import annotations

import pytest

from evwire.tag.tagger import Tagger


def slugs(tagger: Tagger, text: str) -> list[str]:
    return [m.slug for m in tagger.find(text) if m.kind != "ticker"]


@pytest.mark.parametrize(
    "text",
    [
        "Students at Fordham University held a debate on Tuesday.",
        "Harrison Ford starred in another adventure film. Ford later said he preferred flying planes.",
        "Ontario Premier Doug Ford called an early election; Ford said voters wanted stability.",
        "Henry Ford is often credited with the moving assembly line.",
        "The laboratory magnet reached 45 tesla, and a few teslas more are planned.",
        "Nikola Tesla was born in 1856 in what is now Croatia.",
        "She had a lucid dream about picking an apple in the orchard.",
        "Lucid dreams are reported by about half of the volunteers, researchers found.",
        "The Seal is a marine mammal that spends long periods underwater.",
        "A single Leaf of the plant can reach two metres across.",
        "The word nio appears in lowercase here, as does byd.",
        "Farley said the weather was fine.",
    ],
)
def test_matcher_hard_negatives_find_nothing(small_tagger: Tagger, text: str) -> None:
    assert slugs(small_tagger, text) == []


def test_matcher_word_boundaries_and_aliases(small_tagger: Tagger) -> None:
    assert slugs(small_tagger, "Ford Motor and Ford-Xiaomi talks; Xiaomi's SU7 sold well.") == [
        "ford",
        "ford",
        "xiaomi",
        "xiaomi",
        "xiaomi",
    ]


def test_matcher_longest_match_wins(small_tagger: Tagger) -> None:
    found = small_tagger.find("The Xiaomi SU7 Ultra beat the Li Auto flagship.")
    assert [(m.text, m.kind) for m in found] == [
        ("Xiaomi", "name"),
        ("SU7 Ultra", "product"),
        ("Li Auto", "name"),
    ]


def test_matcher_catalog_person_beats_brand(small_tagger: Tagger) -> None:
    found = small_tagger.find("Executive chair Bill Ford spoke at the plant.")
    assert [(m.text, m.kind, m.slug) for m in found] == [("Bill Ford", "person", "ford")]


def test_matcher_all_caps_name_needs_capital(small_tagger: Tagger) -> None:
    assert slugs(small_tagger, "NIO delivered 30,000 cars while Nio shares rose.") == ["nio", "nio"]


def test_matcher_ambiguous_brand_in_car_context(small_tagger: Tagger) -> None:
    assert slugs(small_tagger, "Lucid delivered 3,000 electric vehicles in the quarter.") == ["lucid"]
    assert slugs(small_tagger, "The Smart #1 is an electric SUV built in China.") == ["smart"]


def test_matcher_wordlike_product_needs_its_company(small_tagger: Tagger) -> None:
    assert slugs(small_tagger, "BYD said the Seal sedan now has more range.") == ["byd", "byd"]
    assert slugs(small_tagger, "Nissan's new Leaf goes on sale in Japan.") == ["nissan", "nissan"]


def test_matcher_bare_model_code_needs_its_company() -> None:
    """ "G7", "R2", "L9" name summits, quarters and roads as often as cars."""
    from evwire.tag.catalog import load_catalog

    tagger = Tagger(load_catalog(), facts=False)
    assert slugs(tagger, "Leaders at the G7 summit discussed tariffs on electric vehicles.") == []
    assert slugs(tagger, "Xpeng said the G7 SUV sold 10,000 units; the G7 led its range.") == ["xpeng"] * 3
    assert slugs(tagger, "Rivian will start R2 deliveries next year.") == ["rivian", "rivian"]


def test_matcher_surname_after_full_name(small_tagger: Tagger) -> None:
    found = small_tagger.find("Ford chief Jim Farley toured the plant. Farley said demand was strong.")
    assert [(m.text, m.slug, m.kind) for m in found] == [
        ("Ford", "ford", "name"),
        ("Jim Farley", "ford", "person"),
        ("Farley", "ford", "person"),
    ]


def test_matcher_cjk_needs_no_boundaries(small_tagger: Tagger) -> None:
    assert slugs(small_tagger, "小米汽车发布了新车，福特也在关注。") == ["xiaomi", "ford"]


def test_matcher_offsets_with_non_ascii_text(small_tagger: Tagger) -> None:
    text = "“Déjà vu” — Xiaomi’s 小米汽车 and Tesla’s Model Y."
    for m in small_tagger.find(text):
        assert text[m.start : m.end] == m.text


@pytest.mark.parametrize("backend", ["hyperscan", "ahocorasick_rs"])
def test_matcher_backends_agree(backend: str) -> None:
    from tests.tag.helpers import test_catalog

    tagger = Tagger(test_catalog(), backend=backend)
    text = "Ford CEO Jim Farley drove a Xiaomi SU7 Ultra; Farley said Tesla’s Model Y and İstanbul BYD Seal."
    assert [(m.start, m.end, m.slug) for m in tagger.find(text)] == [
        (0, 4, "ford"),
        (9, 19, "ford"),
        (28, 34, "xiaomi"),
        (35, 44, "xiaomi"),
        (46, 52, "ford"),
        (58, 63, "tesla"),
        (66, 73, "tesla"),
        (87, 90, "byd"),
        (91, 95, "byd"),
    ]


@pytest.mark.parametrize("backend", ["hyperscan", "ahocorasick_rs"])
def test_matcher_unicode_punctuation_is_a_boundary(backend: str) -> None:
    from tests.tag.helpers import test_catalog

    tagger = Tagger(test_catalog(), backend=backend)
    text = "«Xiaomi»—“Ford’s” rival;\u00a0BYD…Fordham’s 小米汽车。Tesla\u3000NIO"
    assert [(m.text, m.slug) for m in tagger.find(text)] == [
        ("Xiaomi", "xiaomi"),
        ("Ford", "ford"),
        ("BYD", "byd"),
        ("小米汽车", "xiaomi"),
        ("Tesla", "tesla"),
        ("NIO", "nio"),
    ]
