"""tag_article: the whole tagging step as one pure function (placeholder until the matcher lands)."""

from __future__ import annotations

from evwire.tag.catalog import Catalog
from evwire.tag.types import TagInput, Tagging


class Tagger:
    """Built once per Catalog (compiles the matcher); immutable; swap it whole on catalog change."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def tag(self, doc: TagInput) -> Tagging:
        return Tagging()


def tag_article(doc: TagInput, tagger: Tagger) -> Tagging:
    return tagger.tag(doc)
