"""tag_article: the whole tagging step as one pure function of the article and a compiled Tagger.

matcher (names, people, products) + tickers -> salience -> about / mentioned; people; facts (when the
fact extractor is installed). No database, clock or network.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from evwire.tag import salience
from evwire.tag.catalog import Catalog
from evwire.tag.matcher import Matcher
from evwire.tag.tickers import TickerHit, TickerIndex
from evwire.tag.types import CompanyTag, FactTag, Match, PersonTag, Tagging, TagInput, TickerTag

SEP = "\n\n"  # between title, bullets, caption and body: a paragraph break, so no name spans two parts


def _load_fact_extractor() -> Callable[..., Any] | None:
    # facts.py is written separately and may not exist yet; tagging must work without it.
    try:
        module = importlib.import_module("evwire.tag.facts")
    except ImportError:
        return None
    return getattr(module, "extract_facts", None)


def compose(doc: TagInput) -> tuple[str, salience.Sections]:
    """The article as one text for a single matcher pass, and where each part lies in it."""
    parts = [doc.title]
    pos = len(doc.title) + len(SEP)
    bullet_spans = []
    for b in doc.bullets:
        bullet_spans.append((pos, pos + len(b)))
        parts.append(b)
        pos += len(b) + len(SEP)
    bullets_end = pos
    if doc.caption:
        parts.append(doc.caption)
        pos += len(doc.caption) + len(SEP)
    body_start = pos
    parts.append(doc.body)
    text = SEP.join(parts)
    lead_cut = doc.body.find(SEP)
    lead_end = body_start + (lead_cut if lead_cut >= 0 else len(doc.body))
    return text, salience.Sections(
        title_end=len(doc.title),
        bullets_end=bullets_end,
        body_start=body_start,
        lead_end=lead_end,
        end=len(text),
        n_bullets=len(doc.bullets),
        bullet_spans=tuple(bullet_spans),
    )


class Tagger:
    """Built once per Catalog (compiles the matcher); immutable; swap it whole on catalog change."""

    def __init__(self, catalog: Catalog, backend: str = "auto") -> None:
        self.catalog = catalog
        self.matcher = Matcher(catalog, backend=backend)
        self.tickers = TickerIndex(catalog)
        self._names = {c.slug: c.name for c in catalog}
        self._people = {p.name.lower(): (p.name, c.slug) for c in catalog for p in c.people}
        self._extract_facts = _load_fact_extractor()

    def _scan(self, text: str) -> tuple[list[Match], list[TickerHit]]:
        ticks = self.tickers.find(text)
        support = frozenset(t.company for t in ticks if t.company)
        return self.matcher.find(text, support), ticks

    def find(self, text: str) -> list[Match]:
        """Every counted company mention in ``text`` (names, aliases, people, products and linked
        tickers) with character offsets, in order."""
        matches, ticks = self._scan(text)
        matches += [
            Match(t.start, t.end, t.company, "ticker", text[t.start : t.end]) for t in ticks if t.company
        ]
        return sorted(matches, key=lambda m: m.start)

    def features(self, doc: TagInput) -> tuple[dict[str, dict[str, float]], list[Match], list[TickerHit]]:
        """Salience features per company (exposed for fitting and debugging the weights)."""
        text, sec = compose(doc)
        matches, ticks = self._scan(text)
        hits = [(m.slug, m.start, m.kind) for m in matches]
        hits += [(t.company, t.start, "ticker") for t in ticks if t.company]
        return salience.features(hits, sec), matches, ticks

    def tag(self, doc: TagInput) -> Tagging:
        feats, matches, ticks = self.features(doc)
        scores = {slug: salience.score(f) for slug, f in feats.items()}
        about, mentioned = salience.decide(scores)
        people: dict[str, PersonTag] = {}
        for m in matches:
            if m.kind == "person":
                known = self._people.get(m.text.lower())
                if known and known[0] not in people:
                    people[known[0]] = PersonTag(known[0], known[1])
        facts: tuple[FactTag, ...] = ()
        if self._extract_facts is not None:
            facts = tuple(self._extract_facts(doc, self, about))
        return Tagging(
            about=tuple(CompanyTag(s, self._names[s], scores[s], "about") for s in about),
            mentioned=tuple(CompanyTag(s, self._names[s], scores[s], "mentioned") for s in mentioned),
            tickers=tuple(TickerTag(t.exchange, t.symbol, t.company) for t in ticks),
            people=tuple(people.values()),
            facts=facts,
        )


def tag_article(doc: TagInput, tagger: Tagger) -> Tagging:
    return tagger.tag(doc)
