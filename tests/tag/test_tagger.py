"""The whole tagging step: the sample article, invariants over random text, purity."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from evwire.ingest.plaintext import parse_plain_text
from evwire.tag.catalog import Catalog
from evwire.tag.tagger import Tagger, tag_article
from evwire.tag.types import TagInput
from tests.conftest import SAMPLE_ARTICLE
from tests.tag.helpers import test_catalog


def test_tagger_sample_article(catalog: Catalog) -> None:
    tagger = Tagger(catalog)
    result = tag_article(parse_plain_text(SAMPLE_ARTICLE.read_text(encoding="utf-8")).tag_input(), tagger)
    about = {c.slug for c in result.about}
    mentioned = {c.slug for c in result.mentioned}
    assert {"xiaomi", "ford"} <= about <= {"xiaomi", "ford", "byd"}
    assert {"tesla", "nvidia"} <= mentioned
    assert [c.score for c in result.about] == sorted((c.score for c in result.about), reverse=True)
    got = {(t.exchange, t.symbol, t.company) for t in result.tickers}
    assert got == {
        ("HKG", "1810", "xiaomi"),
        ("OTCMKTS", "XIACY", "xiaomi"),
        ("HKG", "1211", "byd"),
        ("OTCMKTS", "BYDDY", "byd"),
        ("NASDAQ", "TSLA", "tesla"),
    }
    people = {(p.name, p.company) for p in result.people}
    assert {("Jim Farley", "ford"), ("Jensen Huang", "nvidia")} <= people


def test_tagger_headline_comparison_is_not_about(small_tagger: Tagger) -> None:
    doc = TagInput(
        title="A challenger to Tesla doubles its sales",
        bullets=("Xpeng delivered 30,000 cars in May.", "Xpeng's new SUV drew 10,000 orders."),
        body="Xpeng (NYSE: XPEV) said on Monday it delivered 30,000 cars.\n\nXpeng plans two more models."
        " Chief executive He Xiaopeng said Xpeng would expand abroad.",
    )
    result = small_tagger.tag(doc)
    assert [c.slug for c in result.about] == ["xpeng"]
    assert "tesla" in {c.slug for c in result.mentioned}


def test_tagger_hard_negative_article(small_tagger: Tagger) -> None:
    doc = TagInput(
        title="Harrison Ford plans a quieter year",
        bullets=("Ford will fly more often.",),
        body="Harrison Ford told a magazine he wants time off. Ford, 82, keeps an apple orchard and"
        " says lucid dreams help him rest.\n\nA 40 tesla magnet is not in his plans.",
    )
    result = small_tagger.tag(doc)
    assert result.about == () and result.mentioned == () and result.tickers == ()


FILLER = [
    "the",
    "car",
    "delivered",
    "said",
    "in",
    "shares",
    "rose",
    ".",
    ",",
    "(",
    ")",
    "Premier",
    "Harrison",
    "electric",
    "42",
    "NYSE:",
    "HKG:",
    "1810",
    "$",
    "Fordham",
    "—",
    "小米",
    "İ",
    "ß",
]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_tagger_ids_are_in_catalog(data: st.DataObject) -> None:
    catalog = test_catalog()
    tagger = _TAGGER
    words = [n for c in catalog for n in (*c.all_names(), *c.products, *(p.name for p in c.people))]
    tokens = data.draw(st.lists(st.sampled_from(words + FILLER) | st.text(max_size=6), max_size=60))
    sep = data.draw(st.sampled_from([" ", "", "\n", "-"]))
    text = sep.join(tokens)
    result = tagger.tag(TagInput(title=text[:40], body=text))
    slugs = {c.slug for c in catalog}
    assert {c.slug for c in (*result.about, *result.mentioned)} <= slugs
    assert {t.company for t in result.tickers if t.company} <= slugs
    assert all(0.0 <= c.score <= 1.0 for c in (*result.about, *result.mentioned))
    assert len(result.about) <= 3
    for m in tagger.find(text):
        assert m.slug in slugs and text[m.start : m.end] == m.text


_TAGGER = Tagger(test_catalog())


def test_tagger_import_is_pure() -> None:
    code = (
        "import sys, evwire.tag, evwire.tag.tagger, evwire.tag.evaluate\n"
        "bad = [m for m in ('sqlalchemy', 'fastapi', 'httpx') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
