"""`evwire channels|db|config ...`: operator commands."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import SecretStr
from rich.table import Table

from evwire.cli.common import cli_errors, echo_json, load_settings, out, redact_url, services
from evwire.pipeline import active_catalog_path
from evwire.store.companies import list_channels
from evwire.store.db import upgrade_db

channels_app = typer.Typer(help="Company channels.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
config_app = typer.Typer(help="Settings in effect.", no_args_is_help=True)


@channels_app.command("list")
@cli_errors
def channels_list(
    json_: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """Every channel with its article counts."""
    settings = load_settings()
    with services(settings) as svc, svc.db.session() as session:
        rows = list_channels(session)
    if json_:
        for r in rows:
            echo_json(
                {"slug": r.slug, "name": r.name, "kind": r.kind, "about": r.about, "mentioned": r.mentioned}
            )
        return
    table = Table("slug", "name", "kind", "about", "mentioned", box=None)
    for r in rows:
        table.add_row(r.slug, r.name, r.kind, str(r.about), str(r.mentioned))
    out.print(table)


@db_app.command("upgrade")
@cli_errors
def db_upgrade() -> None:
    """Create or migrate the database schema to the newest revision."""
    settings = load_settings()
    upgrade_db(settings.db_url)
    out.print(f"database {redact_url(settings.db_url)} is at the newest revision")


@config_app.command("show")
@cli_errors
def config_show() -> None:
    """Print the settings in effect (secrets redacted)."""
    settings = load_settings()
    rows: list[tuple[str, str]] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            shown = "********** (set)"
        elif value is None:
            shown = "(not set)"
        elif name == "database_url":
            shown = redact_url(str(value))
        else:
            shown = str(value)
        rows.append((f"EVWIRE_{name.upper()}", shown))
    rows.append(("# database in use", redact_url(settings.db_url)))
    rows.append(("# active catalog", str(active_catalog_path(settings))))
    width = max(len(k) for k, _ in rows)
    for key, shown in rows:
        typer.echo(f"{key:<{width}}  {shown}")
