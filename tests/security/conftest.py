"""Security fixtures: the real feed server of tests/ingest/feeds, extended with hostile routes that
serve tests/data/hostile/ and misbehave on the fly; settings that refuse private addresses except
127.0.0.1 (where the test servers live) and keep every timeout short.

Hostile routes (GET), on top of every route of ``tests.ingest.feeds.conftest.FeedServer``:
  /hostile/<file>          a corpus file (``bomb.xml.gz`` is sent gzip-encoded: a gzip bomb)
  /hostile-huge?cl=1       a 50 MB body, chunked (cl=1: announced by Content-Length)
  /hostile-trickle         headers, then one byte per second for a minute
  /hostile-redirect/<n>    302 to a private address or another scheme (REDIRECTS[n])
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from evwire.settings import Settings
from tests.ingest.feeds.conftest import FeedServer, Handler

HOSTILE = Path(__file__).resolve().parents[1] / "data" / "hostile"
NOW = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)
HUGE = 50 * 1024 * 1024
REDIRECTS = {
    "ten": "http://10.0.0.1/feed.xml",
    "metadata": "http://169.254.169.254/latest/meta-data/",
    "v6-loopback": "http://[::1]:8080/feed.xml",
    "mapped": "http://[::ffff:192.168.0.1]/feed.xml",
    "file": "file:///etc/passwd",
}
CONTENT_TYPES = {".xml": "application/rss+xml", ".html": "text/html; charset=utf-8"}


class HostileHandler(Handler):
    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if not path.startswith("/hostile"):
            super().do_GET()
            return
        with self.server.lock:
            self.server.hits[path] += 1
        if path.startswith("/hostile/"):
            self._corpus(path[len("/hostile/") :])
        elif path == "/hostile-huge":
            self._huge(announce=bool(query.get("cl")))
        elif path == "/hostile-trickle":
            self._trickle()
        elif path.startswith("/hostile-redirect/"):
            self._send(302, b"", {"Location": REDIRECTS[path.rsplit("/", 1)[1]]})
        else:
            self._send(404, b"no such hostile route")

    def _corpus(self, name: str) -> None:
        file = (HOSTILE / name).resolve()
        if file.parent != HOSTILE or not file.is_file():
            self._send(404, b"not in the corpus")
            return
        body = file.read_bytes()
        if name.endswith(".gz"):
            headers = {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"}
        else:
            headers = {"Content-Type": CONTENT_TYPES.get(file.suffix, "application/octet-stream")}
        self._send(200, body, headers)

    def _huge(self, *, announce: bool) -> None:
        chunk = b"<!--" + b"x" * (64 * 1024 - 8) + b"-->\n\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        if announce:
            self.send_header("Content-Length", str(HUGE))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = 0
        try:
            while sent < HUGE:
                part = chunk[: HUGE - sent]
                self.wfile.write(part if announce else b"%x\r\n%s\r\n" % (len(part), part))
                sent += len(part)
                with self.server.lock:
                    self.server.bytes_sent["/hostile-huge"] += len(part)
            if not announce:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def _trickle(self) -> None:
        body = b"<?xml version='1.0'?><rss version='2.0'><channel><title>Slow</title></channel></rss>"
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for i in range(len(body)):
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                with self.server.lock:
                    self.server.bytes_sent["/hostile-trickle"] += 1
                time.sleep(1.0)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True


class HostileServer(FeedServer):
    request_queue_size = 128  # a whole pass connects at once; the default backlog (5) drops SYNs under load

    def __init__(self) -> None:
        super().__init__()
        self.RequestHandlerClass = HostileHandler


@pytest.fixture(scope="session")
def hostile_server() -> Iterator[HostileServer]:
    server = HostileServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def hostile_settings(settings: Settings) -> Settings:
    """The ``settings`` fixture's database (SQLite and PostgreSQL); only 127.0.0.1 of the private
    addresses is reachable; a small total timeout bounds the trickle; a 1 MB body cap."""
    return settings.model_copy(
        update={
            "allow_private_feeds": False,
            "feed_allow_networks": "127.0.0.1/32",
            "feed_connect_timeout": 2.0,
            "feed_read_timeout": 2.0,  # longer than the trickle's 1 s gaps: only the total timeout stops it
            "feed_total_timeout": 4.0,
            "feed_max_bytes": 1_000_000,
            "feed_host_min_gap": 0.0,
            "feed_host_concurrency": 32,
        }
    )
