"""Fetch one feed, politely: conditional GET, per-host limits, bounded body, guarded redirects.

``fetch_feed`` never raises for anything the network or the server does: it returns a
``FetchResult`` whose ``error`` says, in words for the operator, what went wrong. The poller stores
that text on the feed and goes on with the others.

    client = make_client(settings)
    limits = HostLimiter.from_settings(settings)
    result = await fetch_feed(client, url, etag=feed.etag, last_modified=feed.last_modified,
                              limits=limits, settings=settings)

The pieces: ``client`` (the guarded clients, ``make_client`` and ``make_feed_client``),
``hostlimits`` (``HostLimiter``), ``body`` (capped, decompressed reading), ``errortext`` (the words).
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import ipaddress
import time
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import httpx

from evwire.errors import IngestError
from evwire.ingest.body import _drain, _read_capped
from evwire.ingest.client import AnyClient, AnyResponse
from evwire.ingest.errortext import _exception_error, _status_error
from evwire.ingest.guard import AddressPolicy, AddressRefused, check_address, check_url, split_url
from evwire.ingest.hostlimits import HostLimiter
from evwire.ingest.http11 import FeedClient
from evwire.settings import Settings

PERMANENT_REDIRECTS = {301, 308}
REDIRECTS = {301, 302, 303, 307, 308}
MAX_ETAG, MAX_LAST_MODIFIED = 500, 100  # the lengths of feeds.etag and feeds.last_modified


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
    # validators longer than the feed columns hold (feeds.etag, feeds.last_modified) are not kept:
    # the next poll is then unconditional, instead of every poll failing to be stored
    if etag:
        common["etag"] = etag if len(etag) <= MAX_ETAG else None
    if modified:
        common["last_modified"] = modified if len(modified) <= MAX_LAST_MODIFIED else None
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
