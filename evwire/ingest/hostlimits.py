"""Politeness: at most so many requests at once to one host, starts spaced apart, a global cap.

``fetch_feed`` takes one slot per request (each redirect hop too); one ``HostLimiter`` per poller.

    limits = HostLimiter.from_settings(settings)
    async with limits.slot(host): ...
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from evwire.settings import Settings


@dataclass
class _Host:
    sem: asyncio.Semaphore
    next_start: float = 0.0


class HostLimiter:
    """At most ``per_host`` requests at once to one host, starts ``min_gap`` seconds apart, and at
    most ``global_limit`` requests at once in all. One per poller (event loop)."""

    def __init__(self, *, per_host: int = 2, min_gap: float = 1.0, global_limit: int = 50) -> None:
        self.per_host = per_host
        self.min_gap = min_gap
        self._global = asyncio.Semaphore(global_limit)
        self._hosts: dict[str, _Host] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> HostLimiter:
        return cls(
            per_host=settings.feed_host_concurrency,
            min_gap=settings.feed_host_min_gap,
            global_limit=settings.feed_global_concurrency,
        )

    def slot(self, host: str) -> _Slot:
        """``async with limits.slot(host):`` around one request to ``host``."""
        return _Slot(self, host.lower())

    def _forget_idle(self) -> None:
        now = asyncio.get_running_loop().time()
        for host in [h for h, e in self._hosts.items() if e.next_start < now and not e.sem.locked()]:
            del self._hosts[host]


class _Slot:
    """The per-host and global slots of one request (a class, not an async generator: this runs for
    every poll, and the generator machinery cost more than the limiting itself)."""

    __slots__ = ("_limiter", "_host", "_entry")

    def __init__(self, limiter: HostLimiter, host: str) -> None:
        self._limiter = limiter
        self._host = host
        self._entry: _Host | None = None

    async def __aenter__(self) -> None:
        limiter = self._limiter
        entry = limiter._hosts.get(self._host)
        if entry is None:
            entry = limiter._hosts[self._host] = _Host(asyncio.Semaphore(limiter.per_host))
        await entry.sem.acquire()
        try:
            now = asyncio.get_running_loop().time()
            start = max(now, entry.next_start)
            entry.next_start = start + limiter.min_gap
            if start > now:
                await asyncio.sleep(start - now)
            await limiter._global.acquire()
        except BaseException:
            entry.sem.release()
            raise
        self._entry = entry

    async def __aexit__(self, *exc: object) -> None:
        limiter, entry = self._limiter, self._entry
        assert entry is not None
        limiter._global.release()
        entry.sem.release()
        if len(limiter._hosts) > 10_000:
            limiter._forget_idle()
