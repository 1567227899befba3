"""Hand-made figures for chart tests (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

from evwire.store.figures import Figure, ShownFigure
from evwire.store.figures_csv import period_start

AT = datetime(2026, 1, 10, tzinfo=UTC)


def shown(
    period: str,
    value: int,
    *,
    kind: str = "actual",
    metric: str = "deliveries",
    scope: str | None = None,
    lower_bound: bool = False,
    company: str = "xiaomi",
    name: str = "Xiaomi",
) -> ShownFigure:
    fig = Figure(
        abs(hash((company, period, kind, scope, value))) % 10**6,
        company,
        name,
        period,
        period_start(period),
        metric,
        kind,
        value,
        lower_bound,
        scope,
        "https://example.com/" + period,
        None,
        "imported",
        AT,
    )
    return ShownFigure(fig)
