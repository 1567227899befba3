"""What a page, a download or a CLI command shows about delivery figures, read in one call each:
a company's charts (``company_charts``) and the compare view of several companies (``compare_view``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from evwire.charts.spec import (
    Progress,
    YoySeries,
    compare_spec,
    progress_rows,
    progress_spec,
    yoy_series,
    yoy_spec,
)
from evwire.store.companies import company_name
from evwire.store.figures import (
    ShownFigure,
    companies_with_actuals,
    list_figures,
    main_metric,
    resolve_figures,
)
from evwire.store.figures_csv import METRICS, period_start


@dataclass(frozen=True)
class CompanyCharts:
    slug: str
    name: str
    metric: str
    metrics: tuple[str, ...]  # metrics the company has figures in
    figures: list[ShownFigure]  # every figure of the company (all metrics, kinds, scopes)
    yoy: YoySeries | None
    progress: list[Progress]

    @property
    def has_chart(self) -> bool:
        return self.yoy is not None or bool(self.progress)

    def yoy_spec(self, **size: int) -> dict[str, Any] | None:
        return yoy_spec(self.yoy, **size) if self.yoy else None

    def progress_spec(self, **size: int) -> dict[str, Any] | None:
        return progress_spec(self.name, self.metric, self.progress, **size) if self.progress else None


def company_charts(
    session: Session, slug: str, *, metric: str | None = None, years: Sequence[int] | None = None
) -> CompanyCharts | None:
    """A company's figures and chart series; None when there is no such company.

    `metric` defaults to the one the company reports most actuals in (deliveries; BYD: sales).
    """
    name = company_name(session, slug)
    if name is None:
        return None
    if metric is not None and metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")
    figures = resolve_figures(list_figures(session, companies=[slug]))
    metrics = tuple(m for m in METRICS if any(f.shown.metric == m for f in figures))
    chosen = metric or main_metric(figures) or (metrics[0] if metrics else "deliveries")
    yoy = yoy_series(figures, company=slug, company_name=name, metric=chosen, years=years)
    progress = progress_rows(figures, metric=chosen, years=years)
    return CompanyCharts(slug, name, chosen, metrics, figures, yoy, progress)


@dataclass(frozen=True)
class LeagueRow:
    rank: int | None  # None: no figure for the month
    slug: str
    name: str
    metric: str
    figure: ShownFigure | None
    year_before: ShownFigure | None  # the same month a year earlier

    @property
    def change(self) -> float | None:
        if self.figure is None or self.year_before is None or not self.year_before.shown.value:
            return None
        return self.figure.shown.value / self.year_before.shown.value - 1


@dataclass(frozen=True)
class CompareView:
    metric: str
    month: str | None  # YYYY-MM of the league table
    months: list[str]  # months with data, newest first (choices for the league table)
    companies: list[tuple[str, str, str]]  # (slug, name, metric drawn)
    unknown: list[str]  # requested slugs that are not companies
    series: list[ShownFigure]  # monthly actuals drawn
    league: list[LeagueRow] = field(default_factory=list)

    def spec(self, **size: int) -> dict[str, Any] | None:
        return compare_spec(self.series, metric=self.metric, **size) if self.series else None


def compare_view(
    session: Session, slugs: Sequence[str], *, metric: str = "deliveries", month: str | None = None
) -> CompareView:
    """Monthly actuals of several companies and a league table for one month (default: the newest
    month with data). A company with no figures in `metric` is drawn in its own main metric (BYD
    reports sales), and the table says so."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")
    if month is not None:
        if len(month) != 7:
            raise ValueError(f"month {month!r} is not YYYY-MM")
        period_start(month)
    wanted = list(dict.fromkeys(s.strip() for s in slugs if s.strip())) or companies_with_actuals(session)
    companies: list[tuple[str, str, str]] = []
    unknown: list[str] = []
    series: list[ShownFigure] = []
    monthly: dict[str, dict[str, ShownFigure]] = {}
    for slug in wanted[:12]:
        figures = resolve_figures(list_figures(session, companies=[slug], kind="actual"))
        name = company_name(session, slug)
        if name is None:
            unknown.append(slug)
            continue
        used = metric if any(f.shown.metric == metric for f in figures) else (main_metric(figures) or metric)
        rows = [
            f
            for f in figures
            if f.shown.metric == used and f.shown.scope is None and f.shown.granularity == "month"
        ]
        companies.append((slug, name, used))
        series.extend(rows)
        monthly[slug] = {f.shown.period: f for f in rows}
    months = sorted({p for by in monthly.values() for p in by}, reverse=True)
    month = month or (months[0] if months else None)
    league: list[LeagueRow] = []
    if month:
        before = f"{int(month[:4]) - 1}{month[4:]}"
        for slug, name, used in companies:
            fig = monthly[slug].get(month)
            league.append(LeagueRow(None, slug, name, used, fig, monthly[slug].get(before)))
        league.sort(key=lambda r: (r.figure is None, -(r.figure.shown.value if r.figure else 0), r.name))
        league = [
            LeagueRow(i if r.figure else None, r.slug, r.name, r.metric, r.figure, r.year_before)
            for i, r in enumerate(league, 1)
        ]
    return CompareView(metric, month, months, companies, unknown, series, league)


def parse_years(text: str | None) -> list[int] | None:
    """ "2024,2025" -> [2024, 2025]; ValueError naming the bad part."""
    if not text:
        return None
    years = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if not (part.isdigit() and len(part) == 4):
            raise ValueError(f"year {part!r} is not a four-digit year")
        years.append(int(part))
    return sorted(set(years)) or None
