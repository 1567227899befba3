"""A real HTTP server on 127.0.0.1 (port 0) that serves tests/data/feeds/ and misbehaves on purpose.

Routes (GET):
  /feeds/<case>/<file>     the fixture, with ETag and Last-Modified; 304 on a matching conditional GET
  /gzip/<case>/<file>      the same, gzip-encoded; /br/... brotli-encoded
  /status/<code>?retry=X   that status, with Retry-After: X (seconds, or "date" for an HTTP date 120 s ahead)
  /slow-headers            waits 2 s before answering; /slow-body sends headers, then stalls
  /reset                   closes the connection without an answer (RST)
  /big?cl=1                a body larger than the test's cap (cl=1: announced by Content-Length)
  /charset/<case>?ct=...   fixture bytes with the given Content-Type
  /invalid, /html-page     broken XML, an HTML page
  /loop/a, /loop/b         302 to each other; /moved 301 to /feeds/rss2/feed.xml; /hop/<n> n redirects
  /moved-far               301 to a 2,100-character address of that feed
  /to-private              302 to http://10.255.255.1/feed (a private address; never connected to)
  /changing                an RSS feed whose item changes title (and ETag) from the second request on
  /hub-link                the Atom fixture with a Link: rel=hub header
The server counts requests per path and conditional requests in ``server.hits`` / ``server.conditional``.
"""

from __future__ import annotations

import gzip
import hashlib
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import brotli
import pytest

from evwire.settings import Settings

DATA = Path(__file__).resolve().parents[2] / "data" / "feeds"
LAST_MODIFIED = "Thu, 08 Jan 2026 10:00:00 GMT"
CHANGING = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Changing</title><link>https://changing.example/</link>
<item><title>{title}</title><link>https://changing.example/a</link><guid>changing-a</guid>
<pubDate>Wed, 07 Jan 2026 10:00:00 GMT</pubDate><description>{text}</description></item>
</channel></rss>"""


class FeedServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.hits: Counter[str] = Counter()
        self.conditional: Counter[str] = Counter()
        self.bytes_sent: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.bomb = gzip.compress(b"<rss>" + b" " * 50_000_000 + b"</rss>", compresslevel=1)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hang up on purpose in these tests (caps, timeouts)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FeedServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        headers = dict(headers or {})
        headers.setdefault("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if body and status != 304:
            self.wfile.write(body)
            self.server.bytes_sent[urlsplit(self.path).path] += len(body)

    def _serve_fixture(
        self, rel: str, *, encoding: str | None = None, extra: dict[str, str] | None = None
    ) -> None:
        path = (DATA / rel).resolve()
        if DATA not in path.parents or not path.is_file():
            self._send(404, b"not found")
            return
        body = path.read_bytes()
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        headers = {"ETag": etag, "Last-Modified": LAST_MODIFIED, **(extra or {})}
        headers.setdefault(
            "Content-Type", "application/json" if rel.endswith(".json") else "application/rss+xml"
        )
        if (
            self.headers.get("If-None-Match") == etag
            or self.headers.get("If-Modified-Since") == LAST_MODIFIED
        ):
            self._send(304, b"", {"ETag": etag, "Content-Length": "0"})
            return
        if encoding == "gzip":
            body, headers["Content-Encoding"] = gzip.compress(body), "gzip"
        elif encoding == "br":
            body, headers["Content-Encoding"] = brotli.compress(body), "br"
        self._send(200, body, headers)

    def do_GET(self) -> None:  # noqa: C901 - a routing table
        parts = urlsplit(self.path)
        path, query = parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self.server.lock:
            self.server.hits[path] += 1
            if self.headers.get("If-None-Match") or self.headers.get("If-Modified-Since"):
                self.server.conditional[path] += 1
            count = self.server.hits[path]
        if path.startswith("/feeds/"):
            self._serve_fixture(path[len("/feeds/") :])
        elif path.startswith("/gzip/"):
            self._serve_fixture(path[len("/gzip/") :], encoding="gzip")
        elif path.startswith("/br/"):
            self._serve_fixture(path[len("/br/") :], encoding="br")
        elif path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            retry = query.get("retry")
            headers = {}
            if retry == "date":
                headers["Retry-After"] = formatdate(time.time() + 120, usegmt=True)
            elif retry:
                headers["Retry-After"] = retry
            self._send(code, f"status {code}".encode(), headers)
        elif path == "/slow-headers":
            time.sleep(2)
            self._send(200, (DATA / "rss2" / "feed.xml").read_bytes())
        elif path == "/slow-body":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"<?xml version='1.0'?><rss version='2.0'><channel>")
            self.wfile.flush()
            time.sleep(2)
        elif path == "/reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif path == "/big":
            chunk = b"<!-- " + b"x" * 65000 + b" -->\n"
            total = 20 * len(chunk)  # ~1.3 MB; the tests cap at 200 kB
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            if query.get("cl"):
                self.send_header("Content-Length", str(total))
            else:
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for _ in range(20):
                    if query.get("cl"):
                        self.wfile.write(chunk)
                    else:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.server.bytes_sent[path] += len(chunk)
                    self.wfile.flush()
                    time.sleep(0.01)
                if not query.get("cl"):
                    self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
        elif path.startswith("/charset/"):
            case = path.rsplit("/", 1)[1]
            ctype = query.get("ct", "application/rss+xml")
            self._send(200, (DATA / case / "feed.xml").read_bytes(), {"Content-Type": ctype})
        elif path == "/invalid":
            self._send(200, b"<?xml version='1.0'?>\n<rss version='2.0'><channel><title>Broken</ti", {})
        elif path == "/html-page":
            self._send(200, b"<!doctype html><html><head><title>Site</title></head><body>hi</body></html>",
                       {"Content-Type": "text/html"})  # fmt: skip
        elif path in ("/loop/a", "/loop/b"):
            self._send(302, b"", {"Location": "/loop/b" if path == "/loop/a" else "/loop/a"})
        elif path == "/moved":
            self._send(301, b"", {"Location": "/feeds/rss2/feed.xml"})
        elif path == "/moved-far":  # to an address longer than evwire stores (2000 characters)
            self._send(301, b"", {"Location": "/feeds/rss2/feed.xml?pad=" + "p" * 2100})
        elif path.startswith("/hop/"):
            n = int(path.rsplit("/", 1)[1])
            self._send(302, b"", {"Location": f"/hop/{n - 1}" if n > 0 else "/feeds/rss1/feed.xml"})
        elif path == "/bomb":
            self._send(
                200, self.server.bomb, {"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"}
            )
        elif path == "/to-private":
            self._send(302, b"", {"Location": "http://10.255.255.1/feed"})
        elif path == "/to-loopback-name":
            self._send(
                302,
                b"",
                {"Location": f"http://localhost:{self.server.server_address[1]}/feeds/rss1/feed.xml"},
            )
        elif path == "/changing":
            edited = count >= 2
            title = "Xpeng G7 launch date set (updated)" if edited else "Xpeng G7 launch date set"
            text = (
                "Xpeng will launch the G7 on July 3, the company said." if edited else "Xpeng sets G7 launch."
            )
            body = CHANGING.format(title=title, text=text).encode()
            etag = '"v2"' if edited else '"v1"'
            if self.headers.get("If-None-Match") == etag:
                self._send(304, b"", {"ETag": etag})
            else:
                self._send(200, body, {"ETag": etag, "Content-Type": "application/rss+xml"})
        elif path == "/hub-link":
            link = '<https://hub.example/>; rel="hub", <https://atom.example/feed.atom>; rel="self"'
            self._serve_fixture("atom/feed.xml", extra={"Link": link})
        else:
            self._send(404, b"no such fixture")


@pytest.fixture(scope="session")
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def feed_settings(tmp_path: Path) -> Settings:
    """Settings for fetching from the local server: private addresses allowed, short timeouts, small cap."""
    return Settings(
        data_dir=tmp_path / "data",
        base_url="https://evwire.test",
        allow_private_feeds=True,
        feed_connect_timeout=1.0,
        feed_read_timeout=0.5,
        feed_total_timeout=5.0,
        feed_max_bytes=200_000,
        feed_host_min_gap=0.0,
        feed_max_redirects=5,
    )
