"""Scale-out proofs: real worker processes (`evwire worker`) against PostgreSQL, local servers.

* ``pg_schema_url``: a fresh schema on the test PostgreSQL (skipped, saying so, where none answers).
* ``CountingFeedServer``: feeds ``/f/<n>`` on 127.0.0.1, port 0, counting every GET per feed with
  its time; an optional delay per answer stretches a run.
* ``Workers``: starts and stops `python -m evwire.cli.main worker ...` processes with an env.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.alerts.conftest import SmtpServer
from tests.conftest import _PG_SKIP, pg_schema

ROOT = Path(__file__).resolve().parents[2]
RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Scale feed {n}</title><link>https://scale{n}.example/</link>
{items}</channel></rss>"""
ITEM = """<item><title>Scale report {n}: BYD and Tesla delivery figures</title><link>https://scale{n}.example/a</link>
<guid>scale-{n}</guid><pubDate>Wed, 07 Jan 2026 10:00:00 GMT</pubDate>
<description>Report {n}. BYD delivered cars and Tesla built a factory.</description></item>
"""


class CountingFeedServer:
    """A raw asyncio HTTP/1.1 keep-alive server in a thread (cheap enough to serve 4 pollers on 2
    cores): ``GET /f/<n>`` answers a small RSS document and records the time of each request."""

    def __init__(self, delay: float = 0.0, items: bool = True) -> None:
        self.delay = delay
        self.items = items  # False: empty channels (a poll then stores no article: fetching is measured)
        self.hits: dict[int, list[float]] = defaultdict(list)
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _start(self) -> asyncio.Server:
        return await self.loop.create_server(lambda: _FeedProtocol(self), "127.0.0.1", 0, backlog=1024)

    def url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.port}/f/{n}"

    def counts(self) -> dict[int, int]:
        with self.lock:
            return {n: len(t) for n, t in self.hits.items()}

    def body(self, n: int) -> bytes:
        return RSS.format(n=n, items=ITEM.format(n=n) if self.items else "").encode()

    def close(self) -> None:
        async def stop() -> None:
            self.server.close()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class _FeedProtocol(asyncio.Protocol):
    def __init__(self, owner: CountingFeedServer) -> None:
        self.owner = owner
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while b"\r\n\r\n" in self.buf:
            head, self.buf = self.buf.split(b"\r\n\r\n", 1)
            target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode()
            if not target.startswith("/f/"):
                self._write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                continue
            n = int(target[3:])
            with self.owner.lock:
                self.owner.hits[n].append(time.monotonic())
            body = self.owner.body(n)
            answer = (
                b'HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nETag: "%d"\r\n'
                b"Content-Length: %d\r\n\r\n%s" % (n, len(body), body)
            )
            if self.owner.delay:
                self.owner.loop.call_later(self.owner.delay, self._write, answer)
            else:
                self._write(answer)

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


def start_feed_server(**kwargs: object) -> CountingFeedServer:
    return CountingFeedServer(**kwargs)  # type: ignore[arg-type]


@pytest.fixture
def feed_server() -> Iterator[CountingFeedServer]:
    server = start_feed_server()
    yield server
    server.close()


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    if _PG_SKIP:
        pytest.skip(_PG_SKIP)
    with pg_schema("s") as url:
        yield url


def worker_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVWIRE_")}
    env.update(
        EVWIRE_DATABASE_URL=database_url,
        EVWIRE_DATA_DIR=str(data_dir),
        EVWIRE_ALLOW_PRIVATE_FEEDS="true",
        EVWIRE_FEED_HOST_MIN_GAP="0",
        EVWIRE_FEED_HOST_CONCURRENCY="32",
        EVWIRE_FEED_CONNECT_TIMEOUT="3",
        EVWIRE_FEED_TOTAL_TIMEOUT="10",
        EVWIRE_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


class Workers:
    """`evwire worker` processes; their output goes to files in ``logs``."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: dict[str, subprocess.Popen] = {}
        self.started = 0

    def start(self, name: str, *args: str, named: bool = True) -> subprocess.Popen:
        """Start a worker; ``named`` passes ``--id name`` (else its claims carry host:pid)."""
        self.started += 1
        log = open(self.logs / f"{name}-{self.started}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [sys.executable, "-m", "evwire.cli.main", "worker", *(["--id", name] if named else []), *args],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.procs[name] = proc
        return proc

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def stop_all(self, timeout: float = 15.0) -> dict[str, int | None]:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        codes: dict[str, int | None] = {}
        for name, proc in self.procs.items():
            try:
                codes[name] = proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = proc.wait()
        return codes

    def output(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.logs.glob("*.log")
        )


@pytest.fixture
def workers_factory(tmp_path: Path) -> Iterator[list[Workers]]:
    made: list[Workers] = []
    yield made
    for w in made:
        w.stop_all(timeout=5)


def wait_until(check, timeout: float, step: float = 0.2) -> bool:  # noqa: ANN001 - a callable
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return bool(check())


# ---------------------------------------------------------------- alerts


def seed_alerts(settings: object, subscribers: int, articles: int) -> int:
    """``subscribers`` confirmed followers of Xiaomi, then ``articles`` new Xiaomi articles: one
    pending immediate alert per pair, made by the real matcher. Returns the outbox row count."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from evwire.ingest.plaintext import parse_plain_text
    from evwire.pipeline import open_services, post_article
    from evwire.store.subscriptions import confirm, subscribe
    from evwire.store.tables import OutboxRow
    from tests.conftest import SAMPLE_ARTICLE

    svc = open_services(settings)  # type: ignore[arg-type]
    try:
        now = datetime.now(UTC)
        with svc.db.session() as s:
            for i in range(subscribers):
                sub = subscribe(s, f"reader{i}@example.org", ["xiaomi"], now=now)
                confirm(s, sub.id, now=now)
        base = parse_plain_text(SAMPLE_ARTICLE.read_text(encoding="utf-8"))
        for n in range(articles):
            parsed = replace(base, title=f"{base.title} ({n})", url=f"https://example.org/scale/{n}")
            with svc.db.session() as s:
                post_article(s, parsed, svc.tagger, now=now, alerts=svc.alerts, any_date=True)
        with svc.db.session() as s:
            return int(s.scalar(select(func.count()).select_from(OutboxRow)) or 0)
    finally:
        svc.close()


def message_ids(messages: list) -> list[str]:  # noqa: ANN001 - tests.alerts.conftest.Received
    """The Message-ID of each received message (repeats kept)."""
    import email

    ids = []
    for m in messages:
        msg = email.message_from_bytes(m.data)
        ids.append(str(msg["Message-ID"]).strip())
    return ids


def send_env(database_url: str, data_dir: Path, smtp_url: str, **extra: str) -> dict[str, str]:
    env = worker_env(
        database_url,
        data_dir,
        EVWIRE_SMTP_URL=smtp_url,
        EVWIRE_MAIL_FROM="evwire <alerts@evwire.test>",
        EVWIRE_BASE_URL="https://evwire.test",
        EVWIRE_SECRET_KEY="scale-test-secret-key-0123456789",
        EVWIRE_SEND_POLL_SECONDS="1",
    )
    env.update(extra)
    return env


def outbox_status(database_url: str) -> dict[str, int]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("select status, count(*) from outbox group by status")).all()
        return {s: int(n) for s, n in rows}
    finally:
        engine.dispose()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.close()
