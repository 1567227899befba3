"""Delivery-fact extraction on a labelled corpus: precision, recall, F1 and articles/s.

    python bench/facts.py ../shared/corpus/articles.jsonl [--catalog FILE] [--half 1|2] [--show]

Facts are scored as ../shared/tools/score.py scores them: a fact matches on (company key, period, kind,
int(value)); predicted facts with a `scope` are left out. --half 1/2 scores the odd/even lines only,
to check that a change helps both halves. --show lists misses and false positives per article.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from datetime import date
from pathlib import Path

from evwire.ingest.plaintext import parse_plain_text
from evwire.tag.catalog import load_catalog
from evwire.tag.tagger import Tagger
from evwire.tag.types import TagInput

# score.py's company normalisation (aliases abridged to the ones a slug can need)
_ALIASES = {
    "gm": "generalmotors",
    "vw": "volkswagen",
    "volkswagengroup": "volkswagen",
    "mercedes": "mercedesbenz",
    "mercedesbenzgroup": "mercedesbenz",
    "volvo": "volvocars",
    "volvocar": "volvocars",
    "lixiang": "liauto",
    "xiaopeng": "xpeng",
    "greatwallmotor": "greatwall",
    "gwm": "greatwall",
}


def company_key(name: str) -> str:
    k = re.sub(r"[^a-z0-9]", "", str(name).lower())
    return _ALIASES.get(k, k)


def to_input(row: dict) -> TagInput:
    parsed = parse_plain_text(row["text"])
    published = date.fromisoformat(row["published"][:10]) if row.get("published") else None
    return TagInput(title=parsed.title, bullets=parsed.bullets, body=parsed.body, published=published)


def fact_key(f: dict) -> tuple[str, str, str, int]:
    return (company_key(f["company"]), str(f["period"]), f.get("kind", "actual"), int(float(f["value"])))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--catalog", type=Path, default=None, help="catalog YAML (default: the shipped one)")
    ap.add_argument("--half", type=int, choices=(1, 2), default=None, help="score odd (1) or even (2) lines")
    ap.add_argument("--show", action="store_true", help="list misses and false positives")
    ap.add_argument("--repeat", type=int, default=20, help="passes over the corpus for the throughput figure")
    args = ap.parse_args(argv)

    rows = [json.loads(line) for line in args.corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.half:
        rows = rows[args.half - 1 :: 2]
    tagger = Tagger(load_catalog(args.catalog))
    docs = [to_input(r) for r in rows]

    tp = fp = fn = 0
    for row, doc in zip(rows, docs, strict=True):
        facts = [f.to_json() for f in tagger.tag(doc).facts]
        pred = {fact_key(f) for f in facts if not f.get("scope")}
        gold = {fact_key(f) for f in row.get("facts", [])}
        tp += len(pred & gold)
        fp += len(pred - gold)
        fn += len(gold - pred)
        if args.show and (pred != gold):
            print(f"{row.get('id')} {row.get('published')} | {row.get('title', '')[:70]}")
            for k in sorted(gold - pred):
                print(f"    miss {k}")
            for k in sorted(pred - gold):
                print(f"    fp   {k}")
            scoped = [f for f in facts if f.get("scope")]
            for f in scoped:
                print(f"    (scoped {f['company']} {f['period']} {f['kind']} {f['value']} {f['scope']})")

    from evwire.tag import facts as facts_module

    start = time.perf_counter()
    for _ in range(args.repeat):
        for doc in docs:
            tag = tagger.tag(doc)
            facts_module.extract_facts(doc, tagger, [c.slug for c in tag.about])
    elapsed = time.perf_counter() - start
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    rate = args.repeat * len(docs) / elapsed if elapsed else float("inf")
    half = f" (half {args.half})" if args.half else ""
    print(f"facts{half}: n={len(rows)} P={p:.3f} R={r:.3f} F1={f1:.3f} (tp={tp} fp={fp} fn={fn})")
    print(f"throughput: {rate:,.0f} articles/s (tagging + a second fact pass, one core)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
