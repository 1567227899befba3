"""A fast local feed server for bench/polling.py: a raw asyncio HTTP/1.1 keep-alive server on many
loopback addresses (127.0.0.x), run in its own process so it does not share the poller's core.

Feed ``/f/<i>`` has a version; its ETag is ``"<i>-<version>"``. A conditional GET with the current
ETag gets 304; otherwise 200 with a 20-item RSS 2.0 document whose items slide with the version
(version v shows items v*2 … v*2+19: each new version adds two items and drops two).
``POST /bump?ids=1,2,3`` moves those feeds to their next version. ``latency`` (seconds, default 0)
delays every reply, to stand in for a network round trip (bench/polling.py --latency).
"""

from __future__ import annotations

import asyncio
import html
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

ITEMS = 20
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "articles.jsonl"

# Items dated yesterday: new enough to be matched against alerts, as fresh news is, so the stored-items
# figure includes alert matching.
YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).strftime("%a, %d %b %Y")


def corpus_rows() -> list[dict]:
    if CORPUS.exists():
        rows = [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]
        if rows:
            return rows
    return [{"id": "x", "title": "EV news", "text": "Title\n\nXiaomi delivered cars.\n\nMore text."}]


class FeedStore:
    def __init__(self) -> None:
        self.rows = corpus_rows()
        self.versions: dict[int, int] = {}
        self.cache: dict[tuple[int, int], bytes] = {}
        self.count_200 = 0
        self.count_304 = 0

    def body(self, i: int, v: int) -> bytes:
        key = (i, v)
        if key not in self.cache:
            self.cache[key] = self._render(i, v)
            if len(self.cache) > 20000:
                self.cache.clear()
        return self.cache[key]

    def _render(self, i: int, v: int) -> bytes:
        items = []
        for n in range(v * 2 + ITEMS - 1, v * 2 - 1, -1):
            row = self.rows[(i * 7 + n) % len(self.rows)]
            paras = [p for p in row["text"].split("\n\n")[1:] if p.strip()][:6]
            body = f"<p>Report {i}-{n} from feed {i}.</p>" + "".join(
                f"<p>{html.escape(p)}</p>" for p in paras
            )
            hour = n % 24
            items.append(
                f"<item><title>{html.escape(row['title'])} ({i}-{n})</title>"
                f"<link>https://feed{i}.bench.example/{n}</link><guid>bench-{i}-{n}</guid>"
                f"<pubDate>{YESTERDAY} {hour:02d}:00:00 GMT</pubDate>"
                f"<content:encoded><![CDATA[{body}]]></content:encoded></item>"
            )
        return (
            "<?xml version='1.0' encoding='utf-8'?><rss version='2.0' "
            "xmlns:content='http://purl.org/rss/1.0/modules/content/'><channel>"
            f"<title>Bench feed {i}</title><link>https://feed{i}.bench.example/</link>"
            f"{''.join(items)}</channel></rss>"
        ).encode()


class Conn(asyncio.Protocol):
    def __init__(self, store: FeedStore, latency: float = 0.0) -> None:
        self.store = store
        self.buf = b""
        self.latency = latency  # seconds added before each reply: a network's round trip

    def connection_made(self, transport) -> None:  # noqa: ANN001
        self.t = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while b"\r\n\r\n" in self.buf:
            head, self.buf = self.buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                k, _, val = line.partition(":")
                headers[k.strip().lower()] = val.strip()
            length = int(headers.get("content-length", "0") or 0)
            self.buf = self.buf[length:]
            reply = self.respond(method, target, headers)
            if self.latency > 0:  # same delay for every reply, so replies keep their order
                asyncio.get_running_loop().call_later(self.latency, self._send, reply)
            else:
                self.t.write(reply)

    def _send(self, reply: bytes) -> None:
        if not self.t.is_closing():
            self.t.write(reply)

    def respond(self, method: str, target: str, headers: dict[str, str]) -> bytes:
        store = self.store
        if method == "POST" and target.startswith("/bump?ids="):
            for part in target.split("=", 1)[1].split(","):
                if part:
                    store.versions[int(part)] = store.versions.get(int(part), 0) + 1
            return b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
        if method == "GET" and target == "/stats":
            body = json.dumps({"200": store.count_200, "304": store.count_304}).encode()
            return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        if not target.startswith("/f/"):
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        i = int(target[3:])
        v = store.versions.get(i, 0)
        etag = f'"{i}-{v}"'
        if headers.get("if-none-match") == etag:
            store.count_304 += 1
            return f"HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nContent-Length: 0\r\n\r\n".encode()
        store.count_200 += 1
        body = store.body(i, v)
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml; charset=utf-8\r\nETag: {etag}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body


def serve(addresses: list[str], port_queue, latency: float = 0.0) -> None:  # noqa: ANN001 - a mp queue
    async def main() -> None:
        store = FeedStore()
        loop = asyncio.get_running_loop()
        ports = []
        for addr in addresses:
            server = await loop.create_server(lambda: Conn(store, latency), addr, 0, backlog=1024)
            ports.append(server.sockets[0].getsockname()[1])
        port_queue.put(ports)
        await asyncio.Event().wait()

    asyncio.run(main())
