"""Per-client token buckets for API writes and searches; a client over its limit gets 429.

    limiter = RateLimiter.from_settings(settings)       # kept on app.state.rate_limiter
    app.add_middleware(RateLimitMiddleware, limiter=limiter)

Each client address has one bucket per rule ("write": POST/PUT/PATCH/DELETE under /api/;
"search": GET /search with a query, GET /api/search). A bucket holds up to ``burst`` tokens and
refills at ``per_minute``; a request takes one token or is answered ``429`` with ``Retry-After``.
The buckets live in this process's memory (no global state: the limiter hangs on ``app.state``);
at most ``max_clients`` addresses are tracked, the longest idle dropped first.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from evwire.settings import Settings

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_CLIENTS = 50_000


@dataclass(frozen=True)
class Rule:
    name: str
    per_minute: float
    burst: int

    @property
    def per_second(self) -> float:
        return self.per_minute / 60.0


class RateLimiter:
    """Token buckets keyed by (rule, client). Thread-safe; the clock is injectable for tests."""

    def __init__(
        self,
        rules: dict[str, Rule],
        *,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        self.rules = rules
        self.enabled = enabled
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()  # tokens, at
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, **kw: object) -> RateLimiter:
        rules = {
            "write": Rule("write", settings.rate_limit_write_per_minute, settings.rate_limit_write_burst),
            "search": Rule("search", settings.rate_limit_search_per_minute, settings.rate_limit_search_burst),
        }
        return cls(rules, enabled=settings.rate_limit_enabled, **kw)  # type: ignore[arg-type]

    def take(self, rule_name: str, client: str) -> float:
        """Take a token: 0.0 when allowed, else the seconds until one is back."""
        rule = self.rules[rule_name]
        if not self.enabled or rule.per_minute <= 0:  # a rate of 0: this rule is off
            return 0.0
        now = self.clock()
        key = (rule_name, client)
        with self._lock:
            size = float(max(1, rule.burst))
            tokens, at = self._buckets.pop(key, (size, now))
            tokens = min(size, tokens + (now - at) * rule.per_second)
            if tokens >= 1.0:
                wait, tokens = 0.0, tokens - 1.0
            else:
                wait = (1.0 - tokens) / rule.per_second
            self._buckets[key] = (tokens, now)  # most recently used last
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait


def rule_for(method: str, path: str, query_string: bytes) -> str | None:
    """Which bucket a request draws from, or None when it is not limited."""
    if method in WRITE_METHODS and (path.startswith("/api/") or path == "/api"):
        return "write"
    if method == "GET" and path == "/api/search":
        return "search"
    if method == "GET" and path == "/search" and _has_query(query_string):
        return "search"
    return None


def _has_query(query_string: bytes) -> bool:
    for part in query_string.split(b"&"):
        name, _, value = part.partition(b"=")
        if name == b"q" and value.strip(b"+ "):
            return True
    return False


class RateLimitMiddleware:
    """Pure ASGI: answers 429 before the app runs (no session, no body read)."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.limiter.enabled:
            rule = rule_for(scope["method"], scope.get("path", ""), scope.get("query_string", b""))
            if rule is not None:
                client = (scope.get("client") or ("unknown", 0))[0]
                wait = self.limiter.take(rule, client)
                if wait > 0:
                    await _send_429(send, rule, wait, json=scope.get("path", "").startswith("/api"))
                    return
        await self.app(scope, receive, send)


async def _send_429(send: Send, rule: str, wait: float, *, json: bool) -> None:
    seconds = max(1, math.ceil(wait))
    what = "API writes" if rule == "write" else "searches"
    message = f"too many {what} from your address; try again in {seconds} s"
    if json:
        body, ctype = b'{"detail":"%s"}' % message.encode(), b"application/json"
    else:
        body = (
            b"<!doctype html><html><head><meta charset='utf-8'><title>Too many requests</title></head>"
            b"<body><h1>Too many requests</h1><p>%s</p></body></html>" % message.encode()
        )
        ctype = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", ctype),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(seconds).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
