"""Companies (channels): the catalog mirrored into the database, and channel listings.

The catalog file is the source of truth; ``sync_catalog`` makes the ``companies`` table (with
tickers and people) match it. Functions take a Session and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session, selectinload

from evwire.store.tables import Company, CompanyPerson, CompanyTicker, Mention, MetaValue
from evwire.tag.catalog import Catalog
from evwire.tag.catalog import Company as CatalogCompany

CATALOG_HASH_KEY = "catalog_hash"


def _fields(c: CatalogCompany) -> dict[str, Any]:
    return {
        "name": c.name,
        "kind": c.kind,
        "country": c.country,
        "parent_slug": c.parent,
        "website": c.website,
        "aliases": list(c.aliases),
        "products": list(c.products),
    }


def _people(c: CatalogCompany) -> list[tuple[str, str]]:
    return [(p.name, p.role) for p in c.people]


def sync_catalog(session: Session, catalog: Catalog) -> dict[str, int]:
    """Make the companies table match the catalog, by slug.

    Companies no longer in the catalog are deleted (their automatic mentions go with them) unless an
    editor has tagged an article with them; those stay so the correction is not lost.
    Returns counts: added, updated, removed, kept (gone from the catalog but kept for editor mentions).
    """
    session.info.pop("company_ids", None)  # store.articles caches slug -> id per transaction
    existing = {
        c.slug: c
        for c in session.scalars(
            select(Company).options(selectinload(Company.tickers), selectinload(Company.people))
        )
    }
    # A listing belongs to one company: the first in catalog order wins.
    tickers: dict[str, list[tuple[str, str]]] = {}
    seen: set[tuple[str, str]] = set()
    for c in catalog:
        own = []
        for t in c.tickers:
            key = (t.exchange, t.symbol)
            if key not in seen:
                seen.add(key)
                own.append(key)
        tickers[c.slug] = own

    counts = {"added": 0, "updated": 0, "removed": 0, "kept": 0}
    changed: list[tuple[Company, CatalogCompany]] = []
    for c in catalog:
        row = existing.get(c.slug)
        if row is None:
            continue
        same = (
            all(getattr(row, k) == v for k, v in _fields(c).items())
            and [(t.exchange, t.symbol) for t in row.tickers] == tickers[c.slug]
            and [(p.name, p.role) for p in row.people] == _people(c)
        )
        if not same:
            changed.append((row, c))

    # Drop old tickers and people first (and flush), so a listing can move between companies.
    for row, _ in changed:
        row.tickers.clear()
        row.people.clear()
    gone = [row for slug, row in existing.items() if catalog.get(slug) is None]
    editor_ids = (
        set(
            session.scalars(
                select(Mention.company_id).where(
                    Mention.origin == "editor", Mention.company_id.in_([r.id for r in gone])
                )
            )
        )
        if gone
        else set()
    )
    for row in gone:
        if row.id in editor_ids:
            counts["kept"] += 1
            row.tickers.clear()
            continue
        session.delete(row)
        counts["removed"] += 1
    session.flush()

    for row, c in changed:
        for k, v in _fields(c).items():
            setattr(row, k, v)
        row.tickers.extend(CompanyTicker(exchange=e, symbol=s) for e, s in tickers[c.slug])
        row.people.extend(CompanyPerson(name=n, role=r) for n, r in _people(c))
        counts["updated"] += 1
    for c in catalog:
        if c.slug in existing:
            continue
        row = Company(slug=c.slug, **_fields(c))
        row.tickers = [CompanyTicker(exchange=e, symbol=s) for e, s in tickers[c.slug]]
        row.people = [CompanyPerson(name=n, role=r) for n, r in _people(c)]
        session.add(row)
        counts["added"] += 1
    session.flush()
    return counts


def company_ids(session: Session) -> dict[str, int]:
    """slug -> id for every company row."""
    return {slug: cid for slug, cid in session.execute(select(Company.slug, Company.id))}


_NAME_BY_SLUG = select(Company.name).where(Company.slug == bindparam("slug"))


def company_name(session: Session, slug: str) -> str | None:
    """A company's display name; None when no such slug. One indexed lookup, no ORM loading (the
    chart panels of every channel page ask for it)."""
    return session.execute(_NAME_BY_SLUG, {"slug": slug}).scalar()


def get_company(session: Session, slug: str) -> Company | None:
    return session.scalar(
        select(Company)
        .where(Company.slug == slug)
        .options(selectinload(Company.tickers), selectinload(Company.people))
    )


@dataclass(frozen=True)
class ChannelCount:
    slug: str
    name: str
    kind: str
    about: int
    mentioned: int


def list_channels(session: Session) -> list[ChannelCount]:
    """Every company with how many articles are about it and how many mention it, by name."""
    counts: dict[tuple[int, str], int] = {
        (cid, role): n
        for cid, role, n in session.execute(
            select(Mention.company_id, Mention.role, func.count()).group_by(Mention.company_id, Mention.role)
        )
    }
    rows = session.execute(
        select(Company.id, Company.slug, Company.name, Company.kind).order_by(Company.name)
    )
    return [
        ChannelCount(slug, name, kind, counts.get((cid, "about"), 0), counts.get((cid, "mentioned"), 0))
        for cid, slug, name, kind in rows
    ]


def stored_catalog_hash(session: Session) -> str | None:
    """The hash of the catalog last synced into this database, if any."""
    return session.scalar(select(MetaValue.value).where(MetaValue.key == CATALOG_HASH_KEY))


def record_catalog_hash(session: Session, digest: str) -> None:
    session.execute(delete(MetaValue).where(MetaValue.key == CATALOG_HASH_KEY))
    session.add(MetaValue(key=CATALOG_HASH_KEY, value=digest))
    session.flush()
