"""Server-side rendering with vl-convert: PNG of the stated size (IHDR), SVG of the stated size."""

from __future__ import annotations

import re

import pytest

from evwire.charts.render import png_size, to_png, to_svg
from evwire.charts.spec import yoy_series, yoy_spec
from tests.charts.helpers import shown

FIGS = [shown("2024-04", 7058), shown("2024-05", 8646), shown("2025-04", 28000), shown("2025-05", 28000)]


def _spec(width: int, height: int) -> dict:  # type: ignore[type-arg]
    s = yoy_series(FIGS, company="xiaomi", company_name="Xiaomi", metric="deliveries")
    assert s is not None
    return yoy_spec(s, width=width, height=height)


@pytest.mark.parametrize(("width", "height", "scale"), [(800, 400, 1.0), (640, 320, 2.0)])
def test_render_png_is_a_png_of_the_stated_size(width: int, height: int, scale: float) -> None:
    data = to_png(_spec(width, height), scale=scale)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    assert png_size(data) == (int(width * scale), int(height * scale))


def test_render_svg_has_the_stated_size() -> None:
    svg = to_svg(_spec(700, 300))
    assert svg.lstrip().startswith("<svg")
    assert re.search(r'<svg[^>]*\bwidth="700"', svg) and re.search(r'<svg[^>]*\bheight="300"', svg)


def test_render_png_size_rejects_other_bytes() -> None:
    with pytest.raises(ValueError):
        png_size(b"GIF89a" + b"\0" * 30)
