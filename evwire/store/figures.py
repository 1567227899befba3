"""Delivery figures: store them (import, editor, extracted from articles), read them, and decide which
one a page shows. Functions take a Session and never commit.

A *figure* is (company, period, metric, kind, scope); several stored rows may give it, from different
sources. ``pick_shown`` is the one rule that chooses the row a page shows (docs/decisions/0008).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.orm import Session

from evwire.store.companies import company_ids
from evwire.store.figures_csv import (
    FigureIn,
    check_figure,
    period_granularity,
    period_start,
    read_figures_csv,
)
from evwire.store.tables import Article, Base, Company, DeliveryFigure
from evwire.tag.types import FactTag

log = logging.getLogger(__name__)

# editor > imported (official releases, curated files) > extracted from article text
ORIGIN_RANK = {"editor": 0, "imported": 1, "extracted": 2}


@dataclass(frozen=True)
class Figure:
    """One stored row, read side."""

    id: int
    company: str  # slug
    company_name: str
    period: str
    period_start: date
    metric: str
    kind: str
    value: int
    lower_bound: bool
    scope: str | None
    source_url: str | None
    article_id: int | None
    origin: str
    recorded_at: datetime

    @property
    def key(self) -> tuple[str, str, str, str, str | None]:
        return (self.company, self.period, self.metric, self.kind, self.scope)

    @property
    def granularity(self) -> str:
        return period_granularity(self.period)

    def as_input(self) -> FigureIn:
        return FigureIn(
            self.company,
            self.period,
            self.metric,
            self.kind,
            self.value,
            self.lower_bound,
            self.scope,
            self.source_url,
            self.origin,
        )


@dataclass(frozen=True)
class ShownFigure:
    """The row a page shows for one figure, and the other rows that give the same figure."""

    shown: Figure
    others: tuple[Figure, ...] = ()

    def __getattr__(self, name: str) -> object:  # period, value, ... of the shown row
        return getattr(self.shown, name)


def pick_shown(candidates: Sequence[Figure]) -> ShownFigure:
    """THE display rule: of the rows giving one figure, show the editor's, else an imported
    (official) one, else one extracted from an article; within the same origin the newest
    ``recorded_at`` wins, then the later row (higher id: the later line of an imported file).
    The other rows are kept in that order, for the page to list as further sources."""
    if not candidates:
        raise ValueError("pick_shown needs at least one figure")
    ordered = sorted(
        candidates, key=lambda f: (ORIGIN_RANK.get(f.origin, 9), -f.recorded_at.timestamp(), -f.id)
    )
    return ShownFigure(ordered[0], tuple(ordered[1:]))


def resolve_figures(rows: Iterable[Figure]) -> list[ShownFigure]:
    """Group rows into figures and pick the shown row of each; sorted by period, then metric/kind/scope."""
    groups: dict[tuple[str, str, str, str, str | None], list[Figure]] = defaultdict(list)
    for row in rows:
        groups[row.key].append(row)
    shown = [pick_shown(g) for g in groups.values()]
    shown.sort(
        key=lambda s: (
            s.shown.company,
            s.shown.period_start,
            len(s.shown.period),
            s.shown.metric,
            s.shown.kind,
            s.shown.scope or "",
        )
    )
    return shown


# -- reading -----------------------------------------------------------------------------------


def _select():  # a Select of (DeliveryFigure, company slug, company name)
    return select(DeliveryFigure, Company.slug, Company.name).join(
        Company, Company.id == DeliveryFigure.company_id
    )


def _figure(row: DeliveryFigure, slug: str, name: str) -> Figure:
    return Figure(
        id=row.id,
        company=slug,
        company_name=name,
        period=row.period,
        period_start=row.period_start,
        metric=row.metric,
        kind=row.kind,
        value=int(row.value),
        lower_bound=bool(row.lower_bound),
        scope=row.scope,
        source_url=row.source_url,
        article_id=row.article_id,
        origin=row.origin,
        recorded_at=row.recorded_at,
    )


def list_figures(
    session: Session,
    *,
    companies: Sequence[str] | None = None,
    metric: str | None = None,
    kind: str | None = None,
    period: str | None = None,
    year: int | None = None,
    article_id: int | None = None,
) -> list[Figure]:
    """Stored rows (every source), by company, period start and id."""
    stmt = _select()
    if companies is not None:
        stmt = stmt.where(Company.slug.in_(list(companies)))
    if metric is not None:
        stmt = stmt.where(DeliveryFigure.metric == metric)
    if kind is not None:
        stmt = stmt.where(DeliveryFigure.kind == kind)
    if period is not None:
        stmt = stmt.where(DeliveryFigure.period == period)
    if year is not None:
        stmt = stmt.where(
            DeliveryFigure.period_start >= date(year, 1, 1),
            DeliveryFigure.period_start < date(year + 1, 1, 1),
        )
    if article_id is not None:
        stmt = stmt.where(DeliveryFigure.article_id == article_id)
    stmt = stmt.order_by(Company.slug, DeliveryFigure.period_start, DeliveryFigure.period, DeliveryFigure.id)
    return [_figure(row, slug, name) for row, slug, name in session.execute(stmt)]


def shown_figures(session: Session, **filters: object) -> list[ShownFigure]:
    """Figures (one shown row each, others listed) matching the filters of ``list_figures``."""
    return resolve_figures(list_figures(session, **filters))  # type: ignore[arg-type]


def main_metric(figures: Iterable[Figure | ShownFigure]) -> str | None:
    """The metric a company reports most actuals in (BYD: sales; most makers: deliveries)."""
    rows = [f.shown if isinstance(f, ShownFigure) else f for f in figures]
    counts = Counter(f.metric for f in rows if f.kind == "actual")
    if not counts:
        return None
    order = {"deliveries": 0, "sales": 1, "production": 2, "orders": 3}
    return min(counts, key=lambda m: (-counts[m], order.get(m, 9)))


# Built once: every article page asks, and building an ORM select costs more than running it.
_ARTICLE_FIGURE_COMPANIES = (
    select(Company.slug)
    .join(DeliveryFigure, DeliveryFigure.company_id == Company.id)
    .where(DeliveryFigure.article_id == bindparam("article_id"))
)


def article_figure_companies(session: Session, article_id: int) -> list[str]:
    """Slugs of the companies an article gave figures for, most figures first."""
    rows = session.execute(_ARTICLE_FIGURE_COMPANIES, {"article_id": article_id})
    counts = Counter(slug for (slug,) in rows)
    return sorted(counts, key=lambda s: (-counts[s], s))


def companies_with_actuals(session: Session, limit: int = 6) -> list[str]:
    """Slugs of the companies with the most monthly actuals (the compare page's default)."""
    rows = session.execute(
        select(Company.slug, DeliveryFigure.period)
        .join(Company, Company.id == DeliveryFigure.company_id)
        .where(DeliveryFigure.kind == "actual", DeliveryFigure.scope.is_(None))
    )
    counts = Counter(slug for slug, period in rows if period_granularity(period) == "month")
    return [s for s, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


# -- writing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    added: int
    unchanged: int


def _identity(row: DeliveryFigure, slug: str) -> tuple[object, ...]:
    return FigureIn(
        slug,
        row.period,
        row.metric,
        row.kind,
        int(row.value),
        bool(row.lower_bound),
        row.scope,
        row.source_url,
        row.origin,
    ).identity()


def import_figures(session: Session, figures: Sequence[FigureIn], *, now: datetime) -> ImportResult:
    """Store validated figures; a row already stored (same identity) is not added again.

    The caller validates (``read_figures_csv``) and owns the transaction: on any error nothing stays.
    """
    ids = company_ids(session)
    missing = sorted({f.company for f in figures} - ids.keys())
    if missing:
        raise ValueError(f"unknown company slugs: {', '.join(missing)}")
    wanted = {ids[f.company] for f in figures}
    slug_of = {cid: slug for slug, cid in ids.items()}
    seen = (
        {
            _identity(row, slug_of[row.company_id])
            for row in session.scalars(select(DeliveryFigure).where(DeliveryFigure.company_id.in_(wanted)))
        }
        if wanted
        else set()
    )
    added = unchanged = 0
    for f in figures:
        ident = f.identity()
        if ident in seen:
            unchanged += 1
            continue
        seen.add(ident)
        session.add(_row(f, ids[f.company], now=now))
        added += 1
    session.flush()
    return ImportResult(added, unchanged)


def _values(f: FigureIn, company_id: int, *, now: datetime, article_id: int | None = None) -> dict[str, Any]:
    return {
        "company_id": company_id,
        "period": f.period,
        "period_start": period_start(f.period),
        "metric": f.metric,
        "kind": f.kind,
        "value": f.value,
        "lower_bound": f.lower_bound,
        "scope": f.scope,
        "source_url": f.source_url,
        "article_id": article_id,
        "origin": f.origin,
        "recorded_at": now,
    }


def _row(f: FigureIn, company_id: int, *, now: datetime, article_id: int | None = None) -> DeliveryFigure:
    return DeliveryFigure(**_values(f, company_id, now=now, article_id=article_id))


def extracted_figure_rows(
    facts: Sequence[FactTag],
    *,
    article_id: int,
    source_url: str | None,
    ids: Mapping[str, int],
    now: datetime,
) -> list[dict[str, Any]]:
    """The ``delivery_figures`` rows of an article's extracted facts (``origin='extracted'``, the article as
    source), once each. Facts naming an unknown company or a bad period are skipped (logged)."""
    out: list[dict[str, Any]] = []
    stored: set[tuple[object, ...]] = set()
    for fact in facts:
        try:
            f = check_figure(
                company=fact.company,
                period=fact.period,
                metric=fact.metric,
                kind=fact.kind,
                value=fact.value,
                lower_bound=fact.lower_bound,
                scope=fact.scope,
                source_url=source_url,
                origin="extracted",
                companies=ids.keys(),
            )
        except ValueError as exc:
            log.info("fact skipped: %s", exc, extra={"article_id": article_id})
            continue
        if f.identity() in stored:
            continue
        stored.add(f.identity())
        out.append(_values(f, ids[f.company], now=now, article_id=article_id))
    return out


def replace_extracted_figures(
    session: Session, article: Article, facts: Sequence[FactTag], *, now: datetime
) -> int:
    """Store an article's extracted facts as ``origin='extracted'`` figures with the article as source,
    replacing those from an earlier version of it. Facts naming an unknown company or a bad period are
    skipped (logged). Returns how many were stored."""
    session.execute(
        delete(DeliveryFigure).where(
            DeliveryFigure.article_id == article.id, DeliveryFigure.origin == "extracted"
        )
    )
    if not facts:
        return 0
    rows = extracted_figure_rows(
        facts, article_id=article.id, source_url=article.url, ids=company_ids(session), now=now
    )
    if rows:
        session.execute(insert(Base.metadata.tables[DeliveryFigure.__tablename__]), rows)
    session.flush()
    return len(rows)


def import_figures_csv(session: Session, text: str, *, now: datetime) -> ImportResult:
    """Validate every row of a figures CSV (FigureImportError names each bad line), then store them."""
    rows = read_figures_csv(text, company_ids(session).keys())
    return import_figures(session, rows, now=now)


def shipped_figures_path() -> Path:
    """The real 2024-2025 figures that ship with evwire (docs/data-sources.md)."""
    return Path(str(resources.files("evwire") / "data" / "deliveries.csv"))


def load_shipped_figures(session: Session, *, now: datetime) -> ImportResult:
    """Import the shipped figures (idempotent: a second run adds nothing)."""
    return import_figures_csv(session, shipped_figures_path().read_text(encoding="utf-8"), now=now)
