"""Delivery figures on the web: a company's figures page, chart images (SVG/PNG), CSV downloads, the
compare page, and the chart panel that channel and article pages include.

``install(app)`` adds these routes and the JSON API (``web/api/figures.py``) and gives the templates
``figure_panel(request, slug)`` / ``article_figure_panel(request, article_id)`` for their charts block.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from evwire.charts.render import to_png, to_svg
from evwire.charts.spec import fmt, progress_label
from evwire.charts.views import CompanyCharts, company_charts, compare_view, parse_years
from evwire.errors import EvwireError
from evwire.store.figures import article_figure_companies, list_figures
from evwire.store.figures_csv import METRICS, write_figures_csv
from evwire.web.api import figures as api_figures
from evwire.web.deps import SessionDep
from evwire.web.templating import render

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

Metric = Literal["deliveries", "sales", "production", "orders"]
ChartName = Literal["yoy", "progress"]
Width = Annotated[int, Query(ge=200, le=2400)]
Height = Annotated[int, Query(ge=120, le=2400)]
Years = Annotated[str | None, Query(max_length=100, description="e.g. 2024,2025")]
CACHE = {"Cache-Control": "public, max-age=60"}


@dataclass(frozen=True)
class ChartBox:
    """One chart in a page: its spec for the vendored Vega-Lite, and its SVG/PNG/CSV downloads."""

    dom_id: str
    title: str
    spec: dict[str, Any]
    svg_url: str
    png_url: str
    csv_url: str
    width: int
    height: int


@dataclass(frozen=True)
class Panel:
    charts: CompanyCharts
    yoy: ChartBox | None
    progress: ChartBox | None
    figures_url: str
    article_figures: tuple[Any, ...] = ()  # the figures an article gave (article pages)


def _query(metric: str | None, years: list[int] | None, **extra: object) -> str:
    parts = [f"metric={metric}"] if metric else []
    if years:
        parts.append("years=" + ",".join(str(y) for y in years))
    parts += [f"{k}={v}" for k, v in extra.items()]
    return ("?" + "&".join(parts)) if parts else ""


def make_panel(charts: CompanyCharts, *, years: list[int] | None = None, prefix: str = "fig") -> Panel:
    base = f"/channels/{charts.slug}"
    csv_url = f"{base}/figures.csv"
    yoy = progress = None
    spec = charts.yoy_spec()
    if spec and charts.yoy:
        q = _query(charts.metric, years, chart="yoy")
        yoy = ChartBox(
            f"{prefix}-yoy",
            charts.yoy.title,
            spec,
            f"{base}/chart.svg{q}",
            f"{base}/chart.png{q}",
            csv_url,
            spec["width"],
            spec["height"],
        )
    spec = charts.progress_spec()
    if spec:
        q = _query(charts.metric, years, chart="progress")
        title = f"{charts.name} {charts.metric}: the year's total against its target"
        progress = ChartBox(
            f"{prefix}-progress",
            title,
            spec,
            f"{base}/chart.svg{q}",
            f"{base}/chart.png{q}",
            csv_url,
            spec["width"],
            spec["height"],
        )
    return Panel(charts, yoy, progress, f"{base}/figures")


def _services(request: Request) -> Any:
    return request.app.state.services


@contextmanager
def _panel_session(request: Request) -> Iterator[Session]:
    """The request's own session when the route has one (a page then holds one pooled connection, not
    two), inside a savepoint so a failing panel cannot spoil the page's transaction; else a new one."""
    session = getattr(request.state, "db_session", None)
    if session is None:
        with _services(request).db.session() as own:
            yield own
        return
    with session.begin_nested():
        yield session


def figure_panel(request: Request, slug: str) -> Panel | None:
    """The charts block of a channel page; None when the company has no figures to draw.
    A failure here is logged and leaves the page without charts, never without the page."""
    try:
        with _panel_session(request) as session:
            charts = company_charts(session, slug)
        return make_panel(charts) if charts and charts.has_chart else None
    except Exception:
        log.exception("chart panel of channel %s failed", slug)
        return None


def article_figure_panel(request: Request, article_id: int, slugs: list[str] | None = None) -> Panel | None:
    """The charts block of a delivery article (one whose text gave figures): its company's chart.
    ``slugs``: the article's figure companies when the page has them already (most articles have
    none, and then no savepoint or query is spent here)."""
    if slugs is not None and not slugs:
        return None
    try:
        with _panel_session(request) as session:
            slugs = slugs or article_figure_companies(session, article_id)
            if not slugs:
                return None
            charts = company_charts(session, slugs[0])
            own = tuple(list_figures(session, article_id=article_id))
        if charts is None or not charts.has_chart:
            return None
        panel = make_panel(charts, prefix=f"art{article_id}")
        return Panel(panel.charts, panel.yoy, panel.progress, panel.figures_url, own)
    except Exception:
        log.exception("chart panel of article %s failed", article_id)
        return None


def install(app: FastAPI) -> None:
    """Add the figures pages, downloads and JSON API, and the templates' chart-panel helpers."""
    app.include_router(router)
    app.include_router(api_figures.router, prefix="/api")
    env = app.state.templates.env
    env.globals.update(figure_panel=figure_panel, article_figure_panel=article_figure_panel)
    env.filters.update(figure_value=fmt, progress_label=progress_label)


# -- routes --------------------------------------------------------------------------------------


def _charts(session: SessionDep, slug: str, metric: str | None, years: str | None) -> CompanyCharts:
    try:
        charts = company_charts(session, slug, metric=metric, years=parse_years(years))
    except ValueError as exc:
        raise EvwireError(str(exc)) from exc
    if charts is None:
        raise HTTPException(404, f"no channel {slug!r}; see /channels for the list")
    return charts


@router.get("/channels/{slug}/figures")
def channel_figures_page(
    request: Request, session: SessionDep, slug: str, metric: Metric | None = None, years: Years = None
) -> Response:
    charts = _charts(session, slug, metric, years)
    panel = make_panel(charts, years=parse_years(years))
    return render(request, "figures_channel.html", {"p": panel, "metrics": METRICS, "years": years or ""})


@router.get("/channels/{slug}/figures.csv")
def channel_figures_csv(session: SessionDep, slug: str, metric: Metric | None = None) -> Response:
    """Every stored figure of the company (all sources), in the import layout."""
    charts = _charts(session, slug, None, None)
    rows = list_figures(session, companies=[charts.slug], metric=metric)
    return _csv(write_figures_csv(r.as_input() for r in rows), f"{slug}-figures.csv")


def _csv(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _image(spec: dict[str, Any] | None, fmt_: str, scale: float) -> Response:
    if spec is None:
        raise HTTPException(404, "no figures to draw for this chart")
    if fmt_ == "png":
        return Response(to_png(spec, scale=scale), media_type="image/png", headers=CACHE)
    return Response(to_svg(spec), media_type="image/svg+xml", headers=CACHE)


@router.get("/channels/{slug}/chart.{ext}")
def channel_chart_image(
    session: SessionDep,
    slug: str,
    ext: Literal["svg", "png"],
    chart: ChartName = "yoy",
    metric: Metric | None = None,
    years: Years = None,
    width: Width = 720,
    height: Height = 360,
    scale: Annotated[float, Query(ge=0.5, le=4)] = 1.0,
) -> Response:
    """The channel's chart as an image, exactly width x height (times scale for PNG)."""
    charts = _charts(session, slug, metric, years)
    make = charts.yoy_spec if chart == "yoy" else charts.progress_spec
    return _image(make(width=width, height=height), ext, scale)


def _slugs(companies: str | None) -> list[str]:
    return [s.strip() for s in (companies or "").split(",") if s.strip()]


Companies = Annotated[str | None, Query(max_length=500, description="slugs, comma-separated")]
Month = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")]


@router.get("/figures/compare")
def compare_page(
    request: Request,
    session: SessionDep,
    companies: Companies = None,
    metric: Metric = "deliveries",
    month: Month = None,
) -> Response:
    try:
        view = compare_view(session, _slugs(companies), metric=metric, month=month)
    except ValueError as exc:
        raise EvwireError(str(exc)) from exc
    slugs = ",".join(s for s, _, _ in view.companies)
    q = f"?companies={slugs}&metric={metric}"
    return render(
        request,
        "figures_compare.html",
        {
            "v": view,
            "spec": view.spec(),
            "svg_url": f"/figures/compare.svg{q}",
            "png_url": f"/figures/compare.png{q}",
            "csv_url": f"/figures.csv?companies={slugs}",
            "slugs": slugs,
            "metrics": METRICS,
        },
    )


@router.get("/figures/compare.{ext}")
def compare_image(
    session: SessionDep,
    ext: Literal["svg", "png"],
    companies: Companies = None,
    metric: Metric = "deliveries",
    width: Width = 720,
    height: Height = 360,
    scale: Annotated[float, Query(ge=0.5, le=4)] = 1.0,
) -> Response:
    try:
        view = compare_view(session, _slugs(companies), metric=metric)
    except ValueError as exc:
        raise EvwireError(str(exc)) from exc
    return _image(view.spec(width=width, height=height), ext, scale)


@router.get("/figures.csv")
def figures_csv(
    session: SessionDep,
    companies: Companies = None,
    metric: Metric | None = None,
    period: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    """Stored figures (all sources) in the import layout; every company unless `companies` is given."""
    rows = list_figures(session, companies=_slugs(companies) or None, metric=metric, period=period)
    return _csv(write_figures_csv(r.as_input() for r in rows), "figures.csv")
