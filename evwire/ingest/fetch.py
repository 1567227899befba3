"""Fetch one feed, politely: conditional GET, per-host limits, bounded body, guarded redirects.

``fetch_feed`` never raises for anything the network or the server does: it returns a
``FetchResult`` whose ``error`` says, in words for the operator, what went wrong. The poller stores
that text on the feed and goes on with the others.

    client = make_client(settings)
    limits = HostLimiter.from_settings(settings)
    result = await fetch_feed(client, url, etag=feed.etag, last_modified=feed.last_modified,
                              limits=limits, settings=settings)
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import ipaddress
import ssl
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import brotli
import httpcore
import httpx

from evwire import __version__
from evwire.errors import IngestError
from evwire.ingest.guard import (
    AddressPolicy,
    AddressRefused,
    check_address,
    check_url,
    guarded_addresses,
    split_url,
)
from evwire.ingest.http11 import FeedClient
from evwire.ingest.http11 import Response as LeanResponse
from evwire.settings import Settings

PERMANENT_REDIRECTS = {301, 308}
REDIRECTS = {301, 302, 303, 307, 308}
CHUNK = 64 * 1024
DRAIN_LIMIT = 64 * 1024  # error and 304 bodies read to their end to keep the connection
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)


@dataclass(frozen=True)
class FetchResult:
    url: str  # the URL asked for
    final_url: str  # where the body came from, after redirects
    status: int | None  # last HTTP status; None when no response arrived
    body: bytes | None  # None on 304 and on errors
    etag: str | None  # to send next time (the old one kept on 304 when none is sent)
    last_modified: str | None
    elapsed: float  # seconds, network time of all hops
    error: str | None = None  # what went wrong, for the operator; None on 200 and 304
    permanent_url: str | None = None  # where 301/308 (from the first hop on) moved the feed: store it
    retry_after: float | None = None  # seconds the server asked us to wait (429/503)
    content_type: str | None = None
    link_header: str | None = None  # for WebSub discovery (rel=hub, rel=self)
    redirects: tuple[str, ...] = field(default_factory=tuple)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def moved_permanently(self) -> bool:
        return self.permanent_url is not None


def user_agent(settings: Settings) -> str:
    return f"evwire/{__version__} (+{settings.base_url})"


# ---------------------------------------------------------------- per-host and global limits


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


# ---------------------------------------------------------------- client with a guarded network backend


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Checks the address each connection really goes to, so DNS answers can't change under the guard."""

    def __init__(self, policy: AddressPolicy, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.policy = policy
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await guarded_addresses(host, port, self.policy)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} took longer than {timeout} s") from exc
        except AddressRefused:
            raise  # passes through httpx untouched: the poller records it as the feed's error
        except IngestError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        last: Exception | None = None
        for addr in addresses:
            try:
                return await self.inner.connect_tcp(addr, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        raise last or httpcore.ConnectError(f"{host} has no address")

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("feeds are fetched over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


@functools.lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    """One verifying context, shared: loading the CA bundle takes tens of milliseconds."""
    try:
        import certifi

        return ssl.create_default_context(cafile=certifi.where())
    except ImportError:  # pragma: no cover - httpx depends on certifi
        return ssl.create_default_context()


class GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, policy: AddressPolicy, *, max_connections: int) -> None:
        super().__init__(verify=_ssl_context(), trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=_ssl_context(),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=30.0,
            network_backend=GuardedBackend(policy),
        )


def make_client(settings: Settings) -> httpx.AsyncClient:
    """The one HTTP client a poller uses: guarded connections, timeouts, evwire's User-Agent."""
    policy = AddressPolicy.from_settings(settings)
    return httpx.AsyncClient(
        transport=GuardedTransport(policy, max_connections=max(settings.feed_global_concurrency, 1) * 2),
        timeout=httpx.Timeout(
            connect=settings.feed_connect_timeout,
            read=settings.feed_read_timeout,
            write=settings.feed_read_timeout,
            pool=settings.feed_total_timeout,
        ),
        headers={
            "User-Agent": user_agent(settings),
            "Accept": ACCEPT,
            "Accept-Encoding": "gzip, deflate, br",
        },
        follow_redirects=False,
        trust_env=False,  # a proxy from the environment would bypass the address guard
    )


def make_feed_client(settings: Settings) -> FeedClient:
    """The lean client the poller fetches feeds with (evwire/ingest/http11.py): same guard, timeouts
    and User-Agent as ``make_client``, a fraction of its CPU per request."""
    return FeedClient(
        policy=AddressPolicy.from_settings(settings),
        user_agent=user_agent(settings),
        accept=ACCEPT,
        connect_timeout=settings.feed_connect_timeout,
        read_timeout=settings.feed_read_timeout,
        ssl_context=_ssl_context,
    )


AnyClient = httpx.AsyncClient | FeedClient
AnyResponse = httpx.Response | LeanResponse


# ---------------------------------------------------------------- bounded decoding


class BodyTooLarge(IngestError):
    pass


class _Decoder:
    """Content-Encoding decoding whose output is produced in bounded pieces (no decompression bombs)."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._brotli: Any = None
        self._zlib: Any = None
        if encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._zlib = zlib.decompressobj(wbits=zlib.MAX_WBITS)
            self._deflate_first = True
        elif encoding == "br":
            self._brotli = brotli.Decompressor()
        elif encoding not in ("", "identity"):
            raise IngestError(f"the server sent the feed with an unknown Content-Encoding {encoding!r}")

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._brotli is not None:
            out = self._brotli.process(data, output_buffer_limit=CHUNK)
            yield out
            while not self._brotli.can_accept_more_data():
                out = self._brotli.process(b"", output_buffer_limit=CHUNK)
                if not out:
                    break
                yield out
            return
        if self._zlib is None:
            yield data
            return
        while data:
            try:
                out = self._zlib.decompress(data, CHUNK)
            except zlib.error:
                if self.encoding == "deflate" and getattr(self, "_deflate_first", False):
                    self._zlib = zlib.decompressobj(wbits=-zlib.MAX_WBITS)  # raw deflate
                    self._deflate_first = False
                    continue
                raise
            self._deflate_first = False
            yield out
            if self._zlib.eof and self._zlib.unused_data and self.encoding != "deflate":
                data = self._zlib.unused_data  # another gzip member
                self._zlib = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            else:
                data = self._zlib.unconsumed_tail


async def _read_capped(response: AnyResponse, cap: int) -> bytes:
    header = response.headers.get("content-encoding") or ""
    encodings = [e.strip().lower() for e in header.split(",") if e.strip()]
    if len(encodings) > 1:
        raise IngestError(f"the server stacked Content-Encodings {encodings}; evwire reads only one")
    decoder = _Decoder(encodings[0] if encodings else "")
    length = response.headers.get("content-length")
    if not encodings and length and length.isdigit() and int(length) > cap:
        raise BodyTooLarge(_too_large(cap, int(length)))
    parts: list[bytes] = []
    total = 0
    try:
        async for raw in response.aiter_raw(CHUNK):
            for piece in decoder.feed(raw):
                total += len(piece)
                if total > cap:
                    raise BodyTooLarge(_too_large(cap, None))
                parts.append(piece)
    except (zlib.error, brotli.error) as exc:
        raise IngestError(
            f"the feed's {encodings[0]} compression is corrupt ({exc}); the server sent a broken response"
        ) from exc
    return b"".join(parts)


def _too_large(cap: int, announced: int | None) -> str:
    size = f" (it announces {announced / 1e6:.1f} MB)" if announced else ""
    return (
        f"the feed is larger than the {cap / 1e6:g} MB limit{size}; evwire stopped reading it. "
        "Ask the site for a shorter feed, or raise EVWIRE_FEED_MAX_BYTES"
    )


# ---------------------------------------------------------------- the fetch


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date. None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else time.time()
    return max(0.0, when.timestamp() - current)


def _status_error(status: int, reason: str, url: str, retry_after: float | None) -> str:
    later = f"; it asked evwire to come back in {retry_after:.0f} s" if retry_after is not None else ""
    if status == 304:
        return ""
    if status == 429:
        return f"the server asked evwire to slow down (HTTP 429 Too Many Requests){later}; polls back off"
    if status == 503:
        return f"the server is unavailable (HTTP 503 Service Unavailable){later}; evwire will retry later"
    if status == 404:
        return f"the feed was not found (HTTP 404) at {url}; check the address or remove the feed"
    if status == 410:
        return f"the site says the feed is gone for good (HTTP 410) at {url}; remove it or find its new one"
    if status in (401, 403):
        return (
            f"the server refused access (HTTP {status} {reason}); the feed may need a login, "
            "or the site blocks evwire's User-Agent"
        )
    if 500 <= status < 600:
        return f"the server failed (HTTP {status} {reason}); evwire will retry later"
    if 300 <= status < 400:
        return f"the server answered HTTP {status} {reason} without a usable Location header"
    return f"unexpected HTTP {status} {reason} from the server; check the feed address"


def _exception_error(exc: BaseException, url: str, settings: Settings) -> str:
    try:
        host = split_url(url)[1]
    except IngestError:
        host = url
    if isinstance(exc, IngestError):
        return str(exc)
    if isinstance(exc, httpx.ConnectTimeout):
        return (
            f"could not connect to {host} within {settings.feed_connect_timeout:g} s "
            "(connect timeout); the site may be down, evwire will retry"
        )
    if isinstance(exc, httpx.ReadTimeout):
        return (
            f"{host} stopped sending for {settings.feed_read_timeout:g} s (read timeout); "
            "the site is slow or overloaded, evwire will retry"
        )
    if isinstance(exc, httpx.PoolTimeout | httpx.WriteTimeout):
        return f"timed out talking to {host} ({type(exc).__name__}); evwire will retry"
    if isinstance(exc, httpx.ConnectError):
        text = str(exc) or type(exc).__name__
        if "refused" in text.lower() or _caused_by(exc, ConnectionRefusedError):
            return f"{host} refused the connection (nothing listening on that port); check the address"
        if "certificate" in text.lower() or "ssl" in text.lower():
            return f"the TLS certificate of {host} could not be verified ({text}); check the https address"
        return f"could not connect to {host} ({text}); check the address, evwire will retry"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return (
            f"{host} closed the connection before the feed was complete (reset: {exc or 'no detail'}); "
            "evwire will retry"
        )
    if isinstance(exc, httpx.HTTPError):
        return f"HTTP error talking to {host}: {exc or type(exc).__name__}"
    return f"unexpected error fetching {url}: {type(exc).__name__}: {exc}"


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 10:
        if isinstance(current, kind):
            return True
        if isinstance(current, BaseExceptionGroup):
            if any(_caused_by(e, kind) for e in current.exceptions):
                return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def _link_header(response: AnyResponse) -> str | None:
    links = response.headers.get_list("link")
    return ", ".join(links) if links else None


@functools.lru_cache(maxsize=64)
def _policy(allow_private: bool, allow_networks: str) -> AddressPolicy:
    return AddressPolicy.from_settings(
        Settings.model_construct(allow_private_feeds=allow_private, feed_allow_networks=allow_networks)
    )


@functools.lru_cache(maxsize=65536)
def _checked_offline(url: str, policy: AddressPolicy) -> tuple[str, bool]:
    """(host, settled): the URL passed every check that needs no DNS; ``settled`` when nothing is left
    to check (an IP literal host, or private addresses allowed). Cached: a poller asks this of the same
    feed URLs pass after pass. Refusals raise and are not cached."""
    _scheme, host, _port = split_url(url)
    try:
        literal = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host, policy.allow_private and not policy.allow_networks
    check_address(literal, policy, host=host)
    return host, True


async def fetch_feed(
    client: AnyClient,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    limits: HostLimiter,
    settings: Settings,
) -> FetchResult:
    """GET a feed with conditional headers. Never raises for network or server trouble."""
    policy = _policy(settings.allow_private_feeds, settings.feed_allow_networks)
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    current = url
    visited = [url]
    permanent: str | None = None
    still_permanent = True
    spent = 0.0
    status: int | None = None

    def result(**kw: Any) -> FetchResult:
        base: dict[str, Any] = dict(
            url=url,
            final_url=current,
            status=status,
            body=None,
            etag=etag,
            last_modified=last_modified,
            elapsed=spent,
            permanent_url=permanent,
            redirects=tuple(visited[1:]),
        )
        base.update(kw)
        return FetchResult(**base)

    for _hop in range(settings.feed_max_redirects + 1):
        try:
            host, settled = _checked_offline(current, policy)
            if not settled:
                await check_url(current, policy)
        except IngestError as exc:
            return result(error=str(exc))
        async with limits.slot(host):
            started = time.monotonic()
            try:
                async with asyncio.timeout(max(0.001, settings.feed_total_timeout - spent)):
                    response: Any
                    if isinstance(client, FeedClient):
                        response = await client.get(current, headers)
                    else:
                        request = client.build_request("GET", current, headers=headers)
                        response = await client.send(request, stream=True)
                    try:
                        status = response.status_code
                        reply = await _handle(response, current, settings)
                    finally:
                        await response.aclose()
            except TimeoutError:
                spent += time.monotonic() - started
                return result(
                    error=(
                        f"fetching took over {settings.feed_total_timeout:g} s in all (total timeout); "
                        "the site is too slow, evwire will retry"
                    )
                )
            except AddressRefused as exc:
                spent += time.monotonic() - started
                return result(error=str(exc))
            except Exception as exc:  # noqa: BLE001 - every failure becomes the feed's error text
                spent += time.monotonic() - started
                return result(error=_exception_error(exc, current, settings))
            spent += time.monotonic() - started
        if reply.location is None:
            return result(**reply.fields)
        target = str(httpx.URL(current).join(reply.location))
        if status in PERMANENT_REDIRECTS and still_permanent:
            permanent = target
        else:
            still_permanent = False
        if target in visited:
            chain = " → ".join([*visited[visited.index(target) :], target])
            return result(error=f"redirect loop: {chain}; the redirects go in a circle, fix the feed address")
        visited.append(target)
        current = target
    return result(
        error=(
            f"more than {settings.feed_max_redirects} redirects ({' → '.join(visited)}); "
            "use the final address of the feed"
        )
    )


async def _drain(response: AnyResponse, limit: int = DRAIN_LIMIT) -> None:
    """Read a small unwanted body to its end so the keep-alive connection can be reused; give up
    (the connection is then closed, not reused) past ``limit`` bytes."""
    length = response.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        return
    seen = 0
    try:
        async for raw in response.aiter_raw(CHUNK):
            seen += len(raw)
            if seen > limit:
                return
    except httpx.HTTPError:
        return


@dataclass
class _Reply:
    fields: dict[str, Any]
    location: str | None = None


async def _handle(response: AnyResponse, url: str, settings: Settings) -> _Reply:
    status = response.status_code
    if status in REDIRECTS and response.headers.get("location"):
        return _Reply({}, location=response.headers["location"])
    etag = response.headers.get("etag")
    modified = response.headers.get("last-modified")
    common: dict[str, Any] = {
        "content_type": response.headers.get("content-type"),
        "link_header": _link_header(response),
    }
    if etag:
        common["etag"] = etag
    if modified:
        common["last_modified"] = modified
    if status == 304:
        await _drain(response)  # read the (empty) rest so the connection goes back to the pool
        return _Reply(common)
    if 200 <= status < 300:
        body = await _read_capped(response, settings.feed_max_bytes)
        return _Reply({**common, "body": body})
    await _drain(response)
    retry_after = parse_retry_after(response.headers.get("retry-after")) if status in (429, 503) else None
    return _Reply(
        {
            "content_type": common["content_type"],
            "retry_after": retry_after,
            "error": _status_error(status, response.reason_phrase, url, retry_after),
        }
    )
