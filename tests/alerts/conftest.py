"""A real SMTP server (aiosmtpd) on 127.0.0.1, port 0, in a thread of its own.

The server keeps every message it accepts and counts the connections it was opened. Recipients
pick a behaviour by their local part, so one server answers both ways:

* ``temp451@…``  -> ``451 4.3.0`` at RCPT (try again later)
* ``close421@…`` -> ``421 4.3.2`` at RCPT (server shutting down; closes the connection)
* ``gone550@…``  -> ``550 5.1.1`` at RCPT (no such user: a bounce)
* ``big552@…``   -> ``552 5.3.4`` at DATA (message refused)

It offers PIPELINING (RFC 2920) as real servers do, unless made with ``pipelining=False``.

``stop()`` closes the listening socket and every open connection; ``start()`` opens it again on
the same port: a server that goes down and comes back mid-run.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from evwire.ingest.plaintext import parse_plain_text
from evwire.ingest.types import ParsedArticle
from evwire.pipeline import Services, open_services
from evwire.settings import Settings
from tests.conftest import SAMPLE_ARTICLE


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes


class SinkHandler:
    def __init__(self, pipelining: bool = True) -> None:
        self.messages: list[Received] = []
        self.lock = threading.Lock()
        self.pipelining = pipelining

    async def handle_EHLO(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname  # what aiosmtpd does itself when there is no hook
        if self.pipelining:  # aiosmtpd reads pipelined commands fine but does not say so
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        local = address.split("@", 1)[0].lower()
        if local.startswith("temp451"):
            return "451 4.3.0 Try again later"
        if local.startswith("close421"):
            return "421 4.3.2 Service shutting down"
        if local.startswith("gone550"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if any(r.lower().startswith("big552") for r in envelope.rcpt_tos):
            return "552 5.3.4 Message too big for this mailbox"
        data = envelope.original_content or b""
        with self.lock:
            self.messages.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), data))
        return "250 2.0.0 Accepted"


class SmtpServer:
    """aiosmtpd on its own event loop thread; ``port`` stays the same across stop/start."""

    def __init__(self, handler: SinkHandler | None = None) -> None:
        self.handler = handler or SinkHandler()
        self.host = "127.0.0.1"
        self.port = 0
        self.connections = 0
        self._protocols: list[SMTP] = []
        self._server: asyncio.base_events.Server | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    @property
    def messages(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.messages)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def _factory(self) -> SMTP:
        self.connections += 1
        proto = SMTP(self.handler, hostname="sink.test", enable_SMTPUTF8=True, loop=self._loop)
        self._protocols.append(proto)
        return proto

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    def start(self) -> None:
        async def go() -> None:
            self._server = await self._loop.create_server(
                self._factory, self.host, self.port, reuse_address=True
            )
            self.port = self._server.sockets[0].getsockname()[1]

        self._run(go())

    def stop(self) -> None:
        async def go() -> None:
            if self._server is not None:
                self._server.close()
                for proto in self._protocols:
                    if proto.transport is not None:
                        proto.transport.close()
                self._protocols.clear()
                await self._server.wait_closed()
                self._server = None

        self._run(go())

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.close()


# -- the services and the sample article, for the sender and target tests ----------------------


@pytest.fixture
def svc(settings: Settings) -> Iterator[Services]:
    services = open_services(settings)
    yield services
    services.close()


def sample(n: int = 0) -> ParsedArticle:
    parsed = parse_plain_text(SAMPLE_ARTICLE.read_text(encoding="utf-8"))
    if n:
        parsed = replace(parsed, title=f"{parsed.title} ({n})", url=f"https://example.org/{n}")
    return parsed
