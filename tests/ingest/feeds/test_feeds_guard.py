"""The address guard: private addresses refused unless allowed, also after a redirect."""

from __future__ import annotations

import asyncio

import pytest

from evwire.ingest.guard import AddressPolicy, AddressRefused, address_problem, check_url
from tests.ingest.feeds.test_feeds_fetch import fetch

PRIVATE = [
    "http://127.0.0.1/feed",
    "http://127.1.2.3/feed",
    "http://10.0.0.1/feed",
    "http://172.16.5.4/feed",
    "http://192.168.1.1/feed",
    "http://169.254.169.254/latest/meta-data",
    "http://0.0.0.0/",
    "http://224.0.0.251/",
    "http://100.64.0.1/",
    "http://[::1]/feed",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:10.1.1.1]/",
    "http://[64:ff9b::a00:1]/",
    "http://localhost/feed",
]


@pytest.mark.parametrize("url", PRIVATE)
def test_guard_refuses_non_public_addresses(url: str) -> None:
    with pytest.raises(AddressRefused, match="EVWIRE_ALLOW_PRIVATE_FEEDS=true"):
        asyncio.run(check_url(url, AddressPolicy()))


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.org/feed", "gopher://x/", "http:///nohost"]
)
def test_guard_refuses_other_schemes(url: str) -> None:
    with pytest.raises(AddressRefused, match="refused"):
        asyncio.run(check_url(url, AddressPolicy()))


def test_guard_public_address_passes() -> None:
    assert address_problem(__import__("ipaddress").ip_address("93.184.216.34")) is None
    assert asyncio.run(check_url("https://93.184.216.34/feed", AddressPolicy())) == ["93.184.216.34"]


def test_guard_allow_networks_opens_only_that_range() -> None:
    import ipaddress

    policy = AddressPolicy(allow_networks=(ipaddress.ip_network("127.0.0.1/32"),))
    asyncio.run(check_url("http://127.0.0.1:8080/feed", policy))
    with pytest.raises(AddressRefused):
        asyncio.run(check_url("http://127.0.0.2/feed", policy))


def test_guard_fetch_from_loopback_refused_without_setting(feed_server, feed_settings) -> None:
    settings = feed_settings.model_copy(update={"allow_private_feeds": False})
    before = sum(feed_server.hits.values())
    result = fetch(settings, feed_server.url("/feeds/rss2/feed.xml"))
    assert result.body is None and "loopback" in result.error and "EVWIRE_ALLOW_PRIVATE_FEEDS" in result.error
    assert sum(feed_server.hits.values()) == before  # nothing was sent


def test_guard_fetch_from_loopback_allowed_with_setting(feed_server, feed_settings) -> None:
    assert feed_settings.allow_private_feeds
    assert fetch(feed_settings, feed_server.url("/feeds/rss2/feed.xml")).ok


def test_guard_redirect_to_private_address_refused(feed_server, feed_settings) -> None:
    # the operator opened only 127.0.0.1 (the test server); a redirect elsewhere private is refused
    settings = feed_settings.model_copy(
        update={"allow_private_feeds": False, "feed_allow_networks": "127.0.0.1/32"}
    )
    result = fetch(settings, feed_server.url("/to-private"))
    assert result.body is None and "10.255.255.1 is a private address" in result.error
    assert result.redirects == ("http://10.255.255.1/feed",)


def test_guard_redirect_to_host_name_checked_at_connect(feed_server, feed_settings) -> None:
    # localhost resolves to 127.0.0.1 (allowed) or ::1 (not allowed): the connection-level check decides
    settings = feed_settings.model_copy(
        update={"allow_private_feeds": False, "feed_allow_networks": "127.0.0.2/32"}
    )
    result = fetch(settings, feed_server.url("/feeds/rss1/feed.xml").replace("127.0.0.1", "localhost"))
    assert result.body is None and "localhost resolves to" in result.error
