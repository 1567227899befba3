"""The entity catalog: companies with aliases, tickers, people and products.

Loaded from one editable YAML file (``evwire/data/catalog.yaml`` by default), validated on
load, immutable afterwards. A changed catalog is a new ``Catalog`` object, swapped whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from evwire.errors import CatalogError

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TICKER_RE = re.compile(r"^[A-Z]+:[A-Z0-9.&\- ]+$")  # & for NSE:M&M
KINDS = {
    "carmaker",
    "ev-brand",
    "battery",
    "chips-autonomy",
    "tech",
    "supplier",
    "mobility",
    "charging",
    "other",
}


@dataclass(frozen=True)
class Ticker:
    exchange: str  # as commonly printed: NASDAQ, NYSE, HKG, OTCMKTS, SHA, SHE, ETR, TYO, KRX, EPA, STO ...
    symbol: str

    def __str__(self) -> str:
        return f"{self.exchange}:{self.symbol}"


@dataclass(frozen=True)
class Person:
    name: str
    role: str


@dataclass(frozen=True)
class Company:
    slug: str
    name: str
    kind: str = "carmaker"
    country: str | None = None
    aliases: tuple[str, ...] = ()
    # Aliases that are also ordinary words ("Smart", "Lucid", "Leaf"): they count only when
    # capitalised and in a car/industry context. See tag.matcher for the rule.
    ambiguous: tuple[str, ...] = ()
    tickers: tuple[Ticker, ...] = ()
    people: tuple[Person, ...] = ()
    products: tuple[str, ...] = ()
    parent: str | None = None
    website: str | None = None

    def all_names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Catalog:
    companies: tuple[Company, ...]
    _by_slug: dict[str, Company] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_slug.update({c.slug: c for c in self.companies})

    def get(self, slug: str) -> Company | None:
        return self._by_slug.get(slug)

    def __getitem__(self, slug: str) -> Company:
        return self._by_slug[slug]

    def __len__(self) -> int:
        return len(self.companies)

    def __iter__(self):
        return iter(self.companies)


def default_catalog_path() -> Path:
    return Path(str(resources.files("evwire") / "data" / "catalog.yaml"))


def _parse_ticker(raw: str, where: str) -> Ticker:
    text = str(raw).strip()
    if not TICKER_RE.match(text):
        raise CatalogError(
            f"{where}: ticker {raw!r} must look like EXCHANGE:SYMBOL, e.g. NASDAQ:TSLA or HKG:1810"
        )
    exchange, _, symbol = text.partition(":")
    return Ticker(exchange, symbol.strip())


def _str_list(entry: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise CatalogError(f"{where}: {key} must be a list of strings")
    return tuple(str(v).strip() for v in value if str(v).strip())


def company_from_dict(entry: Any, index: int) -> Company:
    if not isinstance(entry, dict):
        raise CatalogError(f"company #{index + 1}: expected a mapping with slug and name")
    slug = str(entry.get("slug", "")).strip()
    where = f"company #{index + 1} ({slug or 'no slug'})"
    if not SLUG_RE.match(slug):
        raise CatalogError(f"{where}: slug must be lower-case letters, digits and dashes")
    name = str(entry.get("name", "")).strip()
    if not name:
        raise CatalogError(f"{where}: name is missing")
    kind = str(entry.get("kind", "carmaker"))
    if kind not in KINDS:
        raise CatalogError(f"{where}: kind {kind!r} is not one of {', '.join(sorted(KINDS))}")
    people_raw = entry.get("people") or []
    if not isinstance(people_raw, list):
        raise CatalogError(f"{where}: people must be a list of {{name, role}}")
    people = []
    for p in people_raw:
        if not isinstance(p, dict) or not p.get("name"):
            raise CatalogError(f"{where}: each person needs a name (and a role)")
        extra = sorted(str(k) for k in p if k not in ("name", "role"))
        if extra:
            # e.g. {name: X, role: founder, chairman} in flow style makes "chairman" a key
            raise CatalogError(
                f"{where}: person {p['name']!r} has unknown field(s) {', '.join(map(repr, extra))}; a person "
                "has only name and role (quote a role that contains a comma or a colon)"
            )
        people.append(Person(str(p["name"]).strip(), str(p.get("role", "")).strip()))
    aliases = _str_list(entry, "aliases", where)
    ambiguous = _str_list(entry, "ambiguous", where)
    for word in ambiguous:
        if word not in (name, *aliases):
            raise CatalogError(f"{where}: ambiguous name {word!r} is not the name or one of the aliases")
    return Company(
        slug=slug,
        name=name,
        kind=kind,
        country=(str(entry["country"]) if entry.get("country") else None),
        aliases=aliases,
        ambiguous=ambiguous,
        tickers=tuple(_parse_ticker(t, where) for t in _str_list(entry, "tickers", where)),
        people=tuple(people),
        products=_str_list(entry, "products", where),
        parent=(str(entry["parent"]).strip() if entry.get("parent") else None),
        website=(str(entry["website"]).strip() if entry.get("website") else None),
    )


def catalog_from_data(data: Any) -> Catalog:
    """Build and validate a catalog from parsed YAML; raises CatalogError listing the first problem."""
    if not isinstance(data, dict) or not isinstance(data.get("companies"), list):
        raise CatalogError("catalog: expected a top-level 'companies:' list")
    companies = [company_from_dict(e, i) for i, e in enumerate(data["companies"])]
    seen: dict[str, int] = {}
    for i, c in enumerate(companies):
        if c.slug in seen:
            raise CatalogError(f"company #{i + 1}: slug {c.slug!r} is used twice (also #{seen[c.slug] + 1})")
        seen[c.slug] = i
    for c in companies:
        if c.parent and c.parent not in seen:
            raise CatalogError(f"company {c.slug}: parent {c.parent!r} is not a slug in the catalog")
    return Catalog(tuple(companies))


def load_catalog(path: Path | None = None) -> Catalog:
    path = path or default_catalog_path()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"cannot read catalog {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise CatalogError(f"catalog {path} is not UTF-8 text") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogError(f"catalog {path} is not valid YAML: {exc}") from exc
    return catalog_from_data(data)


def company_to_dict(c: Company) -> dict[str, Any]:
    out: dict[str, Any] = {"slug": c.slug, "name": c.name, "kind": c.kind}
    if c.country:
        out["country"] = c.country
    if c.parent:
        out["parent"] = c.parent
    if c.aliases:
        out["aliases"] = list(c.aliases)
    if c.ambiguous:
        out["ambiguous"] = list(c.ambiguous)
    if c.tickers:
        out["tickers"] = [str(t) for t in c.tickers]
    if c.people:
        out["people"] = [{"name": p.name, "role": p.role} for p in c.people]
    if c.products:
        out["products"] = list(c.products)
    if c.website:
        out["website"] = c.website
    return out


def dump_catalog(catalog: Catalog) -> str:
    data = {"companies": [company_to_dict(c) for c in catalog.companies]}
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110)
