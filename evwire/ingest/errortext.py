"""What went wrong with a fetch, in words for the operator: HTTP statuses and network exceptions.

``fetch_feed`` stores these texts as the feed's error; each says what the operator can do.
"""

from __future__ import annotations

import httpx

from evwire.errors import IngestError
from evwire.ingest.guard import split_url
from evwire.settings import Settings


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
