"""Salience: is an article *about* a company, or does it only mention it? The one place this is decided.

Each company found in the article gets a score in [0, 1]: a logistic function of a few features of where
and how often it is named (names, aliases, its people, its products and its printed tickers all count):

* ``title``       named in the headline; ``title_first``: the headline's first company (its subject)
* ``bullets``     share of key-point bullets naming it; ``lead``: named in the first body paragraph
* ``lead_first``  the first company named in the lead
* ``share``       its share of all company hits in bullets + body (a league table spreads this thin)
* ``top``         it has the most hits in bullets + body
* ``early``       how early its first body hit comes (1 at the start, 0 at the end or absent)
* ``ticker``      one of its listings is printed; ``people``: one of its people is named
* ``crowd``       log of the number of companies named (many brands -> a table, about few or none)
* ``body_absent`` named in the headline/bullets but never in the body (a comparison, "Tesla's rival")

``about`` = score >= ABOUT_THRESHOLD, at most MAX_ABOUT companies, highest first, and only companies
within RELATIVE_FLOOR of the best score (a side company in a one-company story stays "mentioned").
The weights were fitted by logistic regression on the labelled corpus (bench/eval_corpus.py --fit, with
leave-one-article-out cross-validation reported in docs/decisions/0003-salience.md); nothing here is
specific to any article.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

ABOUT_THRESHOLD = 0.5
MAX_ABOUT = 3
RELATIVE_FLOOR = 0.0  # fraction of the best score a second or third "about" company must reach

FEATURES = (
    "title",
    "title_first",
    "bullets",
    "lead",
    "lead_first",
    "share",
    "top",
    "early",
    "ticker",
    "people",
    "crowd",
    "body_absent",
)
# Fitted weights (see module docstring); BIAS is the intercept.
BIAS = -8.75
WEIGHTS = {
    "title": 2.71,
    "title_first": 0.07,
    "bullets": 3.04,
    "lead": 1.33,
    "lead_first": 0.40,
    "share": 1.34,
    "top": 2.08,
    "early": 2.41,
    "ticker": 2.42,
    "people": 0.68,
    "crowd": 0.77,
    "body_absent": -0.03,
}


@dataclass(frozen=True)
class Sections:
    """Offsets of the article's parts in the one text the matcher scanned."""

    title_end: int
    bullets_end: int
    body_start: int
    lead_end: int
    end: int
    n_bullets: int
    bullet_spans: tuple[tuple[int, int], ...] = ()


BIG = 1 << 30
# Per-company accumulator slots (a list, not an object: this runs for every hit of every article).
TITLE, TITLE_POS, BULLETS, LEAD, LEAD_POS, COUNT, FIRST_BODY, TICKER, PEOPLE = range(9)


def features(hits: Iterable[tuple[str, int, str]], sec: Sections) -> dict[str, dict[str, float]]:
    """Feature vectors per company. ``hits``: (slug, start offset, kind) for names, people, products
    and tickers, in any order."""
    stats: dict[str, list[int]] = {}
    title_end, bullets_end, body_start, lead_end = (
        sec.title_end,
        sec.bullets_end,
        sec.body_start,
        sec.lead_end,
    )
    for slug, start, kind in hits:
        st = stats.get(slug)
        if st is None:
            st = stats[slug] = [0, BIG, 0, 0, BIG, 0, BIG, 0, 0]
        if kind == "ticker":
            st[TICKER] = 1
            continue
        if kind == "person":
            st[PEOPLE] = 1
        if start < title_end:
            st[TITLE] += 1
            if start < st[TITLE_POS]:
                st[TITLE_POS] = start
        elif start < bullets_end:
            for i, (a, b) in enumerate(sec.bullet_spans):
                if a <= start < b:
                    st[BULLETS] |= 1 << i
                    break
            st[COUNT] += 1
        elif start >= body_start:  # (the caption, between bullets and body, counts for nothing)
            st[COUNT] += 1
            if start < lead_end:
                st[LEAD] += 1
                if start < st[LEAD_POS]:
                    st[LEAD_POS] = start
            if start < st[FIRST_BODY]:
                st[FIRST_BODY] = start
    if not stats:
        return {}
    total = sum(st[COUNT] for st in stats.values()) or 1
    best = max(st[COUNT] for st in stats.values())
    title_first = min(stats, key=lambda k: stats[k][TITLE_POS])
    lead_first = min(stats, key=lambda k: stats[k][LEAD_POS])
    body_len = max(1, sec.end - body_start)
    crowd = math.log(len(stats))
    n_bullets = sec.n_bullets
    out: dict[str, dict[str, float]] = {}
    for slug, st in stats.items():
        in_body = st[FIRST_BODY] < BIG
        out[slug] = {
            "title": 1.0 if st[TITLE] else 0.0,
            "title_first": 1.0 if st[TITLE] and slug == title_first else 0.0,
            "bullets": bin(st[BULLETS]).count("1") / n_bullets if n_bullets else 0.0,
            "lead": 1.0 if st[LEAD] else 0.0,
            "lead_first": 1.0 if st[LEAD] and slug == lead_first else 0.0,
            "share": st[COUNT] / total,
            "top": 1.0 if st[COUNT] and st[COUNT] == best else 0.0,
            "early": 1.0 - (st[FIRST_BODY] - body_start) / body_len if in_body else 0.0,
            "ticker": float(st[TICKER]),
            "people": float(st[PEOPLE]),
            "crowd": crowd,
            "body_absent": 0.0 if in_body else 1.0,
        }
    return out


def score(
    feats: dict[str, float], weights: dict[str, float] | None = None, bias: float | None = None
) -> float:
    w = WEIGHTS if weights is None else weights
    z = BIAS if bias is None else bias
    for name, value in feats.items():
        z += w.get(name, 0.0) * value
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def decide(scores: dict[str, float]) -> tuple[list[str], list[str]]:
    """Split companies into (about, mentioned), each by score, highest first."""
    ranked = sorted(scores, key=lambda k: (-scores[k], k))
    best = scores[ranked[0]] if ranked else 0.0
    about = [k for k in ranked if scores[k] >= ABOUT_THRESHOLD and scores[k] >= RELATIVE_FLOOR * best][
        :MAX_ABOUT
    ]
    chosen = set(about)
    return about, [k for k in ranked if k not in chosen]
