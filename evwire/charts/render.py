"""Vega-Lite spec -> SVG or PNG on the server, with vl-convert (no browser, no network).

The same Vega-Lite version is used here and in the vendored JavaScript (web/static/vendor), so a
chart looks the same in the page, in a download and in an email.
"""

from __future__ import annotations

import json
import struct
import threading
from functools import lru_cache
from typing import Any

import altair as alt
import vl_convert as vlc

_lock = threading.Lock()  # one conversion at a time: vl-convert keeps one JavaScript runtime


def vl_version() -> str:
    """The Vega-Lite version Altair writes specs for (e.g. 6.4), if vl-convert has it, else its newest."""
    wanted = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    versions = list(vlc.get_vegalite_versions())
    return wanted if wanted in versions else versions[-1]


@lru_cache(maxsize=256)
def _svg(spec_json: str) -> str:
    with _lock:
        return vlc.vegalite_to_svg(json.loads(spec_json), vl_version=vl_version())


@lru_cache(maxsize=64)
def _png(spec_json: str, scale: float) -> bytes:
    with _lock:
        return vlc.vegalite_to_png(json.loads(spec_json), vl_version=vl_version(), scale=scale)


def spec_key(spec: dict[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


def to_svg(spec: dict[str, Any]) -> str:
    """The chart as an SVG document (cached by spec)."""
    return _svg(spec_key(spec))


def to_png(spec: dict[str, Any], *, scale: float = 1.0) -> bytes:
    """The chart as a PNG; its size in pixels is the spec's width x height times `scale`."""
    return _png(spec_key(spec), scale)


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk; ValueError if `data` is not a PNG."""
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def javascript_bundle() -> str:
    """Vega, Vega-Lite and vega-embed in one script (sets window.vega, vegaLite, vegaEmbed); for vendoring."""
    return vlc.javascript_bundle(vl_version=vl_version())  # type: ignore[call-arg]  # snippet is optional
