"""Measure story grouping (evwire.ingest.dedupe) on near-duplicate and distinct pairs.

    python bench/dedupe.py [--stored 10000]   # precision / recall per kind of pair; speed vs the naive way

Pairs are built from the labelled corpus (shared/corpus/articles.jsonl), deterministically:
- same story: light rewording with a new headline; added paragraphs; a summary-length excerpt of
  the article; paragraphs reordered, one dropped and a wire-style dateline added; plus a few
  hand-written retellings of one news item by two writers (the hard case).
- distinct: every pair of corpus articles about the same company (different news about one
  company), and every pair of delivery reports (same template, different makers or months).

The peer, in the same run: the naive way, exact Jaccard and containment of 3-word shingle sets (same
thresholds) against every stored article. It is scored on the same pairs and timed on the same stream:
``--stored`` articles already kept (each a mix of corpus sentences, distinct stories), then new ones
looked up and added, as the poller does for each new item.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evwire.ingest.dedupe import SHINGLE, StoryIndex, signature, tokens  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "articles.jsonl"
SYNONYMS = {
    "said": "stated", "delivered": "handed over", "vehicles": "cars", "company": "firm",
    "announced": "unveiled", "increase": "rise", "rose": "climbed", "sales": "deliveries",
    "year-on-year": "from a year earlier", "percent": "per cent", "launched": "introduced",
    "expects": "anticipates", "plans": "intends", "also": "additionally", "new": "fresh",
    "largest": "biggest", "quarter": "three-month period", "reported": "posted", "month": "period",
    "electric": "battery-powered", "however": "but", "market": "sector", "shares": "stock",
}  # fmt: skip
ADDED = [
    "Analysts at several brokerages said the figures were broadly in line with their expectations, "
    "though some cautioned that price competition in the sector remains intense heading into next year.",
    "The company did not respond to a request for further comment on its plans by the time of publication. "
    "Its shares were little changed in early trading.",
]
HANDWRITTEN = [
    (
        "Xiaomi's EV arm beat its 2025 delivery goal, handing over 411,837 cars during the year, and now "
        "targets 550,000 for 2026. The SU7 sedan and the YU7 SUV made up most of the volume, the company "
        "said in a post on Weibo on Thursday.",
        "Xiaomi delivered 411,837 electric vehicles in 2025, beating its own target, and aims to deliver "
        "550,000 vehicles in 2026, the company said on Thursday. Most deliveries were of the SU7 sedan and "
        "the YU7 SUV, according to a Weibo post.",
    ),
    (
        "Tesla delivered 495,570 vehicles in the fourth quarter of 2024, slightly below analyst forecasts, "
        "bringing its full-year deliveries to 1.79 million, its first annual decline.",
        "Tesla's full-year deliveries fell for the first time, to 1.79 million vehicles, after the company "
        "handed over 495,570 cars in the fourth quarter of 2024, a little short of what analysts expected.",
    ),
    (
        "NIO handed over 40,397 vehicles in October 2025, up 92.6% from a year earlier, with the Onvo brand "
        "contributing 17,342 units and the NIO brand 17,143.",
        "October deliveries at NIO reached 40,397 vehicles, a 92.6% year-on-year rise. Onvo contributed "
        "17,342 units, just ahead of the NIO brand at 17,143, while Firefly added the rest.",
    ),
]


def load_corpus() -> list[dict]:
    return [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]


def _paras(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text) if p.strip()]


def _reword(text: str, rng: random.Random) -> str:
    out = []
    for word in text.split(" "):
        key = word.lower().strip(".,;:")
        if key in SYNONYMS and rng.random() < 0.8:
            word = word.replace(key, SYNONYMS[key]) if word.islower() else SYNONYMS[key]
        elif rng.random() < 0.03:
            continue  # a dropped word
        out.append(word)
    return " ".join(out)


def build_pairs() -> list[tuple[str, str, str, bool]]:
    """(kind, text_a, text_b, same_story)."""
    rows = load_corpus()
    rng = random.Random(6)
    pairs: list[tuple[str, str, str, bool]] = []
    for row in rows:
        title, paras = row["title"], _paras(row["text"])[1:]  # the first paragraph repeats the title
        body = "\n\n".join(paras)
        full = f"{title}\n\n{body}"
        pairs.append(
            ("reworded, new headline", full, f"Report: {_reword(title, rng)}\n\n{_reword(body, rng)}", True)
        )
        pairs.append(("added paragraphs", full, f"{title}\n\n{body}\n\n" + "\n\n".join(ADDED), True))
        if len(paras) >= 4:
            excerpt = "\n\n".join(paras[: max(2, len(paras) // 3)])
            pairs.append(("summary excerpt", f"{title}\n\n{excerpt}", full, True))
            shuffled = paras[:]
            shuffled.pop(len(shuffled) // 2)
            shuffled[0], shuffled[1] = shuffled[1], shuffled[0]
            wire = f"Breaking: {title.lower()}\n\nSHANGHAI (wire) - " + "\n\n".join(shuffled)
            pairs.append(("reordered, paragraph dropped, dateline", full, wire, True))
    for a, b in HANDWRITTEN:
        pairs.append(("hand-written retelling", a, b, True))
    by_company: dict[str, list[dict]] = {}
    for row in rows:
        for company in row.get("about", []):
            by_company.setdefault(company, []).append(row)
    seen = set()
    for group in by_company.values():
        for a, b in itertools.combinations(group, 2):
            key = tuple(sorted((a["id"], b["id"])))
            if key not in seen:
                seen.add(key)
                pairs.append(("different news, same company", a["text"], b["text"], False))
    reports = [r for r in rows if r.get("type") == "delivery_report"]
    for a, b in itertools.combinations(reports, 2):
        key = tuple(sorted((a["id"], b["id"])))
        if key not in seen:
            seen.add(key)
            pairs.append(("different delivery reports", a["text"], b["text"], False))
    return pairs


class NaiveIndex:
    """Exact shingle sets compared with every stored article: what one writes without MinHash/LSH."""

    def __init__(self, *, jaccard: float = 0.5, containment: float = 0.7, min_shingles: int = 12) -> None:
        self.jaccard_threshold, self.containment_threshold = jaccard, containment
        self.min_shingles = min_shingles
        self.docs: list[tuple[object, frozenset[tuple[str, ...]]]] = []
        self.groups: dict[object, object] = {}

    @staticmethod
    def shingles(text: str) -> frozenset[tuple[str, ...]]:
        words = tokens(text)
        return frozenset(tuple(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1)))

    def add(self, doc_id: object, text: str, *, lookup: bool = True) -> object:
        mine = self.shingles(text)
        best, best_score = None, 0.0
        if lookup and mine:
            for other_id, other in self.docs:
                inter = len(mine & other)
                if not inter:
                    continue
                j = inter / (len(mine) + len(other) - inter)
                c = inter / min(len(mine), len(other))
                same = j >= self.jaccard_threshold or (
                    c >= self.containment_threshold and min(len(mine), len(other)) >= self.min_shingles
                )
                if same and max(j, c) > best_score:
                    best, best_score = other_id, max(j, c)
        group = self.groups[best] if best is not None else doc_id
        self.docs.append((doc_id, mine))
        self.groups[doc_id] = group
        return group


def evaluate(pairs: list[tuple[str, str, str, bool]], make=StoryIndex) -> dict:  # noqa: ANN001
    """Group each pair in a fresh index; count true/false positives per kind."""
    per_kind: dict[str, list[int]] = {}
    tp = fp = fn = tn = 0
    for kind, a, b, same in pairs:
        index = make()
        index.add("a", a)
        grouped = index.add("b", b) == "a"
        stats = per_kind.setdefault(kind, [0, 0])
        stats[0] += int(grouped)
        stats[1] += 1
        tp += grouped and same
        fp += grouped and not same
        fn += (not grouped) and same
        tn += (not grouped) and not same
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {
        "precision": precision,
        "recall": recall,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "kinds": per_kind,
    }


def stream(n: int, seed: int = 9) -> list[str]:
    """n distinct articles of 12 sentences each, drawn from the corpus's sentences."""
    sentences = [
        s.strip() for r in load_corpus() for p in _paras(r["text"])[1:] for s in re.split(r"(?<=[.!?])\s+", p)
        if len(s.split()) >= 6
    ]  # fmt: skip
    rng = random.Random(seed)
    return [" ".join(rng.sample(sentences, 12)) for _ in range(n)]


def timed_adds(index, texts: list[str], start: int) -> tuple[float, int]:  # noqa: ANN001
    """(seconds, groupings) for looking up and adding texts[start:], the rest already stored."""
    for i, t in enumerate(texts[:start]):
        if isinstance(index, NaiveIndex):
            index.add(i, t, lookup=False)  # storing alone costs the naive way nothing
        else:
            index.add(i, t)
    grouped = 0
    began = time.perf_counter()
    for i in range(start, len(texts)):
        grouped += index.add(i, texts[i]) != i
    return time.perf_counter() - began, grouped


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stored", type=int, default=10000, help="articles kept before the timed lookups")
    parser.add_argument("--new", type=int, default=300, help="new articles looked up and added, timed")
    args = parser.parse_args()
    pairs = build_pairs()
    result = evaluate(pairs)
    naive = evaluate(pairs, NaiveIndex)
    same = sum(p[3] for p in pairs)
    print(
        f"pairs: {len(pairs)} ({same} same story, {len(pairs) - same} distinct)   evwire / naive exact sets"
    )
    for kind, (grouped, total) in result["kinds"].items():
        print(f"  {kind:42s} grouped {grouped:3d} / {naive['kinds'][kind][0]:3d} of {total:3d}")
    for name, r in (("evwire (MinHash + LSH)", result), ("naive exact shingle sets", naive)):
        print(
            f"{name:26s} precision {r['precision']:.3f}  recall {r['recall']:.3f}  "
            f"(tp {r['tp']}, fp {r['fp']}, fn {r['fn']}, tn {r['tn']})"
        )
    texts = [r["text"] for r in load_corpus()]
    start = time.perf_counter()
    for t in texts * 5:
        signature(t)
    sig_rate = len(texts) * 5 / (time.perf_counter() - start)
    print(f"signatures/s {sig_rate:,.0f}")
    docs = stream(args.stored + args.new)
    ours_s, ours_g = timed_adds(StoryIndex(), docs, args.stored)
    naive_s, naive_g = timed_adds(NaiveIndex(), docs, args.stored)
    print(
        f"new article looked up and added with {args.stored:,} stored: evwire {args.new / ours_s:,.0f}/s "
        f"({ours_s / args.new * 1000:.2f} ms), naive {args.new / naive_s:,.0f}/s "
        f"({naive_s / args.new * 1000:.2f} ms); ratio {naive_s / ours_s:.1f}x; grouped {ours_g} / {naive_g} "
        f"of {args.new} (distinct stories: 0 expected)"
    )


if __name__ == "__main__":
    main()
