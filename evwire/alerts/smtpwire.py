"""The SMTP wire under ``transport.SmtpTransport``: commands pipelined on a connection aiosmtplib
opened (RFC 2920), the message as DATA sends it, and the reset after a failed transaction.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque


class _Pipe(asyncio.Protocol):
    """The SMTP command channel of one connection once aiosmtplib has set it up.

    aiosmtplib connects, negotiates TLS and logs in; the connection's transport is then handed
    to this protocol, which can write several commands at once and read their replies in order
    (RFC 2920 PIPELINING), one read and one write per step instead of one per command.
    """

    def __init__(self, transport: asyncio.BaseTransport, timeout: float) -> None:
        self.loop = asyncio.get_running_loop()
        self.timeout = timeout
        self.buf = bytearray()
        self.lines: list[str] = []  # the lines of a multi-line reply being read
        self.replies: deque[tuple[int, str]] = deque()
        self.waiter: asyncio.Future[None] | None = None
        self.want = 0
        self.lost = False
        self.paused: asyncio.Future[None] | None = None
        self.transport = transport
        transport.set_protocol(self)

    @property
    def is_connected(self) -> bool:
        return not self.lost and not self.transport.is_closing()

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        start = 0
        while True:
            end = buf.find(b"\n", start)
            if end < 0:
                break
            line = bytes(buf[start:end]).rstrip(b"\r")
            start = end + 1
            try:
                code = int(line[:3])
            except ValueError:
                self._fail(_ReplyError(f"malformed SMTP reply {line[:80]!r}"))
                return
            self.lines.append(line[4:].decode("utf-8", "replace").strip())
            if line[3:4] != b"-":
                self.replies.append((code, "\n".join(self.lines)))
                self.lines = []
        del buf[:start]
        if len(buf) > 8192:
            self._fail(_ReplyError("SMTP reply line too long"))
        elif self.waiter is not None and len(self.replies) >= self.want and not self.waiter.done():
            self.waiter.set_result(None)

    def _fail(self, exc: BaseException) -> None:
        self.lost = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(_Lost(str(exc or "connection closed by the server")))
        if self.paused is not None and not self.paused.done():
            self.paused.set_result(None)

    def eof_received(self) -> bool:
        return False  # close our side too

    def pause_writing(self) -> None:
        self.paused = self.loop.create_future()

    def resume_writing(self) -> None:
        if self.paused is not None and not self.paused.done():
            self.paused.set_result(None)
        self.paused = None

    async def exchange(self, data: bytes, n: int, timeout: float | None = None) -> list[tuple[int, str]]:
        """Write ``data`` (``n`` commands) and return their ``n`` replies.

        Raises ``_Lost`` (with the replies read so far in ``.replies``) when the connection ends or
        times out first.
        """
        if self.lost or self.transport.is_closing():
            raise _Lost("connection closed")
        if self.replies:  # a reply nobody asked for (e.g. 421 idle timeout): the session is over
            self.close()
            raise _Lost(f"unexpected reply {self.replies[0]}")
        self.transport.write(data)  # type: ignore[attr-defined]
        if len(self.replies) < n or self.paused is not None:
            self.want = n
            self.waiter = waiter = self.loop.create_future()
            # The timer closes the connection, which also ends a wait for the server to read.
            timer = self.loop.call_later(timeout or self.timeout, self._time_out, waiter)
            try:
                if self.paused is not None:
                    await self.paused
                if len(self.replies) < n:
                    await waiter
            except _Lost as exc:
                exc.replies = [self.replies.popleft() for _ in range(min(n, len(self.replies)))]
                raise
            finally:
                timer.cancel()
                self.waiter = None
                if waiter.done() and not waiter.cancelled():
                    waiter.exception()  # retrieved, so asyncio does not log it
        return [self.replies.popleft() for _ in range(n)]

    def _time_out(self, waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            waiter.set_exception(_Lost("the SMTP server did not answer in time"))
        self.lost = True
        self.transport.close()

    def close(self) -> None:
        self.lost = True
        self.transport.close()


_BARE_EOL = re.compile(rb"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


class _ReplyError(Exception):
    pass


class _Lost(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.replies: list[tuple[int, str]] = []


def _dot_stuffed(data: bytes) -> bytes:
    """The message as DATA sends it: CRLF line ends, a dot doubled at a line start, ending CRLF.CRLF."""
    crlf = data.count(b"\r\n")
    if data.count(b"\n") != crlf or data.count(b"\r") != crlf:
        data = _BARE_EOL.sub(b"\r\n", data)
    if data.startswith(b".") or b"\n." in data:
        data = _LEADING_DOT.sub(b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


async def _reset(pipe: _Pipe, data_open: bool = False) -> None:
    """End a failed transaction so the connection can carry the next one."""
    try:
        if data_open:  # a server that said 354 with no recipient left: an empty message ends it
            await pipe.exchange(b".\r\n", 1)
        await pipe.exchange(b"RSET\r\n", 1)
    except _Lost:
        pipe.close()
