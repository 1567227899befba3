"""`evwire send`: deliver due alerts (SMTP when EVWIRE_SMTP_URL is set, else .eml files)."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from evwire.alerts.sender import Sender, SendReport
from evwire.cli.common import cli_errors, load_settings, out, services


def _summary(report: SendReport) -> str:
    return (
        f"sent {report.sent}, retry later {report.retried}, bounced {report.bounced}, "
        f"skipped {report.skipped} ({report.digests} digests)"
    )


@cli_errors
def send_command(
    once: Annotated[bool, typer.Option("--once", help="Deliver everything due now, then exit.")] = False,
    batch: Annotated[
        int | None, typer.Option(min=1, help="Alerts claimed at once (EVWIRE_SEND_BATCH_SIZE).")
    ] = None,
) -> None:
    """Send alerts as they appear (until Ctrl+C or SIGTERM), or with --once what is due now."""
    settings = load_settings()
    with services(settings) as svc:
        sender = Sender(svc, batch_size=batch)

        async def main() -> SendReport | None:
            if once:
                try:
                    return await sender.run_once()
                finally:
                    await sender.close()
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            out.print("sending alerts as they appear (Ctrl+C to stop)")
            await sender.run(stop)
            return None

        report = asyncio.run(main())
        if report is not None:
            out.print(_summary(report))
