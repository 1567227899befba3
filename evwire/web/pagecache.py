"""Rendered public pages kept until the content they show changes.

A channel page, an article page or a channel feed is the same bytes for every reader until an
article, a mention, a company or a figure changes, so each web process keeps the responses it
rendered (an LRU bounded by entries and bytes) under a *content version*, and serves them again
while that version holds. The version changes only when another transaction has committed:

- PostgreSQL: triggers (migration 0006) send ``NOTIFY evwire_content``, delivered at commit; a
  listener thread counts them. While it is not connected nothing is served from the cache, and a
  reconnect counts as a change (notifications sent meanwhile are lost).
- SQLite: ``PRAGMA data_version`` on a connection of our own changes whenever any other connection,
  in this process or another, commits.
- Writes through this process's own engine (the API, forms, an in-process poller) also count the
  moment they commit, so a page read right after a write here is never the old one, even before
  the notification comes back from PostgreSQL.

A page rendered while a write commits is stored under the version read *before* rendering, so it
is never served after the write's version appears. Only anonymous GETs of the public pages are
cached (an admin cookie or a response that sets a cookie bypasses it); ``X-Evwire-Cache: hit|miss``
says which answered. See docs/decisions/0016-page-cache.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import anyio
from sqlalchemy import event
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from evwire.store.notify import CONTENT, Listener

# The public pages that are the same for every reader (search and the API are not cached: their
# keys are unbounded and they are cheap to refuse or page).
CACHEABLE = re.compile(r"^/$|^/channels$|^/channels/[^/]+(/feed\.(rss|atom))?$|^/articles/\d+$")
BYPASS_COOKIES = (b"evwire_admin=",)
MAX_ENTRY_BYTES = 1 << 20
# Re-render at least hourly even when nothing changed: pages carry a signed subscribe-form token
# that lives 24 h, and a missed notification should not live forever.
MAX_AGE = 3600.0
# How long a request waits for another request's render of the same page before rendering it itself.
INFLIGHT_WAIT_S = 5.0


class ContentVersion:
    """A number that changes after every committed write to what pages show; None when unknown."""

    def __init__(self, database_url: str, sqlite_path: str | None, engine: Engine | None = None) -> None:
        self._lock = threading.Lock()
        self._listener: Listener | None = None
        self._sqlite: sqlite3.Connection | None = None
        self._seen = -1
        self._generation = 0
        self._local = 0  # committed writes through ``engine``
        self._engine = engine
        if engine is not None:
            for name, fn in self._hooks():
                event.listen(engine.pool if name == "checkin" else engine, name, fn)
        if sqlite_path is not None:
            # read-only use: never writes, so every data_version change is someone else's commit
            self._sqlite = sqlite3.connect(sqlite_path, check_same_thread=False, isolation_level=None)
        elif database_url.startswith("postgresql") and engine is not None:
            with engine.connect() as conn:  # triggers send their table's schema; ignore other schemas'
                schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
            self._listener = Listener(database_url, [CONTENT], payload=schema).start()
            self._listener.connected.wait(5.0)  # until then pages are rendered, just not kept

    @staticmethod
    def _note_statement(conn, _cursor, statement: str, *_args: object) -> None:  # noqa: ANN001
        if not statement.lstrip()[:6].upper().startswith(("SELECT", "SAVEPO", "RELEAS", "PRAGMA")):
            conn.info["evwire_wrote"] = True

    def _note_commit(self, conn) -> None:  # noqa: ANN001
        # This runs just *before* COMMIT: a page rendered now may still see the old rows, so the
        # version moves again when the connection goes back to the pool, after the commit.
        if conn.info.pop("evwire_wrote", False):
            self._local += 1
            conn.info["evwire_committed"] = True

    @staticmethod
    def _note_rollback(conn) -> None:  # noqa: ANN001
        conn.info.pop("evwire_wrote", None)

    def _note_checkin(self, _dbapi_conn, record) -> None:  # noqa: ANN001
        if record is not None and record.info.pop("evwire_committed", False):
            self._local += 1

    def _hooks(self) -> list[tuple[str, Any]]:
        return [
            ("after_cursor_execute", self._note_statement),
            ("commit", self._note_commit),
            ("rollback", self._note_rollback),
            ("checkin", self._note_checkin),
        ]

    @property
    def blocking(self) -> bool:
        """Whether ``current`` asks the database (SQLite), so async callers run it in a thread."""
        return self._sqlite is not None

    def current(self) -> int | None:
        if self._listener is not None:
            if not self._listener.connected.is_set():
                return None
            return self._listener.generations[CONTENT] + self._local
        if self._sqlite is None:
            return None
        with self._lock:
            try:
                (value,) = self._sqlite.execute("PRAGMA data_version").fetchone()
            except sqlite3.Error:
                return None
            if value != self._seen:
                self._seen = value
                self._generation += 1
            return self._generation + self._local

    def close(self) -> None:
        if self._engine is not None:
            for name, fn in self._hooks():
                event.remove(self._engine.pool if name == "checkin" else self._engine, name, fn)
            self._engine = None
        if self._listener is not None:
            self._listener.stop()
        if self._sqlite is not None:
            self._sqlite.close()


@dataclass(frozen=True)
class Entry:
    version: int
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    stored_at: float


class PageCache:
    """LRU of rendered responses by path and query, bounded by entries and total bytes."""

    def __init__(self, max_entries: int, max_bytes: int = 64 << 20) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[bytes, Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: bytes, version: int) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.version != version or time.monotonic() - entry.stored_at > MAX_AGE:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: bytes, entry: Entry) -> None:
        if len(entry.body) > MAX_ENTRY_BYTES or self.max_entries <= 0:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._entries[key] = entry
            self._bytes += len(entry.body)
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _key, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped.body)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)


def _cacheable_request(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "GET" or not CACHEABLE.match(scope["path"]):
        return False
    for name, value in scope.get("headers", []):
        if name == b"cookie" and any(c in value for c in BYPASS_COOKIES):
            return False
    return True


class PageCacheMiddleware:
    """Serves a stored response when the content version still matches; stores 200s otherwise."""

    def __init__(self, app: ASGIApp, *, cache: PageCache, version: ContentVersion) -> None:
        self.app = app
        self.cache = cache
        self.version = version
        # (key, version) -> set when the one render of that page for that version has finished
        self.inflight: dict[tuple[bytes, int], asyncio.Event] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _cacheable_request(scope):
            await self.app(scope, receive, send)
            return
        # SQLite's PRAGMA is a call into the database; the PostgreSQL version is a counter in memory
        version = (
            await anyio.to_thread.run_sync(self.version.current)
            if self.version.blocking
            else self.version.current()
        )
        if version is None:
            await self.app(scope, receive, send)
            return
        key = scope["path"].encode() + b"?" + scope.get("query_string", b"")
        entry = self.cache.get(key, version)
        if entry is None and (key, version) in self.inflight:
            # Single flight: right after a content change every reader of a popular page misses at
            # once; they wait for the one render already under way instead of each rendering it
            # (measured: p99 of the channel page under one change a second, docs/decisions/0016).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.inflight[(key, version)].wait(), INFLIGHT_WAIT_S)
            entry = self.cache.get(key, version)
        if entry is not None:
            await send(
                {"type": "http.response.start", "status": entry.status,
                 "headers": [*entry.headers, (b"x-evwire-cache", b"hit")]}
            )  # fmt: skip
            await send({"type": "http.response.body", "body": entry.body})
            return
        done = self.inflight.setdefault((key, version), asyncio.Event())
        try:
            await self._render(scope, receive, send, key, version)
        finally:
            done.set()
            if self.inflight.get((key, version)) is done:
                del self.inflight[(key, version)]

    async def _render(self, scope: Scope, receive: Receive, send: Send, key: bytes, version: int) -> None:

        start: Message | None = None
        chunks: list[bytes] = []
        storable = True

        async def capture(message: Message) -> None:
            nonlocal start, storable
            if message["type"] == "http.response.start":
                start = message
                headers = list(message.get("headers", []))
                storable = message["status"] == 200 and not any(n == b"set-cookie" for n, _ in headers)
                message = {**message, "headers": [*headers, (b"x-evwire-cache", b"miss")]}
            elif message["type"] == "http.response.body" and storable:
                chunks.append(message.get("body", b""))
                if sum(map(len, chunks)) > MAX_ENTRY_BYTES:
                    storable = False
                    chunks.clear()
                elif not message.get("more_body", False) and start is not None:
                    headers = list(start.get("headers", []))
                    entry = Entry(version, start["status"], headers, b"".join(chunks), time.monotonic())
                    self.cache.put(key, entry)
            await send(message)

        await self.app(scope, receive, capture)
