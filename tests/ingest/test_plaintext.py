from __future__ import annotations

from datetime import UTC, datetime

import pytest

from evwire.errors import IngestError
from evwire.ingest.plaintext import parse_plain_text
from tests.conftest import SAMPLE_ARTICLE


def test_plaintext_parses_the_sample_article() -> None:
    parsed = parse_plain_text(SAMPLE_ARTICLE.read_text(encoding="utf-8"))
    assert parsed.title == "Ford, Xiaomi has explored joint venture to produce EVs in US, report says"
    assert len(parsed.bullets) == 2
    assert parsed.bullets[0].startswith("Ford has also held talks with BYD")
    assert parsed.bullets[1].startswith("Ford CEO Jim Farley is a supporter of Xiaomi EVs")
    assert parsed.image_caption == "A Xiaomi SU7 displayed at the Shanghai auto show in April 2025."
    assert parsed.image_credit == "CnEVPost"
    assert parsed.published_at == datetime(2026, 1, 8, tzinfo=UTC)
    assert parsed.body.startswith("US auto giant Ford has reportedly held talks with Xiaomi")
    assert "News Alert" not in parsed.body and "View more channels" not in parsed.body


def test_plaintext_front_matter_gives_url_source_and_date() -> None:
    text = "---\nurl: https://example.org/x\nsource: Example\npublished: 2025-03-01\n---\nTitle\n\nBody text."
    parsed = parse_plain_text(text)
    assert (parsed.url, parsed.source_name, parsed.published_at) == (
        "https://example.org/x",
        "Example",
        datetime(2025, 3, 1, tzinfo=UTC),
    )
    assert (parsed.title, parsed.body) == ("Title", "Body text.")


@pytest.mark.parametrize("text", ["", "   \n\n", "Only a headline\n"])
def test_plaintext_without_an_article_is_an_ingest_error(text: str) -> None:
    with pytest.raises(IngestError):
        parse_plain_text(text)
