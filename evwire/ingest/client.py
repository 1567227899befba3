"""The HTTP clients feeds are fetched with: guarded connections, timeouts, evwire's User-Agent.

``make_feed_client`` is the lean HTTP/1.1 client the poller uses (``http11``); ``make_client`` the
httpx one (feed adding, discovery). Both check the address each connection really goes to
(``GuardedBackend`` here, ``FeedClient`` in ``http11``), so a DNS answer cannot slip past the guard.

    client = make_client(settings)
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from typing import Any

import httpcore
import httpx

from evwire import __version__
from evwire.errors import IngestError
from evwire.ingest.guard import AddressPolicy, AddressRefused, guarded_addresses
from evwire.ingest.http11 import FeedClient
from evwire.ingest.http11 import Response as LeanResponse
from evwire.settings import Settings

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)


def user_agent(settings: Settings) -> str:
    return f"evwire/{__version__} (+{settings.base_url})"


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
