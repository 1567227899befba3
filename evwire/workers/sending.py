"""The ``send`` role: deliver due alerts from the outbox (wraps ``evwire.alerts.sender``)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from evwire.errors import EvwireError
from evwire.pipeline import Services
from evwire.store.notify import Listener

if TYPE_CHECKING:
    from evwire.workers.runner import WorkerOptions


async def send_loop(
    services: Services, options: WorkerOptions, listener: Listener, stop: asyncio.Event
) -> None:
    raise EvwireError("the send role needs evwire.alerts.sender, which this version does not have yet")
