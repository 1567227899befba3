"""Waking the sender: PostgreSQL ``NOTIFY evwire_outbox`` (or a given listener) as an asyncio event.

``_NotifyWatcher`` runs a daemon thread that LISTENs on its own connection (reconnecting with
backoff when the server goes away) and sets the sender's wake event on each notification; on
SQLite there is nothing to listen to and the in-process ``matching.Wakeup`` is all there is.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import TYPE_CHECKING

from evwire.alerts.matching import NOTIFY_CHANNEL

if TYPE_CHECKING:
    from evwire.alerts.sender import Sender

log = logging.getLogger(__name__)


class _NotifyWatcher:
    """Turns PostgreSQL ``NOTIFY evwire_outbox`` (or a given listener) into the sender's wake event."""

    def __init__(self, sender: Sender, loop: asyncio.AbstractEventLoop, woken: asyncio.Event) -> None:
        self.sender, self.loop, self.woken = sender, loop, woken
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        url = self.sender.settings.db_url
        if self.sender.listener is None and not url.startswith("postgresql"):
            return  # SQLite: the in-process Wakeup is all there is
        self._thread = threading.Thread(target=self._run, name="evwire-outbox-listen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _wake(self) -> None:
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.woken.set)

    def _run(self) -> None:
        if self.sender.listener is not None:
            while not self._stop.is_set():
                if self.sender.listener.wait(NOTIFY_CHANNEL, 1.0):
                    self._wake()
            return
        import psycopg
        from sqlalchemy.engine import make_url

        dsn = (
            make_url(self.sender.settings.db_url)
            .set(drivername="postgresql")
            .render_as_string(hide_password=False)
        )
        delay = 0.5
        while not self._stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self._wake()  # whatever was notified before we listened
                    delay = 0.5
                    while not self._stop.is_set():
                        for _note in conn.notifies(timeout=1.0, stop_after=1):
                            self._wake()
            except Exception as exc:  # noqa: BLE001 - the server went away: slow poll meanwhile, reconnect
                log.warning("outbox listener lost its connection (%s); retrying", type(exc).__name__)
                self._stop.wait(delay)
                delay = min(10.0, delay * 2)
