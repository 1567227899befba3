"""Story grouping: precision/recall thresholds on the pairs bench/dedupe.py builds, and the index API."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from evwire.ingest.dedupe import Signature, StoryIndex, signature

ROOT = Path(__file__).resolve().parents[3]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_dedupe", ROOT / "bench" / "dedupe.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(
    not (ROOT.parent / "shared" / "corpus" / "articles.jsonl").exists(), reason="no shared corpus"
)
def test_dedupe_precision_and_recall_on_built_pairs() -> None:
    bench = _bench()
    result = bench.evaluate(bench.build_pairs())
    assert result["precision"] >= 0.98, result
    assert result["recall"] >= 0.9, result
    kinds = result["kinds"]
    assert kinds["different news, same company"][0] == 0
    assert kinds["added paragraphs"][0] == kinds["added paragraphs"][1]


STORY = (
    "Xiaomi delivered 411,837 electric vehicles in 2025, beating its annual target, and aims to deliver "
    "550,000 vehicles in 2026, the company said on Thursday. The SU7 sedan and the YU7 SUV accounted for "
    "most deliveries. Xiaomi began deliveries of the SU7 in April 2024 and added the YU7 in June 2025."
)
OTHER = (
    "Ford and BYD are in talks over a battery supply deal for Ford's European plants, people familiar with "
    "the matter said. Ford declined to comment. BYD already supplies batteries to several carmakers."
)


def test_dedupe_index_groups_copies_and_keeps_distinct_news_apart() -> None:
    index = StoryIndex()
    assert index.add("a", STORY) == "a"
    assert index.add("b", OTHER) == "b"
    assert index.add("c", "Report: " + STORY.replace("the company said", "Xiaomi stated")) == "a"
    assert index.add("d", STORY + " Analysts expect more price cuts in the sector next year.") == "a"
    assert index.group_of("d") == "a" and len(index) == 4
    index.remove("a")
    assert index.add("e", STORY) == "a"  # the group lives on through its other members


def test_dedupe_signatures_round_trip_and_are_stable() -> None:
    sig = signature(STORY)
    again = Signature.from_bytes(sig.to_bytes())
    assert again.size == sig.size and again.jaccard(sig) == 1.0
    assert signature(STORY).to_bytes() == sig.to_bytes()  # deterministic (no PYTHONHASHSEED)
    index = StoryIndex()
    index.add_signature("x", again, group_id="story-7")
    assert index.add("y", STORY) == "story-7"


def test_dedupe_short_texts_do_not_group_by_containment() -> None:
    index = StoryIndex()
    index.add("a", STORY)
    assert index.add("b", "Xiaomi delivered vehicles") == "b"
