"""Sending: .eml files and SMTP (aiosmtplib, pooled connections); Apprise targets are in ``targets``.

Every send returns a ``SendResult`` that the outbox can act on:

* ``accepted``: the server took the message; mark the row sent.
* ``temporary``: 4xx, a connection error or a server/config problem; retry later (``backoff``).
  ``maybe_delivered`` is set when the connection broke after the message data was sent: the
  server may have taken it; a retry can then repeat it (the only possible duplicate).
* ``permanent``: 5xx for this address (or message): count a bounce.

A 5xx to our own login or sender address is ``temporary``: it is the operator's setting that is
wrong, and a subscriber is never bounced for it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import re
import ssl
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import getaddresses
from enum import StrEnum
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from evwire.errors import DeliveryError

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    TEMPORARY = "temporary"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    code: int | None = None  # SMTP or HTTP status when there was one
    detail: str = ""
    maybe_delivered: bool = False
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)  # some recipients of several

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPTED

    @property
    def retry(self) -> bool:
        return self.outcome is Outcome.TEMPORARY

    @property
    def bounce(self) -> bool:
        return self.outcome is Outcome.PERMANENT


def classify_code(code: int, detail: str) -> SendResult:
    if 200 <= code < 400:
        return SendResult(Outcome.ACCEPTED, code, detail)
    if 500 <= code < 600:
        return SendResult(Outcome.PERMANENT, code, detail)
    return SendResult(Outcome.TEMPORARY, code, detail)


def backoff(
    attempt: int,
    base: timedelta = timedelta(seconds=30),
    cap: timedelta = timedelta(hours=6),
    rng: random.Random | None = None,
) -> timedelta:
    """Wait before retry number ``attempt`` (1, 2, ...): doubling from ``base``, capped, jittered.

    The result lies in [d/2, d] for d = min(cap, base * 2**(attempt-1)), so retries of many
    messages after one outage spread out instead of arriving together.
    """
    exp = min(max(attempt, 1) - 1, 60)
    full = min(cap.total_seconds(), base.total_seconds() * 2**exp)
    return timedelta(seconds=full / 2 + (rng or random).uniform(0, full / 2))


def envelope(msg: EmailMessage) -> tuple[str, list[str]]:
    """Sender and recipients from the headers (To, Cc, Bcc)."""
    sender = getaddresses([str(msg.get("Sender") or msg.get("From") or "")])
    rcpts = getaddresses([str(v) for h in ("To", "Cc", "Bcc") for v in msg.get_all(h, [])])
    if not sender or not sender[0][1]:
        raise DeliveryError("message has no From address")
    return sender[0][1], [a for _, a in rcpts if a]


def flatten(msg: EmailMessage) -> bytes:
    if "Bcc" in msg:
        msg = _copy_without_bcc(msg)
    return msg.as_bytes()


def _copy_without_bcc(msg: EmailMessage) -> EmailMessage:
    import copy

    out = copy.copy(msg)
    del out["Bcc"]
    return out


# --- .eml files --------------------------------------------------------------------------


class EmlTransport:
    """Writes each message to ``folder/<message-id>.eml`` (temp file + rename: never half a file).

    A resend of the same outbox row has the same Message-ID and replaces its file.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path_for(self, msg: EmailMessage) -> Path:
        mid = str(msg.get("Message-ID") or "").strip("<> ")
        name = re.sub(r"[^A-Za-z0-9@._-]", "_", mid) or f"no-id-{time.time_ns()}"
        return self.folder / f"{name}.eml"

    def write(self, msg: EmailMessage) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path_for(msg)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".eml")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(flatten(msg))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    async def send(self, msg: EmailMessage) -> SendResult:
        try:
            path = await asyncio.to_thread(self.write, msg)
        except OSError as exc:
            return SendResult(Outcome.TEMPORARY, None, f"cannot write .eml to {self.folder}: {exc.strerror}")
        return SendResult(Outcome.ACCEPTED, None, str(path))

    async def close(self) -> None:
        return None


# --- SMTP --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    implicit_tls: bool = False  # smtps://
    starttls: bool = False  # ?starttls=true
    verify_certs: bool = True  # ?verify=false for a relay with a self-signed certificate
    timeout: float = 30.0

    def __repr__(self) -> str:  # never print the password
        tls = self.implicit_tls or self.starttls
        return f"SmtpConfig({self.host}:{self.port}, user={self.username!r}, tls={tls})"


def parse_smtp_url(url: str, timeout: float = 30.0) -> SmtpConfig:
    """Read ``smtp://user:pass@host:port``, ``smtps://`` (TLS), ``?starttls=true``, ``?verify=false``."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps") or not parts.hostname:
        raise DeliveryError(
            "EVWIRE_SMTP_URL must look like smtp://user:pass@host:587?starttls=true or smtps://host"
        )
    query = {k.lower(): v[-1].lower() for k, v in parse_qs(parts.query).items()}
    starttls = query.get("starttls", "false") in ("1", "true", "yes")
    implicit = scheme == "smtps"
    if implicit and starttls:
        raise DeliveryError("EVWIRE_SMTP_URL: smtps:// already uses TLS; drop ?starttls=true")
    try:
        port = parts.port or (465 if implicit else 587 if starttls else 25)
    except ValueError as exc:
        raise DeliveryError(f"EVWIRE_SMTP_URL: bad port ({exc})") from exc
    return SmtpConfig(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        implicit_tls=implicit,
        starttls=starttls,
        verify_certs=query.get("verify", "true") not in ("0", "false", "no"),
        timeout=float(query.get("timeout", timeout)),
    )


class _Conn:
    __slots__ = ("client", "last_used")

    def __init__(self, client: aiosmtplib.SMTP) -> None:
        self.client = client
        self.last_used = 0.0


class SmtpTransport:
    """SMTP with up to ``pool_size`` connections, each reused across messages.

    A connection that broke is opened again on its next use. A connection idle longer than
    ``idle_check`` seconds is probed with NOOP first (servers drop idle clients).
    """

    def __init__(
        self,
        config: SmtpConfig,
        pool_size: int = 4,
        local_hostname: str = "localhost",
        tls_context: ssl.SSLContext | None = None,
        idle_check: float = 20.0,
    ) -> None:
        self.config = config
        self.pool_size = max(1, pool_size)
        self.local_hostname = local_hostname
        self.tls_context = tls_context
        self.idle_check = idle_check
        self.connections_opened = 0
        self._idle: list[_Conn] = []
        self._sem: asyncio.Semaphore | None = None

    @classmethod
    def from_url(cls, url: str, pool_size: int = 4, **kw: object) -> SmtpTransport:
        return cls(parse_smtp_url(url), pool_size, **kw)  # type: ignore[arg-type]

    def _client(self) -> aiosmtplib.SMTP:
        c = self.config
        return aiosmtplib.SMTP(
            hostname=c.host,
            port=c.port,
            username=c.username,
            password=c.password,
            use_tls=c.implicit_tls,
            start_tls=c.starttls,
            validate_certs=c.verify_certs,
            tls_context=self.tls_context,
            timeout=c.timeout,
            local_hostname=self.local_hostname,
        )

    async def _ready(self, conn: _Conn) -> None:
        client = conn.client
        if client.is_connected and time.monotonic() - conn.last_used > self.idle_check:
            try:
                await client.noop()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
        if not client.is_connected:
            await client.connect()
            self.connections_opened += 1

    async def send(
        self, msg: EmailMessage | bytes, sender: str | None = None, recipients: Sequence[str] | None = None
    ) -> SendResult:
        """Send one message; ``sender``/``recipients`` default to the message's headers."""
        if isinstance(msg, EmailMessage):
            env_sender, env_rcpts = envelope(msg)
            data = flatten(msg)
        else:
            env_sender, env_rcpts, data = "", [], msg
        sender = sender or env_sender
        rcpts = list(recipients or env_rcpts)
        if not sender or not rcpts:
            raise DeliveryError("a message needs a sender and at least one recipient")
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.pool_size)
        async with self._sem:
            conn = self._idle.pop() if self._idle else _Conn(self._client())
            try:
                return await self._send_on(conn, sender, rcpts, data)
            finally:
                conn.last_used = time.monotonic()
                self._idle.append(conn)

    async def _send_on(self, conn: _Conn, sender: str, rcpts: list[str], data: bytes) -> SendResult:
        for attempt in (1, 2):
            try:
                await self._ready(conn)
            except aiosmtplib.SMTPAuthenticationError as exc:
                conn.client.close()
                return SendResult(
                    Outcome.TEMPORARY, exc.code, f"SMTP login refused ({exc.message}): check EVWIRE_SMTP_URL"
                )
            except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
                conn.client.close()
                code = getattr(exc, "code", None)
                return SendResult(
                    Outcome.TEMPORARY, code, f"cannot connect to {self.config.host}:{self.config.port}: {exc}"
                )
            try:
                return await self._transaction(conn.client, sender, rcpts, data)
            except _EnvelopeDisconnected as exc:
                # Nothing was handed over yet: reconnecting and trying once more cannot duplicate.
                conn.client.close()
                if attempt == 2:
                    return SendResult(Outcome.TEMPORARY, None, f"connection lost: {exc}")
        raise AssertionError("unreachable")

    async def _transaction(
        self, client: aiosmtplib.SMTP, sender: str, rcpts: list[str], data: bytes
    ) -> SendResult:
        utf8 = not (sender.isascii() and all(r.isascii() for r in rcpts))
        bad = [a for a in (sender, *rcpts) if not a or _UNSAFE_ADDR.search(a)]
        if bad:
            return SendResult(Outcome.PERMANENT, None, f"unusable address {bad[0][:80]!r}")
        enc = "utf-8" if utf8 else "ascii"
        refused: dict[str, tuple[int, str]] = {}
        try:
            if client.last_ehlo_response is None and client.last_helo_response is None:
                await client.ehlo()
            if utf8 and not client.supports_extension("smtputf8"):
                return SendResult(
                    Outcome.PERMANENT, None, "the SMTP server cannot take internationalised addresses"
                )
            # MAIL and RCPT sent as commands: the addresses are checked above, and aiosmtplib's own
            # address parsing would cost more than the rest of the transaction.
            options = [b"SMTPUTF8"] if utf8 else []
            response = await client.execute_command(b"MAIL", b"FROM:<" + sender.encode(enc) + b">", *options)
            if response.code != 250:
                await _rset(client)
                detail = f"sender {sender} refused ({response.message}): check EVWIRE_MAIL_FROM"
                return SendResult(Outcome.TEMPORARY, response.code, detail)
            for r in rcpts:
                response = await client.execute_command(b"RCPT", b"TO:<" + r.encode(enc) + b">")
                if response.code not in (250, 251):
                    refused[r] = (response.code, response.message)
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, ConnectionError) as exc:
            raise _EnvelopeDisconnected(str(exc)) from exc
        except aiosmtplib.SMTPResponseException as exc:  # e.g. EHLO refused: the server's problem
            await _rset(client)
            return SendResult(Outcome.TEMPORARY, exc.code, f"SMTP server refused the session: {exc.message}")
        if len(refused) == len(rcpts):
            await _rset(client)
            code, message = next(iter(refused.values()))
            return classify_code(code, message)
        try:
            response = await client.data(data)
        except aiosmtplib.SMTPResponseException as exc:
            await _rset(client)
            return classify_code(exc.code, exc.message)
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, ConnectionError) as exc:
            client.close()
            return SendResult(
                Outcome.TEMPORARY, None, f"connection lost during DATA: {exc}", maybe_delivered=True
            )
        return SendResult(Outcome.ACCEPTED, response.code, response.message, refused=refused)

    async def send_many(
        self, messages: Iterable[EmailMessage | tuple[bytes, str, Sequence[str]]]
    ) -> list[SendResult]:
        """Send many messages over the pool's connections at once; results in input order.

        ``messages`` is consumed lazily (a generator keeps memory flat for a large fan-out); an
        item is an EmailMessage or ``(data, sender, recipients)``.
        """
        results: dict[int, SendResult] = {}
        it = iter(enumerate(messages))

        async def worker() -> None:
            for i, item in it:
                if isinstance(item, EmailMessage):
                    results[i] = await self.send(item)
                else:
                    data, sender, rcpts = item
                    results[i] = await self.send(data, sender, rcpts)

        await asyncio.gather(*(worker() for _ in range(self.pool_size)))
        return [results[i] for i in range(len(results))]

    async def close(self) -> None:
        conns, self._idle = self._idle, []
        for conn in conns:
            if conn.client.is_connected:
                try:
                    await conn.client.quit()
                except (aiosmtplib.SMTPException, OSError):
                    conn.client.close()

    async def __aenter__(self) -> SmtpTransport:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


_UNSAFE_ADDR = re.compile(r"[\x00-\x20<>\x7f]")


class _EnvelopeDisconnected(Exception):
    pass


async def _rset(client: aiosmtplib.SMTP) -> None:
    if client.is_connected:
        try:
            await client.rset()
        except (aiosmtplib.SMTPException, OSError):
            client.close()
