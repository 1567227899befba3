"""Delivery facts from article text: "BYD delivered 4.6 million vehicles in 2025" -> FactTag.

Pure functions (no clock, database or network). `extract_facts(doc, tagger, about)` reads the title,
key points and body sentence by sentence. For each figure that counts vehicles it decides:

- metric: the nearest metric word (delivered/handed over -> deliveries, sold/sales -> sales,
  built/produced/output -> production, orders); registrations, inventory and capacity are not metrics;
- company: the owner written right before the figure ("Leapmotor 70,327", "NIO's 31,305", "Aito
  (40,012)"), else the subject of the figure's clause (the first catalog company not governed by a
  preposition), else the clause before it in the sentence, else the article's current topic (pronouns,
  "the carmaker", subject-less "Deliveries reached ..."). A model as subject ("the M9 sold ...")
  drops the figure: a model's figure is not the company's;
- period: the period phrase after the figure, else before it in the clause, else the last period the
  article used; relative phrases resolve against the publication date (see facts_text);
- kind: target when the clause looks forward ("aims to", "target", "goal", "plans to", a range, a
  period after publication), else actual;
- scope: one market (overseas, "in Europe"), plug-in hybrids, vans, or an approximate figure; BEV/NEV
  figures become the company figure only when the article gives no all-powertrain figure.

Skipped outright: year-to-date, half-year and cumulative totals, analyst estimates, hypotheticals,
shares of a total ("of which", "the remaining"), figures with no period. The rules are documented in
docs/decisions/0005-facts.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from evwire.tag.facts_period import (
    _is_comparison,
    _is_future,
    _period,
    _resolve_span,
)
from evwire.tag.facts_subject import (
    _clause_start,
    _clause_subject,
    _local_owner,
    _metric,
    _scope,
    _sentence_subject,
)
from evwire.tag.facts_text import (
    Figure,
    PeriodSpan,
    find_figures,
    find_periods,
    split_sentences,
)
from evwire.tag.facts_words import (
    _COMPARE_CUE,
    _METRIC_AFTER,
    _METRIC_WORDS,
    _MOVE,
    _RATE,
    _SHARE_AFTER,
    _SHARE_BEFORE,
    _SKIP_CUE,
    _TARGET_CUE,
    _UNIT,
)
from evwire.tag.types import FactTag, Match, TagInput

# Policy: a lower bound ("more than 20,000") is kept for targets; an actual stated only as a lower bound
# is a teaser, not the company's figure, and is left out (see the ADR for the measurement).
EMIT_LOWER_BOUND_ACTUALS = False


_DIGIT = re.compile(r"\d")
# substrings every word of a metric pattern contains: a sentence without them skips the regex
_STEMS_BY_METRIC = {
    "reg": ("regist", "inventor", "capacity", "recall", "install", "deploy", "insur"),
    "none": ("best", "retail", "sale", "price"),
    "orders": ("order", "booking", "booked", "reservation"),
    "deliveries": ("deliver", "hand", "ship"),
    "sales": ("sold", "sell", "sales"),
    "production": ("produc", "output", "built", "build", "manufactur"),
}
_METRIC_STEMS = tuple(w for stems in _STEMS_BY_METRIC.values() for w in stems)


class Finder(Protocol):
    def find(self, text: str) -> list[Match]: ...


@dataclass(frozen=True)
class _Cand:
    order: int
    company: str
    period: str
    metric: str
    kind: str
    value: int
    lower_bound: bool
    scope: str | None
    precision: int
    promotable: bool  # a BEV/NEV figure that may stand for the company when nothing else does


@dataclass
class _State:
    published: date | None
    topic: str | None
    period: str | None = None  # the article's lead period: the first a figure used (or a title's)
    period_from_note: bool = False
    last: str | None = None  # the period the last figure used ("in the same month")
    metric: str | None = None  # the last metric the article used
    order: int = 0


def extract_facts(doc: TagInput, tagger: Finder, about: Sequence[str]) -> list[FactTag]:
    """Delivery facts of an article: company (slug), period, metric, kind, value, lower bound, scope."""
    state = _State(published=doc.published, topic=(about[0] if about else None))
    for _, sent in split_sentences(doc.title):
        _note_context(sent, state)
    cands: list[_Cand] = []
    for part in (*doc.bullets, *re.split(r"\n\s*\n", doc.body)):
        state.topic = about[0] if about else state.topic  # a pronoun refers within its paragraph
        for _, sent in split_sentences(part):
            cands.extend(_sentence_facts(sent, tagger.find(sent), state))
    lead = next((c.period for c in cands if c.kind == "actual"), state.period)
    title_state = _State(
        published=doc.published,
        topic=state.topic if not about else about[0],
        period=lead,
        metric=state.metric,
        order=state.order,
    )
    for _, sent in split_sentences(doc.title):
        cands.extend(_sentence_facts(sent, tagger.find(sent), title_state, update_topic=False))
    return _resolve(cands)


def _note_context(sent: str, state: _State) -> None:
    """A title or figure-less sentence can still set the period the next figures inherit."""
    period = _first_period(sent, find_periods(sent), state)
    if period and (state.period is None or state.period_from_note):
        state.period, state.period_from_note = period, True


def _first_period(sent: str, spans: list[PeriodSpan], state: _State) -> str | None:
    for sp in spans:
        if sp.kind in ("month", "quarter", "year") and not _COMPARE_CUE.search(
            sent[max(0, sp.start - 25) : sp.start]
        ):
            return _resolve_span(sp, state, state.period)
    return None


def _sentence_facts(sent: str, matches: list[Match], state: _State, update_topic: bool = True) -> list[_Cand]:
    matches = [m for m in matches if m.kind != "ticker"]
    figures = find_figures(sent) if _DIGIT.search(sent) else []
    low = sent.lower()
    if not figures and not any(w in low for w in _METRIC_STEMS):
        if update_topic:
            state.topic = _sentence_subject(sent, matches) or state.topic
        return []
    spans = find_periods(sent)
    metric_hits = [
        (m.start(), m.end(), name)
        for name, rx in _METRIC_WORDS
        if any(w in low for w in _STEMS_BY_METRIC[name])
        for m in rx.finditer(sent)
    ]
    subject = _sentence_subject(sent, matches)
    out: list[_Cand] = []
    main_period: str | None = None
    clause_subjects: dict[int, str | None] = {}
    for i, fig in enumerate(figures):
        if fig.range_high:
            continue
        cand = _figure_fact(
            sent, fig, figures, i, matches, spans, metric_hits, state, main_period, clause_subjects
        )
        if cand is None:
            continue
        if cand.kind == "actual" and not _is_comparison(sent, fig) and cand.period:
            main_period = cand.period
        state.order += 1
        out.append(_Cand(state.order, *cand.fields()))
    if not figures:
        if any(name not in ("none", "orders") for _, _, name in metric_hits):
            _note_context(sent, state)
    if update_topic and subject:
        state.topic = subject
    words = [name for _, _, name in sorted(metric_hits) if name not in ("none", "orders")]
    if words:
        state.metric = words[-1]
    return out


@dataclass
class _Partial:
    company: str
    period: str
    metric: str
    kind: str
    value: int
    lower_bound: bool
    scope: str | None
    precision: int
    promotable: bool

    def fields(self) -> tuple[str, str, str, str, int, bool, str | None, int, bool]:
        return (
            self.company,
            self.period,
            self.metric,
            self.kind,
            self.value,
            self.lower_bound,
            self.scope,
            self.precision,
            self.promotable,
        )


def _figure_fact(
    sent: str,
    fig: Figure,
    figures: list[Figure],
    i: int,
    matches: list[Match],
    spans: list[PeriodSpan],
    metric_hits: list[tuple[int, int, str]],
    state: _State,
    main_period: str | None,
    clause_subjects: dict[int, str | None],
) -> _Partial | None:
    before = sent[: fig.start]
    after = sent[fig.end :]
    cs = _clause_start(sent, fig.start, matches)
    clause_before = sent[cs : fig.start]
    if fig.milestone or _SHARE_BEFORE.search(before[-40:]) or _SHARE_AFTER.match(after[:30]):
        return None
    if (
        _SKIP_CUE.search(clause_before)
        or _RATE.match(after[:40])
        and not _explicit_year_after(after, spans, fig)
    ):
        return None
    if any(sp.kind in ("half", "ytd") and cs <= sp.start < fig.start for sp in spans):
        state.last = None
        return None
    if any(sp.kind == "cumulative" and cs <= sp.start for sp in spans) or re.search(
        r"\bas\s+of\b", clause_before, re.I
    ):
        return None

    # metric and anchor
    metric, near = _metric(sent, fig, cs, metric_hits)
    high = next((f for f in figures[i + 1 :] if f.range_high), None) if fig.range_low else None
    unit = _UNIT.match(sent[high.end : high.end + 60] if high else after[:60])
    if metric in ("none", "reg"):
        return None
    owner = _local_owner(sent, fig, matches)
    anchored = (
        bool(unit)
        or near
        or owner is not None
        or bool(_MOVE.search(before[-30:]))
        or bool(_METRIC_AFTER.match(after[:40]))
        or bool(re.match(r"^\s*(?:[\w-]+\s+)?(?:target|goal)\b", after))
        or (main_period is not None and _is_comparison(sent, fig))
    )
    if not anchored or (not unit and fig.value < 1000):
        return None
    metric = metric or state.metric
    if metric is None or metric == "reg":
        return None
    if metric == "orders" and not unit:
        return None

    # company
    comparison = _is_comparison(sent, fig) and owner is None and not fig.lower_bound
    company = (
        owner if owner is not None else _clause_subject(sent, fig, cs, matches, clause_subjects, state.topic)
    )
    if company is None or company == "":
        return None

    # kind
    kind = "actual"
    if (
        _TARGET_CUE.search(clause_before)
        or re.match(r"^\s*(?:[\w-]+\s+){0,2}(?:target|goal)\b", after, re.I)
        or fig.range_low
    ):
        kind = "target"

    # period
    period, span_kind = _period(sent, fig, figures, i, spans, state, kind, comparison, main_period)
    if span_kind in ("half", "ytd", "cumulative"):
        state.last = None  # "over the same period" after a year-to-date figure is not a month
        return None
    if period is None:
        return None
    if kind == "actual" and _is_future(period, state.published):
        kind = "target"
    if kind == "target" and not re.fullmatch(r"\d{4}", period):
        return None
    if metric == "orders" and span_kind == "inherited":
        return None

    # scope
    scope, promotable = _scope(sent, fig, cs, after)
    lower = fig.lower_bound
    if kind == "actual" and lower and not EMIT_LOWER_BOUND_ACTUALS:
        return None
    if fig.approximate and kind == "actual":
        scope, promotable = "approximate", False
    if not comparison and span_kind != "inherited" and not fig.approximate:
        if kind == "actual":
            state.last = period
        if state.period is None or state.period_from_note:
            state.period, state.period_from_note = period, False
    return _Partial(company, period, metric, kind, fig.value, lower, scope, fig.precision, promotable)


def _explicit_year_after(after: str, spans: list[PeriodSpan], fig: Figure) -> bool:
    return bool(re.match(r"^\s*(?:[a-z-]+\s+){0,4}?(?:by|in|for)\s+(?:19|20)\d\d\b", after))


def _resolve(cands: Iterable[_Cand]) -> list[FactTag]:
    """Drop rounded repeats of a precise figure; keep one actual per company, period and metric."""
    cands = sorted(cands, key=lambda c: c.order)
    kept: list[_Cand] = []
    for c in cands:
        if c.precision > 1 and any(
            o is not c
            and o.company == c.company
            and o.period == c.period
            and o.kind == c.kind
            and o.precision < c.precision
            and abs(o.value - c.value) * 2 <= c.precision
            for o in cands
        ):
            continue
        kept.append(c)
    out: list[FactTag] = []
    seen: set[tuple[str, str, str, str, int]] = set()
    groups: dict[tuple[str, str, str], list[_Cand]] = {}
    for c in kept:
        if c.kind == "actual":
            groups.setdefault((c.company, c.period, c.metric), []).append(c)
    chosen: dict[tuple[str, str, str], _Cand | None] = {}
    for key, group in groups.items():
        plain = [c for c in group if c.scope is None]
        promo = [c for c in group if c.promotable]
        chosen[key] = plain[0] if plain else (promo[0] if promo else None)
    for c in kept:
        scope = c.scope
        if c.kind == "actual":
            pick = chosen[(c.company, c.period, c.metric)]
            if pick is c:
                scope = None
            elif scope is None or c.promotable:
                continue  # a second, different figure for the same month: a brand or a sub-total
        seen_key = (c.company, c.period, c.metric, c.kind, c.value)
        if seen_key in seen:
            continue
        seen.add(seen_key)
        out.append(FactTag(c.company, c.period, c.metric, c.kind, c.value, c.lower_bound, scope))
    return out
