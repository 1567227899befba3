"""`evwire poll`: one pass over due feeds with a progress bar (--once), or keep polling."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from evwire.cli.common import cli_errors, err, load_settings, out, services
from evwire.poller import Poller
from evwire.worker import PollWorker


@cli_errors
def poll(
    once: Annotated[bool, typer.Option("--once", help="One pass over the due feeds, then exit.")] = False,
    feed: Annotated[
        list[int] | None, typer.Option("--feed", help="Poll this feed id now, due or not.")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many feeds in the pass.")] = None,
) -> None:
    """Poll feeds: new items are tagged and filed under their channels."""
    settings = load_settings()
    with services(settings) as svc:
        if not once and not feed:
            out.print("polling feeds until Ctrl+C")
            worker = PollWorker(svc)
            stop = asyncio.Event()
            try:
                asyncio.run(worker.run(stop))
            except KeyboardInterrupt:
                pass
            return
        poller = Poller(svc)
        with Progress(
            TextColumn("polling"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=False,
        ) as progress:
            task = progress.add_task("feeds", total=None)
            report = asyncio.run(
                poller.run_pass(
                    limit=limit,
                    feed_ids=feed or None,
                    on_claimed=lambda n: progress.update(task, total=n),
                    on_progress=lambda n: progress.advance(task, n),
                )
            )
        worker = PollWorker(svc, poller)
        asyncio.run(worker.websub_step(poller.clock()))
    out.print(
        f"{report.feeds} feeds polled in {report.seconds:.1f} s: {report.new_articles} new articles "
        f"({report.backfill_articles} backfill), {report.updated_articles} updated, "
        f"{report.not_modified} not modified, {report.failed} failed"
    )
    for feed_id, error in sorted(report.errors.items()):
        err.print(f"feed {feed_id}: {escape(error)}")
