"""`evwire status`: feeds by status and in error, articles, alert queues and their lag.

Sections come from ``evwire.store.status`` (``register_section`` adds more); ``--json`` prints
the whole report as one JSON document for scripts and monitoring.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from evwire.cli.common import cli_errors, echo_json, load_settings, out, services
from evwire.pipeline import utcnow
from evwire.store.status import StatusReport, collect_status


@cli_errors
def status_command(
    json_: Annotated[bool, typer.Option("--json", help="Print the report as one JSON document.")] = False,
) -> None:
    """Feeds by status, feeds in error with their last error, articles (total, last 24 h), alert
    queue depth and the oldest pending alert."""
    settings = load_settings()
    with services(settings) as svc, svc.db.session() as session:
        report = collect_status(session, now=utcnow())
    if json_:
        echo_json(report.as_dict())
        return
    print_report(report)


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_report(report: StatusReport) -> None:
    out.print(f"evwire status at {report.at.isoformat(timespec='seconds')}")
    for section in report.sections.values():
        out.print(f"\n[bold]{escape(section.title)}[/bold]")
        width = max((len(k) for k in section.values), default=0)
        for key, value in section.values.items():
            out.print(f"  {escape(key):<{width}}  {escape(_shown(value))}")
        for row in section.rows:  # one line each, never wrapped: easy to grep
            out.print("  - " + escape("  ".join(f"{k}: {_shown(v)}" for k, v in row.items())))
    for name, error in report.errors.items():
        out.print(f"\n[red]{escape(name)}: could not be read ({escape(error)})[/red]")
