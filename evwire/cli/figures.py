"""`evwire figures ...`: import and export delivery figures as CSV, list them, draw a company's chart."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from evwire.cli.common import cli_errors, err, fail, load_settings, out, services
from evwire.errors import EvwireError, NotFoundError
from evwire.pipeline import utcnow
from evwire.store.figures import import_figures_csv, list_figures, resolve_figures
from evwire.store.figures_csv import CSV_HEADER, FigureImportError, write_figures_csv

app = typer.Typer(
    help="Delivery figures: import/export CSV (" + ",".join(CSV_HEADER) + "), list, chart.",
    no_args_is_help=True,
)


class ChartFormat(StrEnum):
    svg = "svg"
    png = "png"


class ChartKind(StrEnum):
    yoy = "yoy"
    progress = "progress"


@app.command("import")
@cli_errors
def import_command(
    file: Annotated[str, typer.Argument(metavar="FILE.csv", help="A figures CSV; - for stdin.")],
) -> None:
    """Import figures. Every row is checked first; on any bad row nothing is imported.
    Importing the same file again adds nothing."""
    text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8-sig")
    settings = load_settings()
    with services(settings) as svc:
        try:
            with svc.db.session() as session:
                result = import_figures_csv(session, text, now=utcnow())
        except FigureImportError as exc:
            fail(f"{file}: {len(exc.errors)} bad row(s); nothing was imported")
            for line, why in exc.errors:
                err.print(f"  {escape(file)}:{line}: {escape(why)}")
            raise typer.Exit(1) from None
    out.print(f"{file}: {result.added} figures added, {result.unchanged} already stored")


@app.command("export")
@cli_errors
def export_command(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here (default stdout).")
    ] = None,
    company: Annotated[list[str] | None, typer.Option(help="Only this company (slug); repeatable.")] = None,
    metric: Annotated[str | None, typer.Option(help="Only this metric.")] = None,
) -> None:
    """Export every stored figure (all sources) in the import layout."""
    settings = load_settings()
    with services(settings) as svc, svc.db.session() as session:
        rows = list_figures(session, companies=company or None, metric=metric)
    text = write_figures_csv(r.as_input() for r in rows)
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    out.print(f"{len(rows)} figures written to {output}")


@app.command("list")
@cli_errors
def list_command(
    slug: Annotated[str, typer.Argument(help="Company slug.")],
    metric: Annotated[str | None, typer.Option(help="Only this metric.")] = None,
) -> None:
    """A company's figures as shown on its page (the shown source, and how many others)."""
    settings = load_settings()
    with services(settings) as svc, svc.db.session() as session:
        rows = resolve_figures(list_figures(session, companies=[slug], metric=metric))
    if not rows:
        raise NotFoundError(
            f"no figures for {slug!r}; see `evwire channels list` and `evwire figures import`"
        )
    table = Table("period", "metric", "kind", "scope", "value", "origin", "other sources")
    for f in rows:
        s = f.shown
        value = f"{'over ' if s.lower_bound else ''}{s.value:,}"
        table.add_row(s.period, s.metric, s.kind, s.scope or "", value, s.origin, str(len(f.others)))
    out.print(table)


@app.command("chart")
@cli_errors
def chart_command(
    slug: Annotated[str, typer.Argument(help="Company slug.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The image file to write.")],
    format: Annotated[ChartFormat, typer.Option("--format", help="svg or png.")] = ChartFormat.svg,
    chart: Annotated[
        ChartKind, typer.Option(help="yoy (monthly year over year) or progress.")
    ] = ChartKind.yoy,
    metric: Annotated[
        str | None, typer.Option(help="deliveries, sales, ... (default: the company's main one).")
    ] = None,
    years: Annotated[
        str | None, typer.Option(help="Years to draw, e.g. 2024,2025 (default: the last two).")
    ] = None,
    width: Annotated[int, typer.Option(min=200, max=4000, help="Width in pixels.")] = 720,
    height: Annotated[int, typer.Option(min=120, max=4000, help="Height in pixels.")] = 360,
    scale: Annotated[float, typer.Option(min=0.5, max=4.0, help="PNG pixel scale.")] = 1.0,
) -> None:
    """Draw a company's chart to an SVG or PNG file (for scripts and mails)."""
    from evwire.charts.render import to_png, to_svg
    from evwire.charts.views import company_charts, parse_years

    try:
        chosen_years = parse_years(years)
    except ValueError as exc:
        raise EvwireError(f"--years: {exc}") from exc
    settings = load_settings()
    with services(settings) as svc, svc.db.session() as session:
        try:
            charts = company_charts(session, slug, metric=metric, years=chosen_years)
        except ValueError as exc:
            raise EvwireError(str(exc)) from exc
    if charts is None:
        raise NotFoundError(f"no company {slug!r}; see `evwire channels list`")
    spec = (charts.yoy_spec if chart is ChartKind.yoy else charts.progress_spec)(width=width, height=height)
    if spec is None:
        raise NotFoundError(
            f"no {charts.metric} figures to draw for {slug!r}; import some with `evwire figures import`"
        )
    if format is ChartFormat.png:
        output.write_bytes(to_png(spec, scale=scale))
    else:
        output.write_text(to_svg(spec), encoding="utf-8")
    out.print(f"{output}: {chart.value} chart of {charts.name} {charts.metric} ({format.value})")
