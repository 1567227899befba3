"""Reading a feed's body: capped, decompressed in bounded pieces (no decompression bombs), or drained.

``_read_capped`` reads a 2xx body up to ``EVWIRE_FEED_MAX_BYTES`` after Content-Encoding decoding;
``_drain`` reads a small unwanted body (304, errors) to its end so the connection can be reused.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import brotli
import httpx

from evwire.errors import IngestError
from evwire.ingest.client import AnyResponse

CHUNK = 64 * 1024
DRAIN_LIMIT = 64 * 1024  # error and 304 bodies read to their end to keep the connection


class BodyTooLarge(IngestError):
    pass


class _Decoder:
    """Content-Encoding decoding whose output is produced in bounded pieces (no decompression bombs)."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._brotli: Any = None
        self._zlib: Any = None
        if encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._zlib = zlib.decompressobj(wbits=zlib.MAX_WBITS)
            self._deflate_first = True
        elif encoding == "br":
            self._brotli = brotli.Decompressor()
        elif encoding not in ("", "identity"):
            raise IngestError(f"the server sent the feed with an unknown Content-Encoding {encoding!r}")

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._brotli is not None:
            out = self._brotli.process(data, output_buffer_limit=CHUNK)
            yield out
            while not self._brotli.can_accept_more_data():
                out = self._brotli.process(b"", output_buffer_limit=CHUNK)
                if not out:
                    break
                yield out
            return
        if self._zlib is None:
            yield data
            return
        while data:
            try:
                out = self._zlib.decompress(data, CHUNK)
            except zlib.error:
                if self.encoding == "deflate" and getattr(self, "_deflate_first", False):
                    self._zlib = zlib.decompressobj(wbits=-zlib.MAX_WBITS)  # raw deflate
                    self._deflate_first = False
                    continue
                raise
            self._deflate_first = False
            yield out
            if self._zlib.eof and self._zlib.unused_data and self.encoding != "deflate":
                data = self._zlib.unused_data  # another gzip member
                self._zlib = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            else:
                data = self._zlib.unconsumed_tail


async def _read_capped(response: AnyResponse, cap: int) -> bytes:
    header = response.headers.get("content-encoding") or ""
    encodings = [e.strip().lower() for e in header.split(",") if e.strip()]
    if len(encodings) > 1:
        raise IngestError(f"the server stacked Content-Encodings {encodings}; evwire reads only one")
    decoder = _Decoder(encodings[0] if encodings else "")
    length = response.headers.get("content-length")
    if not encodings and length and length.isdigit() and int(length) > cap:
        raise BodyTooLarge(_too_large(cap, int(length)))
    parts: list[bytes] = []
    total = 0
    try:
        async for raw in response.aiter_raw(CHUNK):
            for piece in decoder.feed(raw):
                total += len(piece)
                if total > cap:
                    raise BodyTooLarge(_too_large(cap, None))
                parts.append(piece)
    except (zlib.error, brotli.error) as exc:
        raise IngestError(
            f"the feed's {encodings[0]} compression is corrupt ({exc}); the server sent a broken response"
        ) from exc
    return b"".join(parts)


def _too_large(cap: int, announced: int | None) -> str:
    size = f" (it announces {announced / 1e6:.1f} MB)" if announced else ""
    return (
        f"the feed is larger than the {cap / 1e6:g} MB limit{size}; evwire stopped reading it. "
        "Ask the site for a shorter feed, or raise EVWIRE_FEED_MAX_BYTES"
    )


async def _drain(response: AnyResponse, limit: int = DRAIN_LIMIT) -> None:
    """Read a small unwanted body to its end so the keep-alive connection can be reused; give up
    (the connection is then closed, not reused) past ``limit`` bytes."""
    length = response.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        return
    seen = 0
    try:
        async for raw in response.aiter_raw(CHUNK):
            seen += len(raw)
            if seen > limit:
                return
    except httpx.HTTPError:
        return
