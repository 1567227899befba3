from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from evwire.errors import IngestError
from evwire.ingest.files import looks_like_html, read_article_bytes, read_article_source
from tests.conftest import SAMPLE_ARTICLE

LIMIT = 5_000_000

PAGE = """<!doctype html>
<html><head><meta charset="{charset}"><title>Site name | ignored</title>
<meta property="og:title" content="BYD sold 4.27 million NEVs in 2024">
<meta property="og:url" content="https://example.org/byd-2024">
<meta property="og:image" content="https://example.org/byd.jpg">
<meta property="og:site_name" content="Example News">
<link rel="canonical" href="https://example.org/byd-2024?ref=canonical">
<meta property="article:published_time" content="2025-01-01T10:00:00+08:00">
<script>window.steal = document.cookie;</script>
</head><body><nav>Home | Markets | About us</nav>
<article><h1>BYD sold 4.27 million NEVs in 2024</h1>
<ul><li>Sales rose about 41% from 2023.</li><li>Overseas sales grew strongly.</li></ul>
<p>BYD (HKG: 1211) sold 4,272,145 new energy vehicles in 2024, the company said, a record for the
Chinese carmaker {accent} and well ahead of its rivals in the home market.</p>
<script>document.write('<p>injected by script</p>'); alert('xss');</script>
<p>The total was about 41 percent more than a year earlier. Plug-in hybrids made up the larger
share of its passenger car sales, and battery electric cars the rest.</p>
</article><footer>Copyright Example News</footer></body></html>
"""


def test_files_html_page_gives_text_and_metadata_without_scripts() -> None:
    parsed = read_article_bytes(
        PAGE.format(charset="utf-8", accent="é").encode(), name="byd.html", max_bytes=LIMIT
    )
    assert parsed.title == "BYD sold 4.27 million NEVs in 2024"
    assert parsed.bullets == ("Sales rose about 41% from 2023.", "Overseas sales grew strongly.")
    assert parsed.body.startswith("BYD (HKG: 1211) sold 4,272,145")
    assert "é" in parsed.body
    for bad in ("<script", "alert", "document.cookie", "injected by script", "<p>"):
        assert bad not in parsed.body and bad not in parsed.title
    assert parsed.url == "https://example.org/byd-2024?ref=canonical"
    assert parsed.image_url == "https://example.org/byd.jpg"
    assert parsed.source_name == "Example News"
    assert parsed.published_at == datetime(2025, 1, 1, 2, 0, tzinfo=UTC)


def test_files_html_in_a_declared_charset_is_decoded() -> None:
    data = PAGE.format(charset="iso-8859-1", accent="é").encode("iso-8859-1")
    parsed = read_article_bytes(data, name=None, max_bytes=LIMIT)
    assert "carmaker é and" in parsed.body


def test_files_sniffs_html_and_plain_text() -> None:
    assert looks_like_html(b"  <!DOCTYPE html><html>")
    assert looks_like_html(b"anything", "page.HTM")
    assert not looks_like_html(SAMPLE_ARTICLE.read_bytes())
    assert not looks_like_html(b"---\nurl: x\n---\nTitle\n\n<b>bold</b> words")


def test_files_plain_text_sample_and_url_override() -> None:
    parsed = read_article_bytes(
        SAMPLE_ARTICLE.read_bytes(), name="sample.txt", max_bytes=LIMIT, url="https://example.org/s"
    )
    assert parsed.title.startswith("Ford, Xiaomi") and parsed.url == "https://example.org/s"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b" \n\t\n", "is empty"),
        (b"Title\n\nBody \xff\xfe text in Latin-1 \xe9t\xe9", "not UTF-8 text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "NUL bytes"),
        (b"<html><body></body></html>", "no article text"),
    ],
)
def test_files_bad_input_is_a_clear_ingest_error(data: bytes, message: str) -> None:
    with pytest.raises(IngestError, match=message):
        read_article_bytes(data, name="bad.txt", max_bytes=LIMIT)


def test_files_over_the_size_limit_says_the_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"Title\n\n" + b"word " * 4_000_000)  # 20 MB
    with pytest.raises(IngestError, match=r"big.txt is 20.0 MB; the limit is 5.0 MB"):
        read_article_source(str(big), max_bytes=LIMIT)
    with pytest.raises(IngestError, match="more than 5.0 MB"):
        read_article_source("-", max_bytes=LIMIT, stdin=io.BytesIO(big.read_bytes()))
    with pytest.raises(IngestError, match="the limit is 1 KB"):
        read_article_bytes(b"x" * 2000, name="b.txt", max_bytes=1000)


def test_files_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="cannot read"):
        read_article_source(str(tmp_path / "nope.txt"), max_bytes=LIMIT)
    with pytest.raises(IngestError, match="folder"):
        read_article_source(str(tmp_path), max_bytes=LIMIT)
