"""The ``send`` role: deliver due alerts from the outbox with ``evwire.alerts.sender.Sender``.

The sender wakes on ``NOTIFY evwire_outbox`` through the worker's shared ``Listener`` and claims
with SKIP LOCKED and a lease (EVWIRE_OUTBOX_LEASE_SECONDS). Its claims carry ``host:pid`` unless
``--id`` names the worker: a sender restarted on the same host then takes over the rows of one that
died at once (its pid is gone), without waiting for their lease.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from evwire.alerts.sender import Sender
from evwire.pipeline import Services
from evwire.store.notify import Listener

if TYPE_CHECKING:
    from evwire.workers.runner import WorkerOptions


async def send_loop(
    services: Services, options: WorkerOptions, listener: Listener, stop: asyncio.Event
) -> None:
    sender = Sender(services, worker_id=options.extra.get("claim_id"), listener=listener)
    await sender.run(stop)
