"""The lean HTTP/1.1 client (evwire/ingest/http11.py) against a scripted raw server on 127.0.0.1.

Each case is what a feed server on the internet may really send: keep-alive, a dropped idle
connection, chunked and connection-delimited bodies, huge headers, a body that never ends.
(The misbehaving-feed cases of test_feeds_fetch.py also run through this client.)
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Awaitable, Callable

import httpx
import pytest

from evwire.ingest.client import make_feed_client
from evwire.ingest.fetch import fetch_feed
from evwire.ingest.guard import AddressPolicy, AddressRefused
from evwire.ingest.hostlimits import HostLimiter
from evwire.ingest.http11 import BUFFER_LIMIT, FeedClient
from evwire.settings import Settings

Reply = Callable[[bytes, asyncio.StreamWriter], Awaitable[None]]


def client(**kw: float) -> FeedClient:
    import ssl

    return FeedClient(
        policy=AddressPolicy(allow_private=True),
        user_agent="evwire/test (+https://evwire.test)",
        accept="application/rss+xml",
        connect_timeout=kw.get("connect_timeout", 1.0),
        read_timeout=kw.get("read_timeout", 0.5),
        ssl_context=ssl.create_default_context,
    )


async def serve(reply: Reply) -> tuple[asyncio.Server, str, list[bytes], list[int]]:
    """A server calling ``reply(request_head, writer)`` per request; returns requests and connection ids."""
    requests: list[bytes] = []
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn_id = id(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                requests.append(head)
                connections.append(conn_id)
                await reply(head, writer)
                if writer.is_closing():
                    return
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            return  # the client went away, or the test is over
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}", requests, connections


async def ok(head: bytes, writer: asyncio.StreamWriter) -> None:
    writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: "v1"\r\n\r\nhello')
    await writer.drain()


async def read_all(c: FeedClient, url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    response = await c.get(url, headers or {})
    try:
        return response.status_code, b"".join([p async for p in response.aiter_raw()])
    finally:
        await response.aclose()


def test_keep_alive_reuses_one_connection_and_sends_the_headers() -> None:
    async def run() -> None:
        server, base, requests, connections = await serve(ok)
        async with client() as c:
            for i in range(3):
                assert await read_all(c, f"{base}/f/{i}?a=b c", {"If-None-Match": '"v0"'}) == (200, b"hello")
        server.close()
        assert len(set(connections)) == 1  # three polls, one TCP connection
        first = requests[0].decode()
        assert first.startswith("GET /f/0?a=b%20c HTTP/1.1\r\n")
        assert f"Host: {base.removeprefix('http://')}" in first
        assert "User-Agent: evwire/test (+https://evwire.test)" in first
        assert 'If-None-Match: "v0"' in first and "Accept-Encoding: gzip, deflate, br" in first

    asyncio.run(run())


def test_a_dropped_idle_connection_is_retried_once_on_a_new_one() -> None:
    async def close_after(head: bytes, writer: asyncio.StreamWriter) -> None:
        await ok(head, writer)
        writer.close()  # the server forgets keep-alive connections after one request

    async def run() -> None:
        server, base, requests, connections = await serve(close_after)
        async with client() as c:
            assert await read_all(c, f"{base}/a") == (200, b"hello")
            await asyncio.sleep(0.05)
            assert await read_all(c, f"{base}/b") == (200, b"hello")
        server.close()
        assert len(requests) == 2 and len(set(connections)) == 2

    asyncio.run(run())


def test_chunked_and_connection_delimited_bodies_and_304() -> None:
    async def reply(head: bytes, writer: asyncio.StreamWriter) -> None:
        if b"/chunked" in head:
            writer.write(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
            )
        elif b"/304" in head:
            writer.write(b'HTTP/1.1 304 Not Modified\r\nETag: "v2"\r\n\r\n')
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n<rss/>")
            writer.close()
        await writer.drain()

    async def run() -> None:
        server, base, _, connections = await serve(reply)
        async with client() as c:
            assert await read_all(c, f"{base}/chunked") == (200, b"abcde")
            response = await c.get(f"{base}/304")
            assert response.status_code == 304 and response.headers.get("etag") == '"v2"'
            await response.aclose()
            assert await read_all(c, f"{base}/eof") == (200, b"<rss/>")
        server.close()
        assert len(set(connections)) == 1

    asyncio.run(run())


def test_huge_headers_and_garbage_end_the_request_with_an_error() -> None:
    async def reply(head: bytes, writer: asyncio.StreamWriter) -> None:
        if b"/huge" in head:
            writer.write(b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 70_000 + b"\r\n\r\n")
        else:
            writer.write(b"SMTP ready\r\n\r\n")
        await writer.drain()

    async def run() -> None:
        server, base, _, _ = await serve(reply)
        async with client() as c:
            with pytest.raises(httpx.RemoteProtocolError, match="exceed"):
                await c.get(f"{base}/huge")
            with pytest.raises(httpx.RemoteProtocolError, match="malformed"):
                await c.get(f"{base}/garbage")
        server.close()

    asyncio.run(run())


def test_a_body_that_never_ends_is_not_buffered_and_times_out() -> None:
    async def endless(head: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n")
        try:
            for _ in range(100):
                writer.write(b"x" * 65536)
                await writer.drain()
        except ConnectionError:
            return
        await asyncio.sleep(10)

    async def run() -> None:
        server, base, _, _ = await serve(endless)
        async with client(read_timeout=0.3) as c:
            response = await c.get(f"{base}/big")
            await asyncio.sleep(0.3)  # the server keeps writing; the client must pause reading
            conn = response._conn
            assert conn is not None and conn.buffered <= BUFFER_LIMIT + 65536 * 4
            seen = 0
            with pytest.raises(httpx.ReadTimeout):
                async for piece in response.aiter_raw():
                    seen += len(piece)
            await response.aclose()
            assert 0 < seen < 100_000_000
        server.close()

    asyncio.run(run())


def test_connect_refused_and_private_address_refused_at_connect(tmp_path) -> None:  # noqa: ANN001
    async def run() -> None:
        server, base, _, _ = await serve(ok)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        async with client() as c:
            with pytest.raises(httpx.ConnectError) as info:
                await c.get(base)
            assert "refused" in str(info.value).lower() or isinstance(
                info.value.__cause__, ConnectionRefusedError
            )
        strict = FeedClient(
            policy=AddressPolicy(allow_private=False),
            user_agent="evwire/test",
            accept="*/*",
            connect_timeout=1.0,
            read_timeout=1.0,
            ssl_context=lambda: None,  # type: ignore[arg-type,return-value]
        )
        with pytest.raises(AddressRefused, match="localhost resolves to 127.0.0.1"):
            await strict.get(f"http://localhost:{port}/feed")  # the name's address is checked at connect time
        await strict.aclose()

    asyncio.run(run())


def test_fetch_feed_with_the_lean_client_keeps_validators_on_304(tmp_path) -> None:  # noqa: ANN001
    async def reply(head: bytes, writer: asyncio.StreamWriter) -> None:
        if b'If-None-Match: "v1"' in head:
            writer.write(b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n')
        else:
            await ok(head, writer)
        await writer.drain()

    settings = Settings(data_dir=tmp_path / "data", allow_private_feeds=True, feed_host_min_gap=0.0)

    async def run() -> None:
        server, base, _, connections = await serve(reply)
        limits = HostLimiter.from_settings(settings)
        async with make_feed_client(settings) as c:
            first = await fetch_feed(c, f"{base}/feed", limits=limits, settings=settings)
            second = await fetch_feed(c, f"{base}/feed", etag=first.etag, limits=limits, settings=settings)
        server.close()
        assert first.status == 200 and first.body == b"hello" and first.etag == '"v1"'
        assert second.not_modified and second.ok and second.etag == '"v1"' and second.body is None
        assert len(set(connections)) == 1

    asyncio.run(run())


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")
def test_https_verifies_the_certificate(tmp_path) -> None:  # noqa: ANN001
    import ssl

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    settings = Settings(data_dir=tmp_path / "data", allow_private_feeds=True, feed_host_min_gap=0.0)

    async def run() -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server = await asyncio.start_server(lambda r, w: ok(b"", w), "127.0.0.1", 0, ssl=context)
        url = f"https://localhost:{server.sockets[0].getsockname()[1]}/feed"
        limits = HostLimiter.from_settings(settings)
        async with make_feed_client(settings) as c:  # the public CA bundle: a self-signed certificate fails
            refused = await fetch_feed(c, url, limits=limits, settings=settings)
        assert (
            refused.error is not None
            and "TLS certificate of localhost could not be verified" in refused.error
        )
        trusting = FeedClient(
            policy=AddressPolicy(allow_private=True),
            user_agent="evwire/test",
            accept="*/*",
            connect_timeout=2.0,
            read_timeout=2.0,
            ssl_context=lambda: ssl.create_default_context(cafile=str(cert)),
        )
        async with trusting:
            fetched = await fetch_feed(trusting, url, limits=limits, settings=settings)
        server.close()
        assert fetched.status == 200 and fetched.body == b"hello"

    asyncio.run(run())
