"""The article as ingest hands it to the store and the tagger."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

from evwire.tag.types import TagInput


@dataclass(frozen=True)
class ParsedArticle:
    title: str
    body: str
    bullets: tuple[str, ...] = ()
    url: str | None = None
    image_url: str | None = None
    image_caption: str | None = None
    image_credit: str | None = None
    published_at: datetime | None = None  # UTC; None means "when stored"
    source_name: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def content_hash(self) -> str:
        """Identity of the text, insensitive to whitespace and case, so a re-post is recognised."""
        norm = re.sub(r"\s+", " ", f"{self.title}\n{self.body}").strip().lower()
        return hashlib.sha256(norm.encode("utf-8")).hexdigest()

    def tag_input(self) -> TagInput:
        return TagInput(
            title=self.title,
            bullets=self.bullets,
            body=self.body,
            caption=self.image_caption or "",
            published=self.published_at.date() if self.published_at else None,
        )
