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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from evwire.ingest.client import make_client
from evwire.pipeline import Services
from evwire.poller import PassReport, Poller, utcnow
from evwire.store.notify import FEEDS, Listener
from evwire.store.tables import Feed
from evwire.websub_client import renewals_due, subscribe_all

log = logging.getLogger(__name__)
IDLE = 30.0  # seconds between checks when nothing is due
PASS_LIMIT = 5000  # feeds claimed per pass


class PollWorker:
    def __init__(
        self,
        services: Services,
        poller: Poller | None = None,
        *,
        idle: float = IDLE,
        limit: int = PASS_LIMIT,
        listener: Listener | None = None,
    ) -> None:
        self.services = services
        self.poller = poller or Poller(services)
        self.idle = idle
        self.limit = limit  # a full pass is followed at once by the next
        self.listener = listener  # wakes the loop on NOTIFY evwire_feeds (evwire worker)

    async def run_once(self) -> PassReport:
        """One pass over due feeds, then WebSub subscriptions and renewals."""
        report = await self.poller.run_pass(limit=self.limit)
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
            now = utcnow()
            at = session.scalar(
                select(func.min(Feed.next_poll_at)).where(
                    Feed.status == "active", or_(Feed.claimed_until.is_(None), Feed.claimed_until < now)
                )
            )
        if at is None:
            return self.idle
        return max(0.0, min(self.idle, (at - now).total_seconds()))

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                report = await self.run_once()
                if report.feeds >= self.limit:
                    continue  # more may be due: no pause
                wait = await asyncio.to_thread(self.seconds_to_next_due)
            except Exception:  # noqa: BLE001 - the loop outlives any one pass
                log.exception("poll pass failed; retrying later")
                wait = self.idle
            await self._pause(stop, max(wait, 1.0))

    async def _pause(self, stop: asyncio.Event, seconds: float) -> None:
        """Sleep until ``seconds`` pass, ``stop`` is set or (with a listener) a feed is notified."""
        waits: list[asyncio.Future[bool]] = [asyncio.ensure_future(stop.wait())]
        if self.listener is not None:
            waits.append(asyncio.ensure_future(asyncio.to_thread(self.listener.wait, FEEDS, seconds)))
        _done, pending = await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()

    def start_thread(self) -> WorkerHandle:
        return run_in_thread(self.run, "evwire-poller")


def run_in_thread(run: Callable[[asyncio.Event], Awaitable[None]], name: str) -> WorkerHandle:
    """Run ``run(stop)`` on its own event loop in a daemon thread (the one-process ``evwire serve``)."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def main() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(run(stop))
        finally:
            loop.close()

    thread = threading.Thread(target=main, name=name, daemon=True)
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
