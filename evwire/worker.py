"""The background loops of `evwire serve` (and `evwire poll` without --once): poll due feeds,
subscribe feeds to their WebSub hubs and renew leases. One process or N (claims are leased).

    worker = PollWorker(services)
    handle = worker.start_thread()     # its own event loop in a daemon thread
    ...
    handle.stop()                      # finishes the pass in progress, then returns
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from evwire.ingest.fetch import make_client
from evwire.pipeline import Services
from evwire.poller import PassReport, Poller, utcnow
from evwire.store.tables import Feed
from evwire.websub_client import renewals_due, subscribe_all

log = logging.getLogger(__name__)
IDLE = 30.0  # seconds between checks when nothing is due
PASS_LIMIT = 5000  # feeds claimed per pass


class PollWorker:
    def __init__(self, services: Services, poller: Poller | None = None, *, idle: float = IDLE) -> None:
        self.services = services
        self.poller = poller or Poller(services)
        self.idle = idle

    async def run_once(self) -> PassReport:
        """One pass over due feeds, then WebSub subscriptions and renewals."""
        report = await self.poller.run_pass(limit=PASS_LIMIT)
        await self.websub_step(self.poller.clock())
        return report

    async def websub_step(self, now: datetime) -> int:
        needs = self.poller.websub_needs[:]
        self.poller.websub_needs.clear()
        needs += await asyncio.to_thread(renewals_due, self.services, now=now)
        if not needs:
            return 0
        async with make_client(self.services.settings) as client:
            return await subscribe_all(self.services, needs, client, now=now)

    def seconds_to_next_due(self) -> float:
        with self.services.db.session() as session:
            at = session.scalar(select(func.min(Feed.next_poll_at)).where(Feed.status == "active"))
        if at is None:
            return self.idle
        return max(0.0, min(self.idle, (at - utcnow()).total_seconds()))

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
                wait = await asyncio.to_thread(self.seconds_to_next_due)
            except Exception:  # noqa: BLE001 - the loop outlives any one pass
                log.exception("poll pass failed; retrying later")
                wait = self.idle
            try:
                await asyncio.wait_for(stop.wait(), timeout=max(wait, 1.0))
            except TimeoutError:
                pass

    def start_thread(self) -> WorkerHandle:
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()

        def main() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.run(stop))
            finally:
                loop.close()

        thread = threading.Thread(target=main, name="evwire-poller", daemon=True)
        thread.start()
        return WorkerHandle(thread, loop, stop)


@dataclass
class WorkerHandle:
    thread: threading.Thread
    loop: asyncio.AbstractEventLoop
    stop_event: asyncio.Event

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the loop to stop after the pass in progress and wait for it."""
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.stop_event.set)
            self.thread.join(timeout)
