"""A lean HTTP/1.1 client for feed polls: asyncio protocols, the httptools (llhttp) parser, keep-alive.

A conditional poll that gets a 304 is a few hundred bytes each way; through httpx, httpcore, anyio and
h11 it cost ~2.5 ms of CPU, more than everything else in a poll (docs/decisions/0013-fast-polling.md).
This client does only what ``fetch_feed`` needs, with the same safety properties:

- every connection goes through the address guard at connect time (the addresses actually
  connected to are checked, so a second DNS answer cannot slip past ``check_url``);
- the body is streamed: ``aiter_raw`` yields pieces as they arrive and reading pauses while
  ``BUFFER_LIMIT`` bytes wait to be consumed, so the caller's cap holds before memory fills;
- connect and read timeouts raise the httpx exceptions ``errortext`` already turns into words;
- headers larger than ``MAX_HEADER_BYTES`` and malformed responses end the connection.

Idle connections are kept per (scheme, host, port) and reused; a reused connection that the server
closed before answering is retried once on a new one (GET is idempotent).

    async with FeedClient.from_settings(settings) as client:
        response = await client.get(url, {"If-None-Match": etag})
        try:
            async for piece in response.aiter_raw(): ...
        finally:
            await response.aclose()
"""

from __future__ import annotations

import asyncio
import ssl
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Mapping

import httptools
import httpx

from evwire.errors import IngestError
from evwire.ingest.guard import AddressPolicy, AddressRefused, guarded_addresses

BUFFER_LIMIT = 256 * 1024  # body bytes waiting for the reader before the socket is paused
MAX_HEADER_BYTES = 64 * 1024  # like h11's default
KEEPALIVE_EXPIRY = 30.0
MAX_IDLE = 2048  # idle connections kept in all
URL_CACHE = 65536  # parsed feed URLs kept (the same feeds are polled pass after pass)


# url -> ((scheme, host, port), request line + Host header); shared by clients, as each pass has its own
_URLS: OrderedDict[str, tuple[tuple[str, str, int], bytes]] = OrderedDict()


class Headers:
    """Response headers, case-insensitive, with the few httpx.Headers methods ``fetch`` uses."""

    __slots__ = ("_items",)

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = items  # (lower-case name, value)

    def get_list(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self._items if k == name]

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self.get_list(name)
        return ", ".join(values) if values else default

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(self.get_list(name))


class _Connection(asyncio.Protocol):
    """One keep-alive TCP (or TLS) connection and the response being read on it."""

    def __init__(self, key: tuple[str, str, int]) -> None:
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        self.waiter: asyncio.Future[None] | None = None
        self._start()

    def _start(self) -> None:
        self.status = 0
        self.reason = ""
        self.header_items: list[tuple[str, str]] = []
        self.header_bytes = 0
        self.headers_done = False
        self.complete = False
        self.keep_alive = False
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.paused = False
        self.error: Exception | None = None
        self.got_bytes = False

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.got_bytes = True
        if self.complete or self.error is not None:
            self.close()  # bytes nobody asked for: the connection can't be trusted for reuse
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(httpx.RemoteProtocolError("the server switched protocols"))
        except httptools.HttpParserError as exc:
            # a callback's own error (headers too large) arrives wrapped: keep its words
            inner = exc.__context__
            if isinstance(inner, httpx.RemoteProtocolError):
                self._fail(inner)
            else:
                self._fail(httpx.RemoteProtocolError(f"malformed HTTP response ({exc})"))
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.headers_done and not self.complete and self.error is None:
            length = self._header("content-length")
            chunked = "chunked" in (self._header("transfer-encoding") or "").lower()
            if length is None and not chunked:
                self.complete = True  # a body delimited by the end of the connection
            else:
                self.error = httpx.RemoteProtocolError("the server closed the connection mid-body")
        elif not self.complete and self.error is None:
            self.error = httpx.RemoteProtocolError("the server closed the connection without a response")
        self._wake()

    # -- httptools callbacks

    def on_status(self, status: bytes) -> None:
        self.reason += status.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_bytes += len(name) + len(value) + 4
        if self.header_bytes > MAX_HEADER_BYTES:
            raise httpx.RemoteProtocolError(f"the response headers exceed {MAX_HEADER_BYTES} bytes")
        self.header_items.append((name.decode("latin-1").lower(), value.decode("latin-1").strip()))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.chunks.append(bytes(body))
        self.buffered += len(body)
        if self.buffered > BUFFER_LIMIT and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()

    def on_message_complete(self) -> None:
        self.complete = True
        self.keep_alive = self.parser.should_keep_alive()

    # -- helpers

    def _header(self, name: str) -> str | None:
        for k, v in self.header_items:
            if k == name:
                return v
        return None

    def _fail(self, exc: Exception) -> None:
        self.error = exc
        self.close()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def wait(self, timeout: float, what: str) -> None:
        """Until the protocol has something new (data, end, error), at most ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        self.waiter = fut = loop.create_future()
        handle = loop.call_later(timeout, _expire, fut, what, timeout)
        try:
            await fut
        finally:
            handle.cancel()
            self.waiter = None

    def take(self) -> bytes:
        data = self.chunks.popleft()
        self.buffered -= len(data)
        if self.paused and self.buffered <= BUFFER_LIMIT // 2 and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        return data


def _expire(fut: asyncio.Future[None], what: str, timeout: float) -> None:
    if not fut.done():
        fut.set_exception(httpx.ReadTimeout(f"no {what} within {timeout:g} s"))


class Response:
    """A response whose headers have arrived; the body is read with ``aiter_raw``."""

    def __init__(self, client: FeedClient, conn: _Connection) -> None:
        self._client = client
        self._conn: _Connection | None = conn
        self.status_code = conn.status
        self.reason_phrase = conn.reason
        self.headers = Headers(conn.header_items)

    async def aiter_raw(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """The body as it arrives, transfer coding removed, content coding (gzip, br) kept."""
        conn = self._conn
        if conn is None:
            return
        while True:
            if conn.chunks:
                yield conn.take()
            elif conn.complete:
                return
            elif conn.error is not None:
                raise conn.error
            elif conn.closed:
                raise httpx.ReadError("the connection was closed")
            else:
                await conn.wait(self._client.read_timeout, "data from the server")

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._client._release(conn)


class FeedClient:
    """Keep-alive HTTP/1.1 GETs for feeds, guarded like ``client.make_client``'s httpx client."""

    def __init__(
        self,
        *,
        policy: AddressPolicy,
        user_agent: str,
        accept: str,
        connect_timeout: float,
        read_timeout: float,
        ssl_context: Callable[[], ssl.SSLContext],
        max_idle: int = MAX_IDLE,
        keepalive_expiry: float = KEEPALIVE_EXPIRY,
    ) -> None:
        self.policy = policy
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_idle = max_idle
        self.keepalive_expiry = keepalive_expiry
        self._ssl_context = ssl_context
        self._common = (
            f"User-Agent: {user_agent}\r\nAccept: {accept}\r\nAccept-Encoding: gzip, deflate, br\r\n"
        ).encode("latin-1")
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._idle_count = 0
        self._closed = False

    async def __aenter__(self) -> FeedClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._closed = True
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()
        self._idle_count = 0

    # -- requests

    def _target(self, url: str) -> tuple[tuple[str, str, int], bytes]:
        """(scheme, host, port) and the request line + Host header; httpx.URL does the encoding rules."""
        hit = _URLS.get(url)
        if hit is not None:
            return hit
        parsed = httpx.URL(url)
        scheme = parsed.scheme
        if scheme not in ("http", "https") or not parsed.host:
            raise IngestError(f"{url!r} is not an http(s) feed address")
        port = parsed.port or (443 if scheme == "https" else 80)
        host = parsed.raw_host.decode("ascii")
        netloc = f"[{host}]" if ":" in host else host
        if parsed.port:
            netloc = f"{netloc}:{parsed.port}"
        head = b"GET " + parsed.raw_path + b" HTTP/1.1\r\nHost: " + netloc.encode("ascii") + b"\r\n"
        hit = ((scheme, host, port), head)
        _URLS[url] = hit
        if len(_URLS) > URL_CACHE:
            _URLS.popitem(last=False)
        return hit

    async def get(self, url: str, headers: Mapping[str, str] | None = None) -> Response:
        """Send a GET and wait for the response headers. Raises httpx exceptions on network trouble."""
        key, head = self._target(url)
        extra = b""
        for name, value in (headers or {}).items():
            if any(c in value for c in "\r\n\0") or any(c in name for c in "\r\n\0:"):
                raise IngestError(f"refused to send a header with a line break ({name})")
            extra += f"{name}: {value}\r\n".encode("latin-1", "replace")
        request = head + self._common + extra + b"\r\n"
        for _attempt in range(2):
            conn, reused = await self._acquire(key)
            assert conn.transport is not None
            conn.transport.write(request)
            try:
                while not conn.headers_done:
                    if conn.error is not None:
                        raise conn.error
                    if conn.closed:
                        raise httpx.RemoteProtocolError("the server closed the connection without a response")
                    await conn.wait(self.read_timeout, "response")
            except (httpx.RemoteProtocolError, httpx.ReadError):
                conn.close()
                if reused and not conn.got_bytes:
                    continue  # the server dropped an idle connection just as we reused it
                raise
            except BaseException:
                conn.close()
                raise
            return Response(self, conn)
        raise httpx.RemoteProtocolError("the server closed the connection without a response")

    # -- the pool

    async def _acquire(self, key: tuple[str, str, int]) -> tuple[_Connection, bool]:
        idle = self._idle.get(key)
        if idle:
            now = asyncio.get_running_loop().time()
            while idle:
                conn = idle.pop()
                self._idle_count -= 1
                if not conn.closed and now - conn.idle_since < self.keepalive_expiry:
                    return conn, True
                conn.close()
        return await self._connect(key), False

    def _release(self, conn: _Connection) -> None:
        reusable = (
            conn.complete
            and conn.keep_alive
            and not conn.closed
            and not conn.chunks
            and conn.error is None
            and not self._closed
            and self._idle_count < self.max_idle
        )
        if not reusable:
            conn.close()
            return
        conn._start()
        conn.idle_since = asyncio.get_running_loop().time()
        self._idle.setdefault(conn.key, []).append(conn)
        self._idle_count += 1

    async def _connect(self, key: tuple[str, str, int]) -> _Connection:
        scheme, host, port = key
        loop = asyncio.get_running_loop()
        context = self._ssl_context() if scheme == "https" else None
        try:
            async with asyncio.timeout(self.connect_timeout):
                try:
                    addresses = await guarded_addresses(host, port, self.policy)
                except AddressRefused:
                    raise  # as is: the poller records it as the feed's error
                except IngestError as exc:
                    raise httpx.ConnectError(str(exc)) from exc
                last: Exception | None = None
                for addr in addresses:
                    try:
                        _transport, conn = await loop.create_connection(
                            lambda: _Connection(key),
                            addr,
                            port,
                            ssl=context,
                            server_hostname=host if context is not None else None,
                        )
                        return conn
                    except OSError as exc:  # refused, unreachable, TLS (ssl.SSLError is an OSError)
                        error = httpx.ConnectError(str(exc) or type(exc).__name__)
                        error.__cause__ = exc
                        last = error
                raise last or httpx.ConnectError(f"{host} has no address")
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"no connection to {host} within {self.connect_timeout:g} s") from exc
