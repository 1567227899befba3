"""Score the tagger on a labelled corpus, and fit / cross-validate the salience weights.

    python3 bench/eval_corpus.py [CORPUS.jsonl] [--preds OUT.jsonl] [--show N]
    python3 bench/eval_corpus.py [CORPUS.jsonl] --fit      # logistic fit + leave-one-article-out figures

The corpus is for measuring only: nothing here writes rules; --fit prints weights to copy into
evwire/tag/salience.py, with the held-out (cross-validated) about-F1 that the hidden set should show.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evwire.ingest.plaintext import parse_plain_text  # noqa: E402
from evwire.tag import salience  # noqa: E402
from evwire.tag.catalog import load_catalog  # noqa: E402
from evwire.tag.evaluate import company_key, evaluate  # noqa: E402
from evwire.tag.tagger import Tagger  # noqa: E402
from evwire.tag.types import TagInput  # noqa: E402

DEFAULT_CORPUS = Path("/work/shared/corpus/articles.jsonl")


def to_input(obj: dict) -> TagInput:
    parsed = parse_plain_text(obj["text"])
    published = date.fromisoformat(obj["published"][:10]) if obj.get("published") else None
    return TagInput(
        title=obj.get("title") or parsed.title,
        bullets=parsed.bullets,
        body=parsed.body,
        caption=parsed.image_caption or "",
        published=published,
    )


def fit(rows: list[tuple[int, list[float], int]], names: list[str], l2: float = 0.3) -> list[float]:
    """Plain logistic regression by Newton steps (numpy only here, never at run time)."""
    import numpy as np

    x = np.array([[1.0, *r[1]] for r in rows])
    y = np.array([r[2] for r in rows], dtype=float)
    w = np.zeros(x.shape[1])
    reg = np.eye(x.shape[1]) * l2
    reg[0, 0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -30, 30)))
        grad = x.T @ (p - y) + reg @ w
        hess = (x.T * (p * (1 - p))) @ x + reg + np.eye(x.shape[1]) * 1e-6
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return [float(v) for v in w]


def about_f1(per_article: list[tuple[set[str], set[str]]]) -> tuple[float, int, int, int]:
    tp = sum(len(g & p) for g, p in per_article)
    fp = sum(len(p - g) for g, p in per_article)
    fn = sum(len(g - p) for g, p in per_article)
    pr = tp / (tp + fp) if tp + fp else 1.0
    rc = tp / (tp + fn) if tp + fn else 1.0
    return (2 * pr * rc / (pr + rc) if pr + rc else 0.0), tp, fp, fn


def run_fit(labels: list[dict], tagger: Tagger) -> None:
    names = list(salience.FEATURES)
    rows: list[tuple[int, list[float], int]] = []
    per_article: list[tuple[int, set[str], dict[str, list[float]]]] = []
    for i, obj in enumerate(labels):
        feats, _m, _t = tagger.features(to_input(obj))
        gold = {company_key(c) for c in obj.get("about", [])}
        vecs = {}
        for slug, f in feats.items():
            vec = [f[n] for n in names]
            key = company_key({"name": tagger.catalog[slug].name, "slug": slug})
            rows.append((i, vec, int(key in gold)))
            vecs[key] = vec
        per_article.append((i, gold, vecs))

    def predict(w: list[float], vecs: dict[str, list[float]]) -> set[str]:
        weights = dict(zip(names, w[1:], strict=True))
        scores = {k: salience.score(dict(zip(names, v, strict=True)), weights, w[0]) for k, v in vecs.items()}
        return set(salience.decide(scores)[0])

    w_all = fit(rows, names)
    full = about_f1([(g, predict(w_all, v)) for _i, g, v in per_article])
    held = []
    for i, gold, vecs in per_article:
        w = fit([r for r in rows if r[0] != i], names)
        held.append((gold, predict(w, vecs)))
    cv = about_f1(held)
    # split-half: fit on even articles, test on odd, and the reverse
    halves = []
    for parity in (0, 1):
        w = fit([r for r in rows if r[0] % 2 == parity], names)
        halves += [(g, predict(w, v)) for i, g, v in per_article if i % 2 != parity]
    sh = about_f1(halves)
    print(f"BIAS = {w_all[0]:.2f}")
    print("WEIGHTS = {" + ", ".join(f'"{n}": {v:.2f}' for n, v in zip(names, w_all[1:], strict=True)) + "}")
    print(f"about-F1 fitted on all: {full[0]:.3f} (tp={full[1]} fp={full[2]} fn={full[3]})")
    print(f"about-F1 leave-one-article-out: {cv[0]:.3f} (tp={cv[1]} fp={cv[2]} fn={cv[3]})")
    print(f"about-F1 split-half: {sh[0]:.3f} (tp={sh[1]} fp={sh[2]} fn={sh[3]})")
    current = about_f1(
        [
            (
                g,
                set(
                    salience.decide(
                        {k: salience.score(dict(zip(names, v, strict=True))) for k, v in vecs.items()}
                    )[0]
                ),
            )
            for _i, g, vecs in per_article
        ]
    )
    print(f"about-F1 with the weights in salience.py: {current[0]:.3f}")
    _ = math  # keep import for interactive use


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS))
    ap.add_argument("--preds", help="write predictions as JSON lines (for tools/score.py)")
    ap.add_argument("--show", type=int, default=0)
    ap.add_argument("--fit", action="store_true")
    args = ap.parse_args()
    labels = [json.loads(line) for line in open(args.corpus, encoding="utf-8") if line.strip()]
    tagger = Tagger(load_catalog())
    if args.fit:
        run_fit(labels, tagger)
        return
    preds = [tagger.tag(to_input(obj)).to_json() for obj in labels]
    if args.preds:
        with open(args.preds, "w", encoding="utf-8") as fh:
            for p in preds:
                fh.write(json.dumps(p, ensure_ascii=False) + "\n")
    print(evaluate(labels, preds).format(show=args.show))


if __name__ == "__main__":
    main()
