"""Transports against real servers: aiosmtpd on 127.0.0.1, .eml files, an HTTP webhook for Apprise."""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from evwire.alerts.mail import ArticleItem, Recipient, build_alert
from evwire.alerts.outcome import backoff
from evwire.alerts.targets import ApprisePoster
from evwire.alerts.transport import (
    EmlTransport,
    Outcome,
    SendResult,
    SmtpTransport,
    parse_smtp_url,
)
from evwire.errors import DeliveryError
from tests.alerts.conftest import SinkHandler, SmtpServer

ITEM = ArticleItem(
    title="Xiaomi and Ford weigh a joint venture",
    url="https://news.example.org/a/1",
    bullets=("Talks are early",),
    channels=("Xiaomi", "Ford"),
)


def _mail(to: str, outbox_id: int) -> EmailMessage:
    rcpt = Recipient(
        to=to,
        sender="evwire <alerts@news.example.org>",
        host="news.example.org",
        manage_url=f"https://news.example.org/manage/{outbox_id}",
        unsubscribe_url=f"https://news.example.org/unsubscribe/{outbox_id}",
        unsubscribe_mailto="mailto:unsubscribe@news.example.org",
    )
    return build_alert(ITEM, rcpt, outbox_id, why="you follow Xiaomi")


@pytest.fixture(params=[True, False], ids=["pipelining", "one-by-one"])
def any_server(request: pytest.FixtureRequest) -> Iterator[SmtpServer]:
    """The aiosmtpd server offering PIPELINING, and not: the transport must work with both."""
    server = SmtpServer(SinkHandler(pipelining=request.param))
    server.start()
    yield server
    server.close()


def test_transport_smtp_delivers_over_reused_connections(any_server: SmtpServer) -> None:
    smtp_server = any_server

    async def run() -> list[Outcome]:
        async with SmtpTransport.from_url(smtp_server.url, pool_size=3) as smtp:
            results = await smtp.send_many([_mail(f"reader{i}@example.com", i) for i in range(60)])
            assert smtp.connections_opened <= 3
            return [r.outcome for r in results]

    outcomes = asyncio.run(run())
    assert outcomes == [Outcome.ACCEPTED] * 60
    got = smtp_server.messages
    assert sorted(r for m in got for r in m.recipients) == sorted(f"reader{i}@example.com" for i in range(60))
    assert smtp_server.connections <= 3
    parsed = message_from_bytes(got[0].data, policy=policy.default)
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.parametrize(
    ("local", "outcome", "code"),
    [
        ("temp451", Outcome.TEMPORARY, 451),
        ("close421", Outcome.TEMPORARY, 421),
        ("gone550", Outcome.PERMANENT, 550),
        ("big552", Outcome.PERMANENT, 552),
    ],
)
def test_transport_smtp_classifies_refusals(
    any_server: SmtpServer, local: str, outcome: Outcome, code: int
) -> None:
    smtp_server = any_server

    async def run() -> list:  # type: ignore[type-arg]
        async with SmtpTransport.from_url(smtp_server.url, pool_size=1) as smtp:
            bad = await smtp.send(_mail(f"{local}@example.com", 1))
            good = await smtp.send(_mail("after@example.com", 2))  # the connection is still usable
            return [bad, good]

    bad, good = asyncio.run(run())
    assert (bad.outcome, bad.code) == (outcome, code)
    assert bad.bounce is (outcome is Outcome.PERMANENT) and bad.retry is (outcome is Outcome.TEMPORARY)
    assert good.accepted
    assert [m.recipients for m in smtp_server.messages] == [["after@example.com"]]


def test_transport_smtp_connection_refused_is_temporary(smtp_server: SmtpServer) -> None:
    smtp_server.stop()

    async def run():  # type: ignore[no-untyped-def]
        async with SmtpTransport.from_url(smtp_server.url, pool_size=1) as smtp:
            return await smtp.send(_mail("reader@example.com", 1))

    result = asyncio.run(run())
    assert result.outcome is Outcome.TEMPORARY and "cannot connect" in result.detail


def test_transport_smtp_reconnects_after_server_restart(smtp_server: SmtpServer) -> None:
    async def run() -> list[Outcome]:
        out = []
        async with SmtpTransport.from_url(smtp_server.url, pool_size=2) as smtp:
            out += [
                r.outcome for r in await smtp.send_many([_mail(f"a{i}@example.com", i) for i in range(10)])
            ]
            smtp_server.stop()  # goes down mid-run: open connections are cut
            down = await smtp.send(_mail("down@example.com", 100))
            assert down.outcome is Outcome.TEMPORARY
            smtp_server.start()  # and comes back on the same port
            out += [
                r.outcome for r in await smtp.send_many([_mail(f"b{i}@example.com", i) for i in range(10)])
            ]
        return out

    outcomes = asyncio.run(run())
    assert outcomes == [Outcome.ACCEPTED] * 20
    rcpts = {r for m in smtp_server.messages for r in m.recipients}
    assert rcpts == {f"a{i}@example.com" for i in range(10)} | {f"b{i}@example.com" for i in range(10)}
    assert len(smtp_server.messages) == 20


def test_transport_smtp_reconnects_when_idle_connection_was_dropped(smtp_server: SmtpServer) -> None:
    async def run() -> list[Outcome]:
        async with SmtpTransport.from_url(smtp_server.url, pool_size=1) as smtp:
            first = await smtp.send(_mail("one@example.com", 1))
            smtp_server.stop()
            smtp_server.start()  # the pooled connection is dead, the server is up again
            second = await smtp.send(_mail("two@example.com", 2))
            return [first.outcome, second.outcome]

    assert asyncio.run(run()) == [Outcome.ACCEPTED, Outcome.ACCEPTED]
    assert [m.recipients for m in smtp_server.messages] == [["one@example.com"], ["two@example.com"]]


def test_transport_smtp_pipelines_the_envelope_when_offered() -> None:
    """A server that answers MAIL only once RCPT and DATA have arrived as well: a client that waits
    for each reply would time out; one that pipelines (RFC 2920) delivers, in two round trips."""
    envelopes: list[list[bytes]] = []
    bodies: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 pipe.test ESMTP\r\n")
        await reader.readline()  # EHLO
        writer.write(b"250-pipe.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
        for _ in range(2):  # two messages over the one connection
            envelopes.append([await reader.readline() for _ in range(3)])
            writer.write(b"250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go ahead\r\n")
            bodies.append(await reader.readuntil(b"\r\n.\r\n"))
            writer.write(b"250 2.0.0 queued\r\n")
        await reader.readline()  # QUIT
        writer.write(b"221 bye\r\n")
        writer.close()

    async def run() -> list[Outcome]:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server, SmtpTransport.from_url(f"smtp://127.0.0.1:{port}?timeout=3", pool_size=1) as smtp:
            out = [(await smtp.send(_mail(f"r{i}@example.com", i))).outcome for i in range(2)]
            await smtp.close()
            return out

    assert asyncio.run(run()) == [Outcome.ACCEPTED, Outcome.ACCEPTED]
    assert envelopes[1] == [
        b"MAIL FROM:<alerts@news.example.org>\r\n",
        b"RCPT TO:<r1@example.com>\r\n",
        b"DATA\r\n",
    ]
    parsed = message_from_bytes(bodies[1][: -len(b".\r\n")], policy=policy.default)
    assert parsed["Message-ID"] == "<alert.1@news.example.org>" and parsed["To"] == "r1@example.com"


def test_transport_smtp_server_that_stops_answering_is_temporary() -> None:
    """A server that takes the envelope and then says nothing: the send gives up after the timeout
    (once more on a fresh connection, as nothing was handed over) and can be retried later."""
    sessions = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal sessions
        sessions += 1
        writer.write(b"220 mute.test ESMTP\r\n")
        await reader.readline()  # EHLO
        writer.write(b"250-mute.test\r\n250 PIPELINING\r\n")
        await reader.read(1)  # then silence until the client hangs up
        await reader.read()
        writer.close()

    async def run() -> SendResult:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with (
            server,
            SmtpTransport.from_url(f"smtp://127.0.0.1:{port}?timeout=0.5", pool_size=1) as smtp,
        ):
            return await smtp.send(_mail("reader@example.com", 1))

    result = asyncio.run(run())
    assert result.outcome is Outcome.TEMPORARY and not result.maybe_delivered
    assert "did not answer" in result.detail and sessions == 2


def test_transport_parse_smtp_url() -> None:
    c = parse_smtp_url("smtp://user%40x:p%3Ass@mail.example.org:2525?starttls=true")
    assert (c.host, c.port, c.username, c.password, c.starttls, c.implicit_tls) == (
        "mail.example.org",
        2525,
        "user@x",
        "p:ss",
        True,
        False,
    )
    assert parse_smtp_url("smtps://mail.example.org").port == 465
    assert parse_smtp_url("smtp://mail.example.org").port == 25
    assert "p:ss" not in repr(c)
    for bad in ("http://x", "smtp://", "smtps://h?starttls=true"):
        with pytest.raises(DeliveryError):
            parse_smtp_url(bad)


def test_transport_eml_files_parse_back(tmp_path: Path) -> None:
    eml = EmlTransport(tmp_path / "outbox")
    msg = _mail("reader@example.com", 7)
    result = asyncio.run(eml.send(msg))
    assert result.accepted
    again = asyncio.run(eml.send(_mail("reader@example.com", 7)))  # a resend replaces the file
    files = sorted((tmp_path / "outbox").iterdir())
    assert [f.name for f in files] == ["alert.7@news.example.org.eml"] and again.detail == str(files[0])
    parsed = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert parsed["Message-ID"] == "<alert.7@news.example.org>"
    assert parsed["Subject"] == ITEM.title
    assert "Talks are early" in parsed.get_body(("plain",)).get_content()


def test_transport_backoff_grows_is_capped_and_jittered() -> None:
    rng = random.Random(1)
    base, cap = timedelta(seconds=30), timedelta(hours=6)
    for attempt in range(1, 30):
        d = min(cap.total_seconds(), 30 * 2 ** (attempt - 1))
        got = backoff(attempt, base, cap, rng).total_seconds()
        assert d / 2 <= got <= d
    assert len({backoff(3, base, cap, rng) for _ in range(20)}) > 1


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []  # type: ignore[type-arg]
    status = 200

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append(json.loads(body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, type[_Hook]]]:
    handler = type("Hook", (_Hook,), {"received": [], "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"json://127.0.0.1:{server.server_address[1]}/hook", handler
    server.shutdown()
    server.server_close()


def test_transport_apprise_json_webhook_receives_post(webhook: tuple[str, type[_Hook]]) -> None:
    url, handler = webhook
    result = asyncio.run(ApprisePoster().post(url, "Xiaomi and Ford", "A joint venture https://x.test/a/1"))
    assert result.accepted, result.detail
    assert handler.received[0]["title"] == "Xiaomi and Ford"
    assert "joint venture" in handler.received[0]["message"]


@pytest.mark.parametrize(("status", "outcome"), [(404, Outcome.PERMANENT), (503, Outcome.TEMPORARY)])
def test_transport_apprise_classifies_http_errors(
    webhook: tuple[str, type[_Hook]], status: int, outcome: Outcome
) -> None:
    url, handler = webhook
    handler.status = status
    result = asyncio.run(ApprisePoster().post(url, "t", "b"))
    assert (result.outcome, result.code) == (outcome, status)


def test_transport_apprise_refuses_bad_or_disallowed_urls() -> None:
    assert asyncio.run(ApprisePoster().post("nonsense://x", "t", "b")).outcome is Outcome.PERMANENT
    only_json = ApprisePoster(schemes={"json"})
    assert asyncio.run(only_json.post("tgram://123:abc/456", "t", "b")).outcome is Outcome.PERMANENT
