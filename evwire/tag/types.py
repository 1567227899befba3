"""Plain result types of tagging, shared by the CLI contract, the store and the web."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

Role = Literal["about", "mentioned"]


@dataclass(frozen=True)
class TagInput:
    """What the tagger reads: the article's parts, already separated by ingest."""

    title: str
    bullets: tuple[str, ...] = ()
    body: str = ""
    caption: str = ""
    published: date | None = None


@dataclass(frozen=True)
class Match:
    """One catalog hit in a text: character offsets into the text the matcher was given."""

    start: int
    end: int
    slug: str  # the company the hit points to
    kind: Literal["name", "alias", "person", "product", "ticker"]
    text: str  # the matched text as written


@dataclass(frozen=True)
class CompanyTag:
    slug: str
    name: str
    score: float
    role: Role

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "slug": self.slug, "score": round(self.score, 3)}


@dataclass(frozen=True)
class TickerTag:
    exchange: str
    symbol: str
    company: str | None  # slug, None when the catalog does not know the listing

    def to_json(self) -> dict[str, Any]:
        return {"exchange": self.exchange, "symbol": self.symbol, "company": self.company}


@dataclass(frozen=True)
class PersonTag:
    name: str
    company: str  # slug

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "company": self.company}


@dataclass(frozen=True)
class FactTag:
    company: str  # slug
    period: str  # YYYY, YYYY-MM or YYYY-Qn
    metric: str  # deliveries, sales, production, orders
    kind: str  # actual, target, guidance
    value: int
    lower_bound: bool = False
    scope: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "company": self.company,
            "period": self.period,
            "metric": self.metric,
            "kind": self.kind,
            "value": self.value,
            "lower_bound": self.lower_bound,
        }
        if self.scope:
            out["scope"] = self.scope
        return out


@dataclass(frozen=True)
class Tagging:
    about: tuple[CompanyTag, ...] = ()
    mentioned: tuple[CompanyTag, ...] = ()
    tickers: tuple[TickerTag, ...] = ()
    people: tuple[PersonTag, ...] = ()
    facts: tuple[FactTag, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """The stable `evwire tag --json` contract."""
        return {
            "about": [c.to_json() for c in self.about],
            "mentioned": [c.to_json() for c in self.mentioned],
            "tickers": [t.to_json() for t in self.tickers],
            "people": [p.to_json() for p in self.people],
            "facts": [f.to_json() for f in self.facts],
        }
