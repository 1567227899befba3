"""Wake-ups between processes: PostgreSQL ``LISTEN/NOTIFY``, an ``Event`` within one process.

Writers call ``notify(session, FEEDS)`` (or ``OUTBOX``) inside their transaction; PostgreSQL
delivers the notification at commit, never for a rolled-back write. Workers hold a ``Listener``:

    listener = Listener(settings.db_url, [FEEDS, OUTBOX])
    listener.start()                        # a daemon thread with its own connection
    woke = listener.wait(FEEDS, timeout=30)  # True: something was notified; False: the slow poll

The listener keeps one autocommit connection (psycopg) and reconnects with backoff when the
server goes away; after a reconnect every channel is marked woken, since notifications sent while
it was gone are lost. A notification is only a hint: workers always claim from the tables, and
the ``timeout`` (slow poll) covers anything missed. On SQLite there is no server to listen on:
``Listener`` then just waits on its events, which ``wake`` (the in-process equivalent) sets.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
FEEDS = "evwire_feeds"
OUTBOX = "evwire_outbox"
CONTENT = "evwire_content"  # sent by triggers (migration 0006) when what pages show changed
CHANNELS = (FEEDS, OUTBOX)
RECONNECT_MAX = 10.0  # seconds between reconnection attempts, at most


def notify(session: Session, channel: str) -> None:
    """Ask PostgreSQL to wake listeners of ``channel`` when this transaction commits (SQLite: no-op)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": channel})


def libpq_url(url: str) -> str | None:
    """The libpq form of a SQLAlchemy PostgreSQL URL (query options such as search_path kept),
    or None for another database."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        return None
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


class Listener:
    """Events per channel, set by PostgreSQL notifications (a thread) or by ``wake``."""

    def __init__(
        self,
        url: str | None,
        channels: Iterable[str] = CHANNELS,
        *,
        poll: float = 1.0,
        payload: str | None = None,
    ) -> None:
        self.dsn = libpq_url(url) if url else None
        self.payload = payload  # when set, notifications with another payload (schema) are ignored
        self.channels = tuple(channels)
        self.events = {c: threading.Event() for c in self.channels}
        # bumped on every notification and on every (re)connect: readers that cache by it (the page
        # cache) never miss a change, since a reconnect counts as "anything may have changed"
        self.generations = dict.fromkeys(self.channels, 0)
        self.poll = poll  # how often the thread looks at its stop flag
        self.connected = threading.Event()
        self.reconnects = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Listener:
        if self.dsn and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="evwire-listener", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.wake_all()
        if self._thread is not None:
            self._thread.join(timeout=self.poll + 5)

    def wake(self, channel: str) -> None:
        self.events[channel].set()

    def wake_all(self) -> None:
        for ev in self.events.values():
            ev.set()

    def wait(self, channel: str, timeout: float) -> bool:
        """Block until ``channel`` is woken or ``timeout`` passes; True if woken. Clears the event."""
        ev = self.events[channel]
        woke = ev.wait(timeout)
        ev.clear()
        return woke

    # ------------------------------------------------------------ the listening thread

    def _run(self) -> None:
        import psycopg

        dsn = self.dsn
        assert dsn is not None  # start() runs this thread only with a dsn
        delay = 0.5
        first = True
        while not self._stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
                    for channel in self.channels:
                        conn.execute(f"LISTEN {channel}")  # names are our constants
                    self.connected.set()
                    for channel in self.channels:
                        self.generations[channel] += 1
                    if not first:
                        self.reconnects += 1
                        log.info("listening again for %s", ", ".join(self.channels))
                        self.wake_all()  # what was notified while we were away is lost: look now
                    first, delay = False, 0.5
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=self.poll):
                            if note.channel in self.events:
                                if self.payload is not None and note.payload != self.payload:
                                    continue
                                self.generations[note.channel] += 1
                                self.events[note.channel].set()
            except Exception as exc:  # noqa: BLE001 - the server went away: reconnect, slow poll meanwhile
                self.connected.clear()
                if self._stop.is_set():
                    break
                log.warning("notification listener lost its connection (%s); retrying in %.1f s",
                            type(exc).__name__, delay)  # fmt: skip
                self._stop.wait(delay)
                delay = min(RECONNECT_MAX, delay * 2)
        self.connected.clear()


def wait_for_listener(listener: Listener, timeout: float = 5.0) -> bool:
    """True once the listener is connected (always True without PostgreSQL)."""
    if listener.dsn is None:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if listener.connected.wait(0.05):
            return True
    return False
