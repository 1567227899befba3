"""Delivery-fact extraction on a labelled corpus: precision, recall, F1 and articles/s.

    python bench/facts.py ../shared/corpus/articles.jsonl [--catalog FILE] [--half 1|2] [--show]

Facts are scored as ../shared/tools/score.py scores them: a fact matches on (company key, period, kind,
int(value)); predicted facts with a `scope` are left out. --half 1/2 scores the odd/even lines only,
to check that a change helps both halves. --show lists misses and false positives per article.

The peer, scored and timed in the same run: the regex one writes first (``naive_facts``): in each
sentence, a catalog company (the same matcher), a number before "vehicles/units/cars/EVs" near a verb
of delivering, selling or producing, the period from a "Month [year]" or a year in the sentence (else
the month before publication), "target" when the sentence says aim, plan, target, expect or goal.
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
from evwire.tag.facts_text import MONTHS, split_sentences
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


_NAIVE_FIGURE = re.compile(
    r"(?:deliver|sold|sell|sales|produc|handed|shipped)\w*\D{0,40}?(\d{1,3}(?:,\d{3})+|\d{3,})"
    r"\s+(?:new\s+|electric\s+)?(?:vehicles|units|cars|EVs)\b",
    re.I,
)
_NAIVE_MONTH = re.compile(r"\b(" + "|".join(m for m in MONTHS if len(m) > 3) + r")\b(?:\s+(20\d\d))?", re.I)
_NAIVE_YEAR = re.compile(r"\b(?:in|for)\s+(20\d\d)\b")
_NAIVE_TARGET = re.compile(r"\b(?:aim|plan|target|expect|goal)", re.I)


def naive_facts(doc: TagInput, tagger: Tagger, about: list[str]) -> list[dict]:
    """The peer: one regex for the figure, the first company and period named in the sentence."""
    out = []
    pub = doc.published
    for _, sent in split_sentences("\n".join((doc.title, *doc.bullets, doc.body))):
        companies = [m.slug for m in tagger.find(sent) if m.kind != "ticker"]
        company = companies[0] if companies else (about[0] if about else None)
        if company is None:
            continue
        for m in _NAIVE_FIGURE.finditer(sent):
            month, year = _NAIVE_MONTH.search(sent), _NAIVE_YEAR.search(sent)
            if month:
                y = int(month.group(2)) if month.group(2) else (pub.year if pub else 2025)
                period = f"{y}-{MONTHS[month.group(1).lower()]:02d}"
            elif year:
                period = year.group(1)
            elif pub:
                period = f"{pub.year - (pub.month == 1)}-{(pub.month - 2) % 12 + 1:02d}"
            else:
                continue
            kind = "target" if _NAIVE_TARGET.search(sent) else "actual"
            out.append(
                {"company": company, "period": period, "kind": kind, "value": m.group(1).replace(",", "")}
            )
    return out


def score(pairs: list[tuple[set, set]]) -> tuple[float, float, float, int, int, int]:
    tp = sum(len(p & g) for p, g in pairs)
    fp = sum(len(p - g) for p, g in pairs)
    fn = sum(len(g - p) for p, g in pairs)
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / (tp + fn) if tp + fn else 1.0
    return prec, rec, 2 * prec * rec / (prec + rec) if prec + rec else 0.0, tp, fp, fn


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

    abouts = [[c.slug for c in tagger.tag(doc).about] for doc in docs]
    naive_pairs = [
        ({fact_key(f) for f in naive_facts(doc, tagger, about)}, {fact_key(f) for f in row.get("facts", [])})
        for row, doc, about in zip(rows, docs, abouts, strict=True)
    ]

    def rate(extract) -> float:  # noqa: ANN001 - articles/s of fact extraction alone, tagging done
        start = time.perf_counter()
        for _ in range(args.repeat):
            for doc, about in zip(docs, abouts, strict=True):
                extract(doc, tagger, about)
        elapsed = time.perf_counter() - start
        return args.repeat * len(docs) / elapsed if elapsed else float("inf")

    ours_rate, naive_rate = rate(facts_module.extract_facts), rate(naive_facts)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    half = f" (half {args.half})" if args.half else ""
    print(f"facts{half}: n={len(rows)} P={p:.3f} R={r:.3f} F1={f1:.3f} (tp={tp} fp={fp} fn={fn})")
    np_, nr, nf1, ntp, nfp, nfn = score(naive_pairs)
    print(f"naive regex peer: P={np_:.3f} R={nr:.3f} F1={nf1:.3f} (tp={ntp} fp={nfp} fn={nfn})")
    print(
        f"fact extraction alone (tagging done), one core: evwire {ours_rate:,.0f} articles/s, "
        f"naive {naive_rate:,.0f} articles/s (ratio {ours_rate / naive_rate:.2f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
