"""Group commit for the sender: the results of all its lanes written together, one transaction.

Each lane hands in its results and waits until they are committed before it sends again (a row is
marked sent only after the server accepted it, and each connection holds at most one message
accepted but not yet recorded); meanwhile one writer thread takes whatever results are queued and
records them in one transaction, so the database is not the bottleneck. A failed write is tried
again a few times (the database may be back in a moment) before the lanes see the error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from evwire.store.outbox import Outcome as RowOutcome

log = logging.getLogger(__name__)


class _Recorder:
    """Group commit: senders hand in results and wait; one thread writes them in one transaction."""

    def __init__(self, write: Callable[[list[RowOutcome]], None]) -> None:
        self.write = write
        self.queue: asyncio.Queue[tuple[list[RowOutcome], asyncio.Future[None]] | None] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self.task is not None:
            await self.queue.put(None)
            await self.task
            self.task = None

    async def record(self, outcomes: list[RowOutcome]) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self.queue.put((outcomes, fut))
        await fut

    async def _run(self) -> None:
        done = False
        while not done:
            first = await self.queue.get()
            if first is None:
                break
            items = [first]
            while not self.queue.empty():
                nxt = self.queue.get_nowait()
                if nxt is None:
                    done = True
                    break
                items.append(nxt)
            outcomes = [o for batch, _ in items for o in batch]
            error: BaseException | None = None
            for attempt in range(5):
                try:
                    await asyncio.to_thread(self.write, outcomes)
                    error = None
                    break
                except Exception as exc:  # noqa: BLE001 - the database may be back in a moment
                    error = exc
                    log.warning("recording %d results failed (%s); retrying", len(outcomes), exc)
                    await asyncio.sleep(0.2 * 2**attempt)
            for _, fut in items:
                if not fut.done():
                    if error is None:
                        fut.set_result(None)
                    else:
                        fut.set_exception(error)
