"""Rows of delivery figures -> chart series -> Vega-Lite specs (built with Altair).

Only company-wide actuals (no scope) are drawn; the table view beside a chart lists everything.
The series functions are plain data and are what the tests check; the spec functions only draw them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt

from evwire.store.figures import ShownFigure

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
QUARTERS = ("Q1", "Q2", "Q3", "Q4")
PALETTE = ("#9aa5b1", "#e4572e", "#2e86ab", "#76b041", "#f3a712", "#6c4f9c")
DEFAULT_WIDTH, DEFAULT_HEIGHT = 720, 360
LOWER_NOTE = "Lighter bars: the maker said only 'over N'"


def fmt(value: int, lower_bound: bool = False) -> str:
    return f"{'over ' if lower_bound else ''}{value:,}"


@dataclass(frozen=True)
class Bar:
    """One bar of a year-over-year chart: a month (or quarter) of one year."""

    period: str
    year: int
    slot: int  # 1-12 (months) or 1-4 (quarters)
    label: str  # Jan ... Dec, or Q1 ... Q4
    value: int
    lower_bound: bool
    source_url: str | None
    origin: str


@dataclass(frozen=True)
class YoySeries:
    company: str
    company_name: str
    metric: str
    granularity: str  # month | quarter
    years: tuple[int, ...]
    bars: tuple[Bar, ...]

    @property
    def title(self) -> str:
        per = "monthly" if self.granularity == "month" else "quarterly"
        return f"{self.company_name} {per} {self.metric} {' vs '.join(str(y) for y in self.years)}"

    @property
    def labels(self) -> tuple[str, ...]:
        return MONTHS if self.granularity == "month" else QUARTERS

    def table(self) -> list[tuple[str, list[Bar | None]]]:
        """Rows of the table view: (Jan, [bar of year 1 or None, bar of year 2 or None, ...])."""
        by = {(b.slot, b.year): b for b in self.bars}
        return [(label, [by.get((i, y)) for y in self.years]) for i, label in enumerate(self.labels, 1)]


def _company_actuals(figures: Sequence[ShownFigure], metric: str, granularity: str) -> list[ShownFigure]:
    return [
        f
        for f in figures
        if f.shown.metric == metric
        and f.shown.kind == "actual"
        and f.shown.scope is None
        and f.shown.granularity == granularity
    ]


def yoy_series(
    figures: Sequence[ShownFigure],
    *,
    company: str,
    company_name: str,
    metric: str,
    years: Sequence[int] | None = None,
) -> YoySeries | None:
    """Monthly (else quarterly) actuals of `metric`, one bar per period and year with data.

    Default years: the last two with data. None when there is nothing to draw.
    """
    for granularity in ("month", "quarter"):
        rows = _company_actuals(figures, metric, granularity)
        with_data = sorted({f.shown.period_start.year for f in rows})
        chosen = sorted(set(years)) if years else with_data[-2:]
        rows = [f for f in rows if f.shown.period_start.year in chosen]
        if not rows:
            continue
        bars = []
        for f in sorted(rows, key=lambda f: f.shown.period_start):
            s = f.shown
            slot = s.period_start.month if granularity == "month" else (s.period_start.month - 1) // 3 + 1
            label = MONTHS[slot - 1] if granularity == "month" else QUARTERS[slot - 1]
            bars.append(
                Bar(
                    s.period, s.period_start.year, slot, label, s.value, s.lower_bound, s.source_url, s.origin
                )
            )
        return YoySeries(company, company_name, metric, granularity, tuple(chosen), tuple(bars))
    return None


@dataclass(frozen=True)
class Progress:
    """A year's total so far against its target."""

    year: int
    actual: int
    actual_lower_bound: bool
    basis: str  # how `actual` was found, for the table
    target: int | None
    target_lower_bound: bool
    target_source: str | None

    @property
    def share(self) -> float | None:
        return self.actual / self.target if self.target else None


def progress_rows(
    figures: Sequence[ShownFigure], *, metric: str, years: Sequence[int] | None = None
) -> list[Progress]:
    """Per year: the reported annual total, else the sum of its months (else quarters), and the
    shown target (or guidance). Years: those with a target plus the years with actuals (last four)."""
    company_wide = [f for f in figures if f.shown.metric == metric and f.shown.scope is None]
    targets: dict[int, ShownFigure] = {}
    for f in company_wide:
        if f.shown.kind in ("target", "guidance") and f.shown.granularity == "year":
            year = f.shown.period_start.year
            if year not in targets or targets[year].shown.kind == "guidance":
                targets[year] = f
    actual_years = {f.shown.period_start.year for f in company_wide if f.shown.kind == "actual"}
    chosen = sorted(set(years)) if years else sorted(actual_years | targets.keys())[-4:]
    out = []
    for year in chosen:
        in_year = [f for f in company_wide if f.shown.kind == "actual" and f.shown.period_start.year == year]
        total, bound, basis = 0, False, "no figures yet"
        annual = [f for f in in_year if f.shown.granularity == "year"]
        if annual:
            total, bound, basis = annual[0].shown.value, annual[0].shown.lower_bound, "reported for the year"
        else:
            for granularity, word in (("month", "months"), ("quarter", "quarters")):
                parts = [f for f in in_year if f.shown.granularity == granularity]
                if parts:
                    total = sum(f.shown.value for f in parts)
                    bound = any(f.shown.lower_bound for f in parts)
                    basis = f"sum of {len(parts)} {word}"
                    break
        t = targets.get(year)
        if t is None and not in_year:
            continue
        out.append(
            Progress(
                year,
                total,
                bound,
                basis,
                t.shown.value if t else None,
                t.shown.lower_bound if t else False,
                t.shown.source_url if t else None,
            )
        )
    return out


def _sized(chart: alt.TopLevelMixin, width: int, height: int) -> dict[str, Any]:
    """The spec at exactly width x height pixels in total (axes, legend and title included)."""
    spec = chart.properties(width=width, height=height).to_dict()
    spec["autosize"] = {"type": "fit", "contains": "padding"}
    spec.setdefault("config", {})["view"] = {"stroke": None}
    return spec


def yoy_spec(
    series: YoySeries, *, width: int = DEFAULT_WIDTH, height: int = DEFAULT_HEIGHT
) -> dict[str, Any]:
    """Grouped bars: x = month (or quarter), one bar per year beside each other, colour = year."""
    years = [str(y) for y in series.years]
    values = [
        {
            "period": b.period,
            "year": str(b.year),
            "label": b.label,
            "value": b.value,
            "shown": fmt(b.value, b.lower_bound),
            "over": b.lower_bound,
        }
        for b in series.bars
    ]
    colors = list(PALETTE[: len(years)]) if len(years) <= len(PALETTE) else None
    subtitle = [LOWER_NOTE] if any(b.lower_bound for b in series.bars) else []
    chart = (
        alt.Chart(alt.Data(values=values), title=alt.Title(series.title, subtitle=subtitle, anchor="start"))
        .mark_bar()
        .encode(
            x=alt.X(
                "label:N",
                title=None,
                scale=alt.Scale(domain=list(series.labels)),
                axis=alt.Axis(labelAngle=0),
            ),
            xOffset=alt.XOffset("year:N", scale=alt.Scale(domain=years)),
            y=alt.Y("value:Q", title=series.metric.capitalize(), axis=alt.Axis(format="~s")),
            color=alt.Color(
                "year:N",
                title=None,
                scale=alt.Scale(domain=years, range=colors) if colors else alt.Scale(domain=years),
                legend=alt.Legend(orient="top"),
            ),
            opacity=alt.condition("datum.over", alt.value(0.55), alt.value(1.0)),
            tooltip=[
                alt.Tooltip("period:N", title="period"),
                alt.Tooltip("shown:N", title=series.metric),
            ],
        )
    )
    return _sized(chart, width, height)


def progress_label(p: Progress) -> str:
    """ "136,854 of 130,000 target (105%)", or "no figures yet; target 550,000"."""
    target = fmt(p.target, p.target_lower_bound) if p.target else None
    if p.basis == "no figures yet":
        return f"no figures yet; target {target}" if target else "no figures yet"
    done = fmt(p.actual, p.actual_lower_bound)
    return f"{done} of {target} target ({p.share:.0%})" if target and p.share is not None else done


def progress_spec(
    company_name: str, metric: str, rows: Sequence[Progress], *, width: int = DEFAULT_WIDTH, height: int = 200
) -> dict[str, Any]:
    """Horizontal bars: each year's total so far, with its target as a dark tick and a label."""
    values = [
        {"year": str(p.year), "actual": p.actual, "target": p.target, "label": progress_label(p)}
        for p in rows
    ]
    top = max([p.actual for p in rows] + [p.target or 0 for p in rows] + [1])
    base = alt.Chart(alt.Data(values=values)).encode(y=alt.Y("year:O", title=None))
    bars = base.mark_bar(color=PALETTE[1]).encode(
        x=alt.X(
            "actual:Q",
            title=f"{metric.capitalize()} in the year",
            axis=alt.Axis(format="~s"),
            scale=alt.Scale(domain=[0, int(top * 1.6)], nice=False),
        ),
        tooltip=[alt.Tooltip("label:N", title=metric)],
    )
    ticks = base.mark_tick(color="#222", thickness=3).encode(x="target:Q")
    text = base.mark_text(align="left", dx=4, color="#222").encode(x="actual:Q", text="label:N")
    title = alt.Title(
        f"{company_name} {metric}: the year's total against its target",
        anchor="start",
        subtitle=["Bar: total so far; dark tick: the target"],
    )
    chart = alt.layer(bars, ticks, text, title=title)
    return _sized(chart, width, height)


def compare_spec(
    rows: Sequence[ShownFigure], *, metric: str, width: int = DEFAULT_WIDTH, height: int = DEFAULT_HEIGHT
) -> dict[str, Any]:
    """One line per company over its monthly actuals."""
    values = [
        {
            "company": f.shown.company_name,
            "month": f.shown.period_start.isoformat(),
            "value": f.shown.value,
            "shown": fmt(f.shown.value, f.shown.lower_bound),
            "period": f.shown.period,
        }
        for f in rows
    ]
    names = sorted({f.shown.company_name for f in rows})
    chart = (
        alt.Chart(
            alt.Data(values=values), title=alt.Title(f"Monthly {metric}: {', '.join(names)}", anchor="start")
        )
        .mark_line(point=True)
        .encode(
            x=alt.X("month:T", title=None, axis=alt.Axis(format="%b %Y")),
            y=alt.Y("value:Q", title=metric.capitalize(), axis=alt.Axis(format="~s")),
            color=alt.Color("company:N", title=None, legend=alt.Legend(orient="top")),
            tooltip=["company:N", "period:N", alt.Tooltip("shown:N", title=metric)],
        )
    )
    return _sized(chart, width, height)
