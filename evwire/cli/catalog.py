"""`evwire catalog ...`: validate, export and import the entity catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from evwire.cli.common import cli_errors, load_settings, out, services
from evwire.pipeline import import_catalog, load_active_catalog
from evwire.tag.catalog import dump_catalog, load_catalog

app = typer.Typer(help="Validate, export and import the entity catalog.", no_args_is_help=True)


@app.command("validate")
@cli_errors
def validate_command(
    file: Annotated[Path | None, typer.Argument(help="Catalog YAML; default the active catalog.")] = None,
) -> None:
    """Check a catalog file and say what is wrong with it."""
    if file is None:
        catalog, path = load_active_catalog(load_settings())
    else:
        catalog, path = load_catalog(file), file
    people = sum(len(c.people) for c in catalog)
    tickers = sum(len(c.tickers) for c in catalog)
    out.print(f"{path}: valid, {len(catalog)} companies, {tickers} tickers, {people} people")


@app.command("export")
@cli_errors
def export_command(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Print (or write) the active catalog as YAML."""
    catalog, _ = load_active_catalog(load_settings())
    text = dump_catalog(catalog)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        out.print(f"wrote {len(catalog)} companies to {output}")


@app.command("import")
@cli_errors
def import_command(
    file: Annotated[Path, typer.Argument(help="Catalog YAML to make the active catalog.")],
) -> None:
    """Validate a catalog, make it active, sync companies and re-tag stored articles."""
    load_catalog(file)  # validate before anything is opened or changed
    settings = load_settings()
    with services(settings) as svc:
        counts = import_catalog(svc, file)
        target = svc.catalog_path
    out.print(
        f"catalog imported to {target}: {counts['added']} added, {counts['updated']} updated, "
        f"{counts['removed']} removed, {counts.get('kept', 0)} kept for editor tags; "
        f"{counts['retagged']} articles re-tagged"
    )
