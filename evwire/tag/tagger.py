"""tag_article: the whole tagging step as one pure function of the article and a compiled Tagger.

matcher (names, people, products) + tickers -> salience -> about / mentioned; people; facts (when the
fact extractor is installed). No database, clock or network.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from evwire.tag import salience
from evwire.tag.catalog import Catalog
from evwire.tag.matcher import Matcher
from evwire.tag.tickers import TickerHit, TickerIndex
from evwire.tag.types import CompanyTag, FactTag, Match, PersonTag, Tagging, TagInput, TickerTag

_first = itemgetter(0)


def _match(start: int, end: int, slug: str, kind: str, text: str) -> Match:
    """Match(...) at a quarter of the cost: a frozen dataclass's __init__ sets each field through
    object.__setattr__, which is most of Tagger.find's time; filling the instance dict is equivalent."""
    m = _new(Match)
    d = m.__dict__
    d["start"], d["end"], d["slug"], d["kind"], d["text"] = start, end, slug, kind, text
    return m


_new = object.__new__
if hasattr(Match, "__slots__") or hasattr(Match, "__post_init__"):  # then only the real constructor will do
    _match = Match  # type: ignore[assignment]  # noqa: F811
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

    def __init__(self, catalog: Catalog, backend: str = "auto", facts: bool = True) -> None:
        self.catalog = catalog
        self.matcher = Matcher(catalog, backend=backend)
        self.tickers = TickerIndex(catalog)
        self._names = {c.slug: c.name for c in catalog}
        # facts=False: companies, tickers and people only (the throughput benchmark measures that part)
        self._extract_facts = _load_fact_extractor() if facts else None

    def _scan(self, text: str) -> tuple[list[tuple[int, int, int]], list[TickerHit]]:
        ticks = self.tickers.find(text)
        support = frozenset(t.company for t in ticks if t.company)
        return self.matcher.hits(text, support), ticks

    def spans(self, text: str) -> list[tuple[int, int, str, str]]:
        """Every counted company mention in ``text`` as (start, end, slug, kind) tuples, in order: names,
        aliases, people, products and linked tickers. What ``find`` returns, without building objects."""
        ticks = self.tickers.find(text)
        slug, kind = self.matcher._slug, self.matcher._kind
        if not ticks:
            return [(s, e, slug[i], kind[i]) for i, s, e in self.matcher.hits(text)]
        support = frozenset(t.company for t in ticks if t.company)
        out = [(s, e, slug[i], kind[i]) for i, s, e in self.matcher.hits(text, support)]
        out += [(t.start, t.end, t.company, "ticker") for t in ticks if t.company]
        out.sort(key=_first)
        return out

    def find(self, text: str) -> list[Match]:
        """Every counted company mention in ``text`` (names, aliases, people, products and linked
        tickers) with character offsets, in order."""
        return [_match(s, e, slug, kind, text[s:e]) for s, e, slug, kind in self.spans(text)]

    def features(
        self, doc: TagInput
    ) -> tuple[dict[str, dict[str, float]], list[tuple[int, int, int]], list[TickerHit]]:
        """Salience features per company (exposed for fitting and debugging the weights)."""
        text, sec = compose(doc)
        hits, ticks = self._scan(text)
        slug, kind = self.matcher._slug, self.matcher._kind
        flat = [(slug[i], s, kind[i]) for i, s, _e in hits]
        flat += [(t.company, t.start, "ticker") for t in ticks if t.company]
        return salience.features(flat, sec), hits, ticks

    def tag(self, doc: TagInput) -> Tagging:
        feats, hits, ticks = self.features(doc)
        scores = {slug: salience.score(f) for slug, f in feats.items()}
        about, mentioned = salience.decide(scores)
        people: dict[str, PersonTag] = {}
        entries = self.matcher.entries
        for i, _s, _e in hits:
            ent = entries[i]
            if ent.kind == "person" and ent.text not in people:  # full names; a bare surname adds nobody
                people[ent.text] = PersonTag(ent.text, ent.slug)
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
