"""Which period a figure belongs to: the phrase after it, before it, or the article's running context."""

from __future__ import annotations

import re
from datetime import date
from typing import Protocol

from evwire.tag.facts_text import (
    Figure,
    PeriodSpan,
    month_year,
    previous_month,
    previous_quarter,
    quarter_year,
    shift_year,
)
from evwire.tag.facts_words import (
    _COMPARE_BEFORE,
    _COMPARE_CUE,
)


class PeriodState(Protocol):
    published: date | None
    period: str | None  # the article's lead period
    last: str | None  # the period the last figure used


def _is_comparison(sent: str, fig: Figure) -> bool:
    return bool(_COMPARE_BEFORE.search(sent[max(0, fig.start - 40) : fig.start]))


def _period(
    sent: str,
    fig: Figure,
    figures: list[Figure],
    i: int,
    spans: list[PeriodSpan],
    state: PeriodState,
    kind: str,
    comparison: bool,
    main_period: str | None,
) -> tuple[str | None, str]:
    nxt = next((f.start for f in figures[i + 1 :] if not f.range_high), len(sent))
    stop = nxt
    if not comparison:
        cue = _COMPARE_CUE.search(sent, fig.end, nxt)
        if cue:
            stop = cue.start()
    base = main_period or state.period
    usable = [sp for sp in spans if kind != "target" or sp.kind not in ("month", "quarter")]
    after = [sp for sp in usable if fig.end <= sp.start < stop]
    if comparison:
        if after:
            return _resolve_span(after[0], state, base), after[0].kind
        if re.search(r"\bfrom\s+(?:the\s+)?$", sent[: fig.start]):
            if kind == "target":
                years = [sp for sp in spans if sp.kind == "year" and sp.end <= fig.start]
                return (str(years[-1].year) if years else None), "inherited"
            if base is None:
                return None, "none"
            if re.fullmatch(r"\d{4}", base):
                return shift_year(base, -1), "inherited"
        return None, "none"
    if after:
        return _resolve_span(after[0], state, base), after[0].kind
    when = re.search(r",\s+when\b[^,]*$", sent[: fig.start])
    if when:
        lead = [sp for sp in usable if sp.end <= when.start() and not sent[sp.end : when.start()].strip()]
        if lead:
            return _resolve_span(lead[-1], state, base), lead[-1].kind
    prev_fig = max((f.end for f in figures[:i]), default=0)
    cs = max(prev_fig, 0)
    before = [sp for sp in usable if sp.end <= fig.start and sp.start >= 0]
    before = [
        sp for sp in before if not _COMPARE_CUE.search(sent[max(cs, _prev_end(figures, sp.start)) : sp.start])
    ]
    before = [sp for sp in before if sp.start >= _prev_end(figures, fig.start, strict=True) or True]
    strong = [sp for sp in before if sp.kind != "relative" or sp.rel not in _WEAK_REL]
    if before:
        sp = (strong or before)[-1]
        return _resolve_span(sp, state, base), sp.kind
    if kind == "target":
        return (state.period[:4] if state.period else None), "inherited"
    return state.period, "inherited"


_WEAK_REL = {"full-year", "full year", "the year", "annual", "for the year"}


def _prev_end(figures: list[Figure], pos: int, strict: bool = False) -> int:
    return max((f.end for f in figures if f.end <= pos), default=0)


def _resolve_span(sp: PeriodSpan, state: PeriodState, base: str | None) -> str | None:
    pub = state.published
    if sp.kind == "year":
        return str(sp.year)
    if sp.kind == "month":
        y = month_year(sp.month or 1, pub, sp.year) or (int(base[:4]) if base else None)
        return f"{y}-{sp.month:02d}" if y else None
    if sp.kind == "quarter":
        y = quarter_year(sp.quarter or 1, pub, sp.year) or (int(base[:4]) if base else None)
        return f"{y}-Q{sp.quarter}" if y else None
    if sp.kind != "relative" or sp.rel is None:
        return None
    rel = sp.rel
    if rel.startswith("the same ") and not rel.endswith(("earlier", "before", "ago", "year")):
        return state.last
    if rel in ("last month", "the previous month"):
        return previous_month(pub) if pub else None
    if rel == "this month":
        return f"{pub.year}-{pub.month:02d}" if pub else None
    if rel in ("last year", "the previous year"):
        return str(pub.year - 1) if pub else None
    if rel == "this year":
        return str(pub.year) if pub else None
    if rel == "next year":
        return str(pub.year + 1) if pub else None
    if rel == "last quarter":
        return previous_quarter(pub) if pub else None
    if rel == "this quarter":
        return f"{pub.year}-Q{(pub.month - 1) // 3 + 1}" if pub else None
    if "year" in rel and any(w in rel for w in ("earlier", "before", "ago", "last year", "prior")):
        return shift_year(base, -1) if base else None
    if rel in ("full-year", "full year", "the year", "annual", "for the year"):
        if base:
            return base[:4]
        return str(pub.year) if pub else None
    return None


def _is_future(period: str, published: date | None) -> bool:
    if published is None:
        return False
    if re.fullmatch(r"\d{4}", period):
        return int(period) > published.year
    if "-Q" in period:
        y, q = period.split("-Q")
        return (int(y), (int(q) - 1) * 3 + 1) > (published.year, published.month)
    y, mo = period.split("-")
    return (int(y), int(mo)) > (published.year, published.month)
