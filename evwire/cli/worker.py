"""`evwire worker` (background roles, as many processes as wanted) and `evwire web` (uvicorn workers).

Both are for PostgreSQL deployments on one or several machines (docs/deployment.md); `evwire
serve` stays the one-process default on SQLite.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated

import typer

from evwire.cli.common import cli_errors, load_settings, out
from evwire.logs import configure_logging
from evwire.workers.runner import WorkerOptions, expand_roles, run_worker
from evwire.workers.startup import default_worker_id, open_services_once


@cli_errors
def worker_command(
    role: Annotated[str, typer.Option("--role", help="poll, tag, send or all.")] = "all",
    worker_id: Annotated[
        str | None, typer.Option("--id", help="Name of this worker in claims and logs (default host-pid).")
    ] = None,
    idle: Annotated[
        float, typer.Option(min=0.1, help="Seconds between checks when no notification arrives.")
    ] = 30.0,
    poll_batch: Annotated[int, typer.Option(min=1, help="Feeds claimed per poll pass.")] = 200,
    feed_lease: Annotated[
        float, typer.Option(min=1.0, help="Seconds a claimed feed stays this worker's if it dies.")
    ] = 600.0,
) -> None:
    """Run background work: poll feeds, re-tag after catalog edits, send alerts. Stops on SIGTERM."""
    settings = load_settings()
    configure_logging(settings)
    options = WorkerOptions(
        roles=expand_roles(role),
        worker_id=worker_id or default_worker_id(),
        idle=idle,
        poll_batch=poll_batch,
        feed_lease=timedelta(seconds=feed_lease),
        extra={"claim_id": worker_id},  # None: the sender claims as host:pid (see workers.sending)
    )
    if "send" in options.roles and settings.db_url.startswith("sqlite"):
        out.print("note: on SQLite one sender at a time is safe; use PostgreSQL for several")
    svc = open_services_once(settings)
    try:
        out.print(f"worker {options.worker_id}: {', '.join(options.roles)} (SIGTERM stops)")
        asyncio.run(run_worker(svc, options))
    finally:
        svc.close()


def web_app():  # noqa: ANN201 - the uvicorn factory; a FastAPI app
    """App factory for `evwire web`: each uvicorn worker process builds its own app from EVWIRE_*."""
    from evwire.web.app import create_app

    return create_app(load_settings())


@cli_errors
def web_command(
    host: Annotated[str | None, typer.Option(help="Address to bind (default EVWIRE_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (default EVWIRE_PORT).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes.")] = 2,
) -> None:
    """Serve the web app only (no poller), with several uvicorn worker processes."""
    settings = load_settings()
    if workers > 1 and settings.db_url.startswith("sqlite"):
        out.print("note: several web workers on SQLite share one file; PostgreSQL scales further")
    open_services_once(settings).close()  # migrate and sync the catalog once, before the workers start
    import uvicorn

    out.print(f"evwire web on http://{host or settings.host}:{port or settings.port}/ with {workers} workers")
    uvicorn.run(
        "evwire.cli.worker:web_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level="info",
    )
