"""The floor of a conditional poll in CPython, for bench/polling.py to print beside the poller.

A bare asyncio client: one keep-alive connection per (host, slot), 2 slots per host as the poller's
politeness allows, a GET with If-None-Match written straight to the socket and the reply parsed with
httptools (the poller's parser). Nothing else: no database claim or write, no address guard, no
timeouts, no schedule, no error handling. No poller written in Python on asyncio can poll faster
than this on the same machine, so ``floor / sequential loop`` is the highest ratio the bench can
show, whatever the poller does.
"""

from __future__ import annotations

import asyncio
import time

import httptools


class _Conn(asyncio.Protocol):
    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.reply: asyncio.Future[int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_complete(self) -> None:
        if self.reply is not None:
            self.reply.set_result(self.parser.get_status_code())


async def _slot(host: str, port: int, feeds: list[tuple[int, str]], statuses: list[int]) -> None:
    loop = asyncio.get_running_loop()
    transport, conn = await loop.create_connection(_Conn, host, port)
    try:
        for i, etag in feeds:
            conn.reply = loop.create_future()
            transport.write(
                b"GET /f/%d HTTP/1.1\r\nHost: %s\r\nIf-None-Match: %s\r\n\r\n"
                % (i, host.encode(), etag.encode())
            )
            statuses.append(await conn.reply)
    finally:
        transport.close()


async def _run(hosts: list[str], ports: list[int], etags: list[str]) -> tuple[float, float, list[int]]:
    per_host: dict[int, list[tuple[int, str]]] = {}
    for i, etag in enumerate(etags):
        per_host.setdefault(i % len(hosts), []).append((i, etag))
    statuses: list[int] = []
    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(
        _slot(hosts[h], ports[h], feeds[k::2], statuses) for h, feeds in per_host.items() for k in (0, 1)
    ))  # fmt: skip
    return time.perf_counter() - started, time.process_time() - cpu, statuses


def floor(hosts: list[str], ports: list[int], etags: list[str]) -> tuple[float, float, int]:
    """(polls/s, ms of CPU a poll, how many answered 304) polling feed i with ``etags[i]``."""
    seconds, cpu, statuses = asyncio.run(_run(hosts, ports, etags))
    return len(etags) / seconds, cpu * 1000 / len(etags), statuses.count(304)
