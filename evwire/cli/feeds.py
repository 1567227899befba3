"""`evwire feeds ...`: follow feeds (a feed URL or a site's home page), OPML in and out, list,
pause, resume, remove, and the per-feed full-text switch."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from evwire.cli.common import cli_errors, echo_json, err, load_settings, out, services
from evwire.errors import EvwireError
from evwire.feedops import add_feed_url, export_opml, import_opml
from evwire.pipeline import utcnow
from evwire.store.feeds import list_feeds, pause_feed, remove_feed, resume_feed, set_full_text
from evwire.store.tables import Feed

app = typer.Typer(help="Follow news feeds: add, import/export OPML, list, pause, resume, remove.",
                  no_args_is_help=True)  # fmt: skip


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def feed_json(feed: Feed) -> dict[str, Any]:
    """The stable `feeds list --json` line."""
    return {
        "id": feed.id,
        "url": feed.url,
        "title": feed.title,
        "status": feed.status,
        "last_success_at": feed.last_success_at.isoformat() if feed.last_success_at else None,
        "last_error": feed.last_error,
        "error_count": feed.error_count,
        "next_poll_at": feed.next_poll_at.isoformat() if feed.next_poll_at else None,
        "interval_seconds": feed.interval_seconds,
        "items_seen": feed.items_seen,
        "full_text": feed.full_text,
        "websub": bool(feed.websub_lease_until),
    }


@app.command("add")
@cli_errors
def add_command(
    url: Annotated[str, typer.Argument(help="A feed URL, or a site's home page that links its feed.")],
    full_text: Annotated[
        bool, typer.Option("--full-text", help="Fetch article pages for items that carry only a summary.")
    ] = False,
    title: Annotated[
        str | None, typer.Option(help="Name shown for the feed (default: the feed's title).")
    ] = None,
) -> None:
    """Follow a feed; it is polled on the next pass (`evwire poll --once`)."""
    settings = load_settings()
    with services(settings) as svc:
        added = asyncio.run(add_feed_url(svc, url, now=utcnow(), full_text=full_text, title=title))
    where = f" (found on {added.discovered_from})" if added.discovered_from else ""
    state = "added" if added.created else "already followed as"
    out.print(f"{state} feed {added.feed_id}: {escape(added.url)}{escape(where)}")


@app.command("import")
@cli_errors
def import_command(
    file: Annotated[Path, typer.Argument(help="An OPML file exported from a feed reader; - for stdin.")],
    full_text: Annotated[
        bool, typer.Option("--full-text", help="Switch full text on for these feeds.")
    ] = False,
) -> None:
    """Follow every feed of an OPML file."""
    data = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    settings = load_settings()
    with services(settings) as svc:
        result = import_opml(svc, data, now=utcnow(), full_text=full_text)
    out.print(f"{result.added} feeds added, {result.known} already followed")
    for line in result.skipped:
        err.print(f"skipped {escape(line)}")


@app.command("export")
@cli_errors
def export_command(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Write the followed feeds as OPML."""
    settings = load_settings()
    with services(settings) as svc:
        data = export_opml(svc, now=utcnow())
    if output:
        output.write_bytes(data)
        out.print(f"wrote {output}")
    else:
        sys.stdout.write(data.decode("utf-8"))


@app.command("list")
@cli_errors
def list_command(
    json_: Annotated[bool, typer.Option("--json", help="Print JSON lines (a stable contract).")] = False,
    status: Annotated[
        str | None, typer.Option(help="Only feeds with this status: active, paused, dead.")
    ] = None,
) -> None:
    """List followed feeds with their status, last success, last error and next poll."""
    settings = load_settings()
    with services(settings) as svc, svc.db.session() as session:
        rows = list_feeds(session, status=status)
        if json_:
            for feed in rows:
                echo_json(feed_json(feed))
            return
        if not rows:
            out.print("no feeds yet: `evwire feeds add URL` or `evwire feeds import FILE.opml`")
            return
        table = Table("id", "feed", "status", "last success", "last error", "next poll", "items")
        for f in rows:
            table.add_row(
                str(f.id),
                escape(f.title or f.url),
                f.status,
                _when(f.last_success_at),
                escape(f.last_error or "-"),
                _when(f.next_poll_at),
                str(f.items_seen),
            )
        out.print(table)


def _act(ref: str, action: str) -> None:
    settings = load_settings()
    now = utcnow()
    with services(settings) as svc, svc.db.session() as session:
        if action == "pause":
            feed = pause_feed(session, ref, now=now)
        elif action == "resume":
            feed = resume_feed(session, ref, now=now)
        elif action == "remove":
            feed = remove_feed(session, ref)
        elif action in ("full-text-on", "full-text-off"):
            feed = set_full_text(session, ref, action == "full-text-on", now=now)
        else:  # pragma: no cover
            raise EvwireError(f"unknown action {action}")
        done = {"pause": "paused", "resume": "resumed (polled on the next pass)", "remove": "removed"}
        out.print(f"feed {feed.id} ({escape(feed.url)}): {done.get(action, action.replace('-', ' '))}")


@app.command("pause")
@cli_errors
def pause_command(feed: Annotated[str, typer.Argument(help="Feed id or URL.")]) -> None:
    """Stop polling a feed (its articles stay)."""
    _act(feed, "pause")


@app.command("resume")
@cli_errors
def resume_command(feed: Annotated[str, typer.Argument(help="Feed id or URL.")]) -> None:
    """Poll a paused or dead feed again, at once, with a clean slate of errors."""
    _act(feed, "resume")


@app.command("remove")
@cli_errors
def remove_command(feed: Annotated[str, typer.Argument(help="Feed id or URL.")]) -> None:
    """Stop following a feed; its articles stay."""
    _act(feed, "remove")


@app.command("full-text")
@cli_errors
def full_text_command(
    feed: Annotated[str, typer.Argument(help="Feed id or URL.")],
    enabled: Annotated[
        bool, typer.Argument(help="on or off", parser=lambda v: v.lower() in ("on", "true", "1", "yes"))
    ],
) -> None:
    """Switch fetching of article pages (for summary-only items) on or off for a feed."""
    _act(feed, "full-text-on" if enabled else "full-text-off")
