"""Sending mail: .eml files and SMTP (aiosmtplib, pooled connections, pipelined when offered).

Sends return an ``outcome.SendResult``; the SMTP wire (pipelining, DATA, reset) is in ``smtpwire``
and Apprise targets are in ``targets``.

A 5xx to our own login or sender address is ``temporary``: it is the operator's setting that is
wrong, and a subscriber is never bounced for it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import ssl
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from evwire.alerts.outcome import Outcome, SendResult, classify_code
from evwire.alerts.smtpwire import _dot_stuffed, _Lost, _Pipe, _reset
from evwire.errors import DeliveryError

log = logging.getLogger(__name__)


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


def eml_path(folder: Path, message_id: str) -> Path:
    """``folder/<message-id>.eml``, the id without its angle brackets and with only safe characters."""
    name = re.sub(r"[^A-Za-z0-9@._-]", "_", message_id.strip("<> ")) or f"no-id-{time.time_ns()}"
    return folder / f"{name}.eml"


def write_eml(folder: Path, message_id: str, data: bytes) -> Path:
    """Write a mail to ``eml_path(folder, message_id)``: temp file, fsync, rename (never half a file)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = eml_path(folder, message_id)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".eml")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


class EmlTransport:
    """Writes each message to ``folder/<message-id>.eml`` (temp file + rename: never half a file).

    A resend of the same outbox row has the same Message-ID and replaces its file.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path_for(self, msg: EmailMessage) -> Path:
        return eml_path(self.folder, str(msg.get("Message-ID") or ""))

    def write(self, msg: EmailMessage) -> Path:
        return write_eml(self.folder, str(msg.get("Message-ID") or ""), flatten(msg))

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
    __slots__ = ("client", "pipe", "pipelining", "smtputf8", "last_used")

    def __init__(self, client: aiosmtplib.SMTP) -> None:
        self.client = client
        self.pipe: _Pipe | None = None
        self.pipelining = False
        self.smtputf8 = False
        self.last_used = 0.0

    @property
    def is_connected(self) -> bool:
        return self.pipe is not None and self.pipe.is_connected

    def close(self) -> None:
        if self.pipe is not None:
            self.pipe.close()
            self.pipe = None
        self.client.close()


class SmtpTransport:
    """SMTP with up to ``pool_size`` connections, each reused across messages.

    aiosmtplib opens each connection (TLS, STARTTLS, login); the messages then go over it with
    MAIL, RCPT and DATA written at once when the server offers PIPELINING (one round trip for the
    envelope, one for the data), one by one otherwise. A connection that broke is opened again on
    its next use. A connection idle longer than ``idle_check`` seconds is probed with NOOP first
    (servers drop idle clients).
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
        if conn.is_connected and time.monotonic() - conn.last_used > self.idle_check:
            assert conn.pipe is not None
            try:
                code, _ = (await conn.pipe.exchange(b"NOOP\r\n", 1))[0]
                if code != 250:
                    conn.close()
            except _Lost:
                conn.close()
        if not conn.is_connected:
            conn.close()
            conn.client = client = self._client()
            await client.connect()
            self.connections_opened += 1
            if client.last_ehlo_response is None and client.last_helo_response is None:
                await client.ehlo()
            conn.pipelining = client.supports_extension("pipelining")
            conn.smtputf8 = client.supports_extension("smtputf8")
            transport = client.transport
            assert transport is not None
            conn.pipe = _Pipe(transport, self.config.timeout)

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
        bad = [a for a in (sender, *rcpts) if not a or _UNSAFE_ADDR.search(a)]
        if bad:
            return SendResult(Outcome.PERMANENT, None, f"unusable address {bad[0][:80]!r}")
        for attempt in (1, 2):
            try:
                await self._ready(conn)
            except aiosmtplib.SMTPAuthenticationError as exc:
                conn.close()
                return SendResult(
                    Outcome.TEMPORARY, exc.code, f"SMTP login refused ({exc.message}): check EVWIRE_SMTP_URL"
                )
            except aiosmtplib.SMTPResponseException as exc:  # e.g. EHLO refused: the server's problem
                conn.close()
                return SendResult(
                    Outcome.TEMPORARY, exc.code, f"SMTP server refused the session: {exc.message}"
                )
            except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
                conn.close()
                code = getattr(exc, "code", None)
                return SendResult(
                    Outcome.TEMPORARY, code, f"cannot connect to {self.config.host}:{self.config.port}: {exc}"
                )
            try:
                return await self._transaction(conn, sender, rcpts, data)
            except _EnvelopeDisconnected as exc:
                # Nothing was handed over yet: reconnecting and trying once more cannot duplicate.
                conn.close()
                if attempt == 2:
                    return SendResult(Outcome.TEMPORARY, None, f"connection lost: {exc}")
        raise AssertionError("unreachable")

    async def _transaction(self, conn: _Conn, sender: str, rcpts: list[str], data: bytes) -> SendResult:
        pipe = conn.pipe
        assert pipe is not None
        utf8 = not (sender.isascii() and all(r.isascii() for r in rcpts))
        if utf8 and not conn.smtputf8:
            return SendResult(
                Outcome.PERMANENT, None, "the SMTP server cannot take internationalised addresses"
            )
        enc = "utf-8" if utf8 else "ascii"
        commands = [b"MAIL FROM:<" + sender.encode(enc) + (b"> SMTPUTF8\r\n" if utf8 else b">\r\n")]
        commands += [b"RCPT TO:<" + r.encode(enc) + b">\r\n" for r in rcpts]
        commands.append(b"DATA\r\n")
        replies: list[tuple[int, str]] = []
        try:
            if conn.pipelining:
                replies = await pipe.exchange(b"".join(commands), len(commands))
            else:
                for command in commands:
                    replies += await pipe.exchange(command, 1)
                    if replies[0][0] != 250:
                        break  # the sender was refused: no transaction
                    if len(replies) == len(commands) - 1 and not any(c in (250, 251) for c, _ in replies[1:]):
                        break  # every recipient refused: no DATA
        except _Lost as exc:
            replies += exc.replies
            refusal = next(((c, m) for c, m in replies if c >= 400), None)
            pipe.close()
            if refusal is None:
                raise _EnvelopeDisconnected(str(exc)) from exc
            if replies[0][0] != 250:
                return SendResult(
                    Outcome.TEMPORARY, replies[0][0], f"sender {sender} refused ({replies[0][1]})"
                )
            return classify_code(*refusal)
        code, message = replies[0]
        if code != 250:
            await _reset(pipe, data_open=len(replies) == len(commands) and replies[-1][0] == 354)
            detail = f"sender {sender} refused ({message}): check EVWIRE_MAIL_FROM"
            return SendResult(Outcome.TEMPORARY, code, detail)
        refused = {
            r: reply
            for r, reply in zip(rcpts, replies[1 : 1 + len(rcpts)], strict=False)
            if reply[0] not in (250, 251)
        }
        if len(refused) == len(rcpts) or len(replies) < len(commands) or replies[-1][0] != 354:
            await _reset(pipe, data_open=len(replies) == len(commands) and replies[-1][0] == 354)
            if len(refused) == len(rcpts):
                return classify_code(*next(iter(refused.values())))
            return classify_code(*replies[-1])
        try:
            code, message = (await pipe.exchange(_dot_stuffed(data), 1))[0]
        except _Lost as exc:
            pipe.close()
            return SendResult(
                Outcome.TEMPORARY, None, f"connection lost during DATA: {exc}", maybe_delivered=True
            )
        if code != 250:
            return classify_code(code, message)
        return SendResult(Outcome.ACCEPTED, code, message, refused=refused)

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
            if conn.pipe is not None and conn.pipe.is_connected:
                try:
                    await conn.pipe.exchange(b"QUIT\r\n", 1, timeout=5.0)
                except _Lost:
                    pass
            conn.close()

    async def __aenter__(self) -> SmtpTransport:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


_UNSAFE_ADDR = re.compile(r"[\x00-\x20<>\x7f]")


class _EnvelopeDisconnected(Exception):
    pass
