"""/api/channels/{slug}/figures and /api/figures: delivery figures as JSON (typed for OpenAPI).

Each item is one figure as a page shows it (``store.figures.pick_shown``: editor > imported >
extracted, newest first), with the other stored sources of the same figure in ``other_sources``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from evwire.store.companies import get_company
from evwire.store.figures import Figure, ShownFigure, list_figures, main_metric, resolve_figures
from evwire.web.api.models import ErrorOut
from evwire.web.deps import SessionDep

router = APIRouter(tags=["figures"])
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut},
    404: {"model": ErrorOut},
    422: {"model": ErrorOut},
}
Metric = Literal["deliveries", "sales", "production", "orders"]
Kind = Literal["actual", "target", "guidance"]


class FigureSourceOut(BaseModel):
    """One stored row giving a figure."""

    id: int
    value: int
    lower_bound: bool = Field(description='true when the source only says "over N"')
    origin: Literal["extracted", "imported", "editor"]
    source_url: str | None
    article_id: int | None = Field(description="the article the figure was extracted from, if any")
    recorded_at: datetime

    @classmethod
    def of(cls, f: Figure) -> FigureSourceOut:
        return cls(
            id=f.id,
            value=f.value,
            lower_bound=f.lower_bound,
            origin=f.origin,  # type: ignore[arg-type]
            source_url=f.source_url,
            article_id=f.article_id,
            recorded_at=f.recorded_at,
        )


class FigureOut(FigureSourceOut):
    """A figure as shown, with the other sources that give it."""

    company: str = Field(description="the company's channel slug")
    period: str = Field(description="YYYY, YYYY-MM or YYYY-Qn")
    period_start: date
    metric: Metric
    kind: Kind
    scope: str | None = Field(description="null for the company-wide figure; else e.g. overseas, BEV, HIMA")
    other_sources: list[FigureSourceOut]

    @classmethod
    def of_shown(cls, s: ShownFigure) -> FigureOut:
        f = s.shown
        return cls(
            **FigureSourceOut.of(f).model_dump(),
            company=f.company,
            period=f.period,
            period_start=f.period_start,
            metric=f.metric,  # type: ignore[arg-type]
            kind=f.kind,  # type: ignore[arg-type]
            scope=f.scope,
            other_sources=[FigureSourceOut.of(o) for o in s.others],
        )


class ChannelFiguresOut(BaseModel):
    company: str
    name: str
    main_metric: str | None = Field(description="the metric the company reports most actuals in")
    items: list[FigureOut]
    links: dict[str, str]


class FiguresOut(BaseModel):
    items: list[FigureOut]


@router.get("/channels/{slug}/figures", response_model=ChannelFiguresOut, responses=ERRORS)
def get_channel_figures(
    session: SessionDep,
    slug: str,
    metric: Metric | None = None,
    kind: Kind | None = None,
    period: Annotated[str | None, Query(max_length=10, description="YYYY, YYYY-MM or YYYY-Qn")] = None,
) -> ChannelFiguresOut:
    """A company's delivery figures, by period, one shown value each with its other sources."""
    company = get_company(session, slug)
    if company is None:
        raise HTTPException(404, f"no channel {slug!r}")
    shown = resolve_figures(list_figures(session, companies=[slug], metric=metric, kind=kind, period=period))
    return ChannelFiguresOut(
        company=slug,
        name=company.name,
        main_metric=main_metric(shown),
        items=[FigureOut.of_shown(s) for s in shown],
        links={
            "html": f"/channels/{slug}/figures",
            "csv": f"/channels/{slug}/figures.csv",
            "chart_svg": f"/channels/{slug}/chart.svg",
            "chart_png": f"/channels/{slug}/chart.png",
        },
    )


@router.get("/figures", response_model=FiguresOut, responses=ERRORS)
def get_figures(
    session: SessionDep,
    company: Annotated[str | None, Query(max_length=500, description="slugs, comma-separated")] = None,
    metric: Metric | None = None,
    kind: Kind | None = None,
    period: Annotated[str | None, Query(max_length=10, description="YYYY, YYYY-MM or YYYY-Qn")] = None,
) -> FiguresOut:
    """Delivery figures of every company (or those named), filtered by metric, kind and period."""
    slugs = [s.strip() for s in (company or "").split(",") if s.strip()] or None
    shown = resolve_figures(list_figures(session, companies=slugs, metric=metric, kind=kind, period=period))
    return FiguresOut(items=[FigureOut.of_shown(s) for s in shown])
