"""One worker process: the chosen roles as tasks on one event loop, stopped by SIGTERM/SIGINT.

    options = WorkerOptions(roles=("poll", "send"), worker_id="mail-1")
    asyncio.run(run_worker(services, options))

SIGTERM (systemd stop, a Procfile restart) ends each role after the step in progress: the poll
pass stores what it fetched, the sender records the results of the batch it holds. A SIGKILL
loses nothing either: claimed feeds and alerts are taken over when their lease runs out.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from evwire.errors import EvwireError
from evwire.pipeline import Services
from evwire.poller import Poller
from evwire.store.notify import Listener
from evwire.worker import IDLE, PASS_LIMIT, PollWorker
from evwire.workers.tagging import CatalogWatcher

log = logging.getLogger(__name__)
ROLES = ("poll", "tag", "send")


@dataclass(frozen=True)
class WorkerOptions:
    roles: tuple[str, ...] = ROLES
    worker_id: str = "worker"
    idle: float = IDLE  # slow-poll fallback when no notification arrives
    poll_batch: int = 200  # feeds claimed per pass: small enough that N pollers share a backlog
    feed_lease: timedelta = timedelta(minutes=10)
    extra: dict[str, Any] = field(default_factory=dict)


def expand_roles(role: str) -> tuple[str, ...]:
    if role == "all":
        return ROLES
    if role not in ROLES:
        raise EvwireError(f"unknown role {role!r}; use poll, tag, send or all")
    return (role,)


def role_tasks(
    services: Services, options: WorkerOptions, listener: Listener, stop: asyncio.Event
) -> list[Coroutine[Any, Any, None]]:
    tasks: list[Coroutine[Any, Any, None]] = []
    if "poll" in options.roles:
        poller = Poller(services, lease=options.feed_lease)
        limit = max(1, min(options.poll_batch, PASS_LIMIT))
        worker = PollWorker(services, poller, idle=options.idle, limit=limit, listener=listener)
        tasks.append(worker.run(stop))
    if "tag" in options.roles:
        tasks.append(CatalogWatcher(services, idle=options.idle).run(stop))
    if "send" in options.roles:
        from evwire.workers.sending import send_loop

        tasks.append(send_loop(services, options, listener, stop))
    return tasks


async def run_worker(services: Services, options: WorkerOptions, stop: asyncio.Event | None = None) -> None:
    """Run the roles until ``stop`` is set (or SIGTERM/SIGINT arrives)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            pass
    listener = Listener(services.settings.db_url).start()
    log.info("worker %s running %s", options.worker_id, ", ".join(options.roles))
    try:
        await asyncio.gather(*role_tasks(services, options, listener, stop))
    finally:
        listener.stop()
        log.info("worker %s stopped", options.worker_id)
