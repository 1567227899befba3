"""fetch_feed against a real, misbehaving HTTP server: what an operator would see on the feed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from evwire.ingest.client import AnyClient, make_client, make_feed_client
from evwire.ingest.feedparse import parse_feed
from evwire.ingest.fetch import FetchResult, fetch_feed, parse_retry_after
from evwire.ingest.hostlimits import HostLimiter
from evwire.settings import Settings

NOW = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)
CLIENTS: dict[str, Callable[[Settings], AnyClient]] = {"lean": make_feed_client, "httpx": make_client}
client_for = make_feed_client


@pytest.fixture(autouse=True, params=sorted(CLIENTS))
def each_client(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every case runs with the poller's lean client and with the httpx client (feeds add, discovery)."""
    monkeypatch.setitem(globals(), "client_for", CLIENTS[request.param])


def fetch(settings: Settings, url: str, **kw: Any) -> FetchResult:
    async def run() -> FetchResult:
        async with client_for(settings) as client:
            return await fetch_feed(
                client, url, limits=HostLimiter.from_settings(settings), settings=settings, **kw
            )

    return asyncio.run(run())


def titles(result: FetchResult) -> list[str]:
    assert result.body is not None, result.error
    return [i.title for i in parse_feed(result.body, url=result.final_url, fetched_at=NOW).items]


def test_fetch_conditional_get_gets_304_and_keeps_validators(feed_server, feed_settings) -> None:
    url = feed_server.url("/feeds/rss2/feed.xml")
    first = fetch(feed_settings, url)
    assert first.status == 200 and first.ok and first.etag and first.last_modified
    assert titles(first)[0] == "Xiaomi delivers 411,837 EVs in 2025, targets 550,000 in 2026"
    before = feed_server.conditional["/feeds/rss2/feed.xml"]
    second = fetch(feed_settings, url, etag=first.etag, last_modified=first.last_modified)
    assert second.not_modified and second.body is None and second.ok
    assert second.etag == first.etag and second.last_modified == first.last_modified
    assert feed_server.conditional["/feeds/rss2/feed.xml"] == before + 1


def test_fetch_user_agent_names_evwire_and_instance(feed_server, feed_settings) -> None:
    from evwire.ingest.client import user_agent

    assert user_agent(feed_settings).startswith("evwire/") and "(+https://evwire.test)" in user_agent(
        feed_settings
    )


@pytest.mark.parametrize("prefix", ["/gzip", "/br"])
def test_fetch_decodes_gzip_and_brotli(feed_server, feed_settings, prefix: str) -> None:
    result = fetch(feed_settings, feed_server.url(f"{prefix}/atom/feed.xml"))
    assert result.ok, result.error
    assert titles(result) == ["BYD overtakes Tesla in BEV sales", "Volkswagen and Xpeng widen partnership"]


def test_fetch_429_retry_after_seconds(feed_server, feed_settings) -> None:
    result = fetch(feed_settings, feed_server.url("/status/429?retry=120"))
    assert result.status == 429 and result.retry_after == 120
    assert "429" in result.error and "slow down" in result.error and "120 s" in result.error


def test_fetch_503_retry_after_http_date(feed_server, feed_settings) -> None:
    result = fetch(feed_settings, feed_server.url("/status/503?retry=date"))
    assert result.status == 503 and result.retry_after is not None and 100 <= result.retry_after <= 121
    assert "503" in result.error and "retry" in result.error


def test_fetch_404_says_check_the_address(feed_server, feed_settings) -> None:
    result = fetch(feed_settings, feed_server.url("/status/404"))
    assert result.status == 404 and "not found" in result.error and "check the address" in result.error


def test_fetch_slow_server_read_timeout(feed_server, feed_settings) -> None:
    started = time.monotonic()
    result = fetch(feed_settings, feed_server.url("/slow-headers"))
    assert time.monotonic() - started < 1.8
    assert result.status is None and "read timeout" in result.error and "will retry" in result.error


def test_fetch_stalled_body_times_out(feed_server, feed_settings) -> None:
    result = fetch(feed_settings, feed_server.url("/slow-body"))
    assert result.body is None and "timeout" in result.error


def test_fetch_total_timeout(feed_server, feed_settings) -> None:
    settings = feed_settings.model_copy(update={"feed_read_timeout": 5.0, "feed_total_timeout": 0.4})
    result = fetch(settings, feed_server.url("/slow-headers"))
    assert "total timeout" in result.error and "0.4 s" in result.error


def test_fetch_connection_reset(feed_server, feed_settings) -> None:
    result = fetch(feed_settings, feed_server.url("/reset"))
    assert result.status is None and "closed the connection" in result.error


def test_fetch_connection_refused(feed_settings) -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    result = fetch(feed_settings, f"http://127.0.0.1:{port}/feed")
    assert "refused the connection" in result.error


@pytest.mark.parametrize("announce", [False, True])
def test_fetch_body_over_cap_stops_reading(feed_server, feed_settings, announce: bool) -> None:
    path = "/big?cl=1" if announce else "/big"
    result = fetch(feed_settings, feed_server.url(path))
    assert result.body is None
    assert "larger than the 0.2 MB limit" in result.error and "EVWIRE_FEED_MAX_BYTES" in result.error
    time.sleep(0.3)  # the server notices the closed connection
    assert feed_server.bytes_sent["/big"] < 1_300_000  # never read to the end


def test_fetch_gzip_bomb_is_capped_while_decoding(feed_server, feed_settings) -> None:
    assert len(feed_server.bomb) < 500_000  # 50 MB of XML, compressed
    result = fetch(feed_settings, feed_server.url("/bomb"))
    assert result.body is None and "larger than the 0.2 MB limit" in result.error


def test_fetch_redirect_loop_is_stopped(feed_server, feed_settings) -> None:
    result = fetch(feed_settings, feed_server.url("/loop/a"))
    assert "redirect loop" in result.error and "/loop/b → " in result.error
    assert result.body is None


def test_fetch_too_many_redirects(feed_server, feed_settings) -> None:
    result = fetch(feed_settings, feed_server.url("/hop/9"))
    assert "more than 5 redirects" in result.error
    ok = fetch(feed_settings, feed_server.url("/hop/3"))
    assert ok.ok and ok.final_url.endswith("/feeds/rss1/feed.xml") and ok.permanent_url is None


def test_fetch_301_reports_the_new_url(feed_server, feed_settings) -> None:
    result = fetch(feed_settings, feed_server.url("/moved"))
    assert result.ok and result.moved_permanently
    assert result.permanent_url == feed_server.url("/feeds/rss2/feed.xml") == result.final_url
    assert len(titles(result)) == 4


def test_fetch_item_changes_between_polls(feed_server, feed_settings) -> None:
    url = feed_server.url("/changing")
    with feed_server.lock:  # the server is shared by both client variants: start this feed afresh
        feed_server.hits.pop("/changing", None)
    first = fetch(feed_settings, url)
    item1 = parse_feed(first.body, url=url, fetched_at=NOW).items[0]
    second = fetch(feed_settings, url, etag=first.etag)
    assert second.status == 200 and second.etag != first.etag
    item2 = parse_feed(second.body, url=url, fetched_at=NOW).items[0]
    assert item1.guid == item2.guid == "changing-a"
    assert item2.title == "Xpeng G7 launch date set (updated)"
    assert item1.fingerprint() != item2.fingerprint()  # an update of the same article, not news
    third = fetch(feed_settings, url, etag=second.etag)
    assert third.not_modified


@pytest.mark.parametrize(
    ("case", "ctype"),
    [
        ("charset-header-lies", "application/rss+xml; charset=ISO-8859-1"),
        ("charset-wrong-declared", "text/xml; charset=utf-8"),
        ("charset-missing", "text/xml"),
        ("charset-latin1-declared", "application/rss+xml"),
    ],
)
def test_fetch_wrong_and_missing_charsets_read_correctly(
    feed_server, feed_settings, case: str, ctype: str
) -> None:
    from urllib.parse import quote

    result = fetch(feed_settings, feed_server.url(f"/charset/{case}?ct={quote(ctype)}"))
    feed = parse_feed(result.body, url=result.final_url, fetched_at=NOW, content_type=result.content_type)
    assert feed.title == "Café Automobile"
    assert feed.items[0].title == "Škoda Elroq: Müller says “good start”"
    assert feed.items[0].text == "Škoda’s électrique SUV — déjà 10,000 orders."


def test_fetch_invalid_xml_error_in_words(feed_server, feed_settings) -> None:
    from evwire.errors import IngestError

    result = fetch(feed_settings, feed_server.url("/invalid"))
    with pytest.raises(IngestError, match=r"not valid XML \(line \d+"):
        parse_feed(result.body, url=result.final_url, fetched_at=NOW)
    page = fetch(feed_settings, feed_server.url("/html-page"))
    with pytest.raises(IngestError, match="HTML page, not a feed"):
        parse_feed(page.body, url=page.final_url, fetched_at=NOW)


def test_fetch_link_header_for_websub(feed_server, feed_settings) -> None:
    from evwire.ingest.websub import links_from_header

    result = fetch(feed_settings, feed_server.url("/hub-link"))
    assert links_from_header(result.link_header) == (
        ["https://hub.example/"],
        "https://atom.example/feed.atom",
    )


def test_fetch_host_limits_two_at_once_and_min_gap(feed_server, feed_settings) -> None:
    settings = feed_settings.model_copy(update={"feed_host_min_gap": 0.1})

    async def run() -> tuple[list[FetchResult], float]:
        limits = HostLimiter.from_settings(settings)
        async with client_for(settings) as client:
            started = time.monotonic()
            results = await asyncio.gather(
                *(
                    fetch_feed(
                        client,
                        feed_server.url(f"/feeds/rss1/feed.xml?n={i}"),
                        limits=limits,
                        settings=settings,
                    )
                    for i in range(5)
                )
            )
            return list(results), time.monotonic() - started

    results, elapsed = asyncio.run(run())
    assert all(r.ok for r in results)
    assert elapsed >= 0.4  # five starts, 0.1 s apart on one host


def test_fetch_host_limiter_never_more_than_two(feed_server) -> None:
    async def run() -> int:
        limits = HostLimiter(per_host=2, min_gap=0.0, global_limit=10)
        active = peak = 0

        async def one() -> None:
            nonlocal active, peak
            async with limits.slot("example.org"):
                active += 1
                peak = max(peak, active)
                await asyncio.sleep(0.02)
                active -= 1

        await asyncio.gather(*(one() for _ in range(8)))
        return peak

    assert asyncio.run(run()) == 2


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("30") == 30
    assert parse_retry_after("Thu, 01 Jan 2026 00:02:00 GMT", now=1767225600) == 120
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
