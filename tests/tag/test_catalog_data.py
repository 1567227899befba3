"""Properties of the shipped starter catalog (evwire/data/catalog.yaml), not of the loader.

The loader's own checks (slug form, ticker form, parents exist, ambiguous names listed) run on load; these
tests hold the data to the rules the matcher depends on: every string points at one company only.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from evwire.errors import CatalogError
from evwire.tag.catalog import Catalog, Company, catalog_from_data, load_catalog

# Brands that sell one model named after the brand itself: nothing else to list as a product.
SINGLE_MODEL_BRANDS = {"firefly", "slate-auto"}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _strings(c: Company) -> list[tuple[str, str]]:
    return [
        ("name", c.name),
        *(("alias", a) for a in c.aliases),
        *(("ticker", str(t)) for t in c.tickers),
        *(("person", p.name) for p in c.people),
        *(("product", p) for p in c.products),
    ]


def test_catalog_data_loads_with_enough_companies(catalog: Catalog) -> None:
    assert len(catalog) >= 100


def test_catalog_data_strings_belong_to_one_company(catalog: Catalog) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for c in catalog:
        for _, text in _strings(c):
            owners[text.casefold()].add(c.slug)
    shared = {text: sorted(slugs) for text, slugs in owners.items() if len(slugs) > 1}
    assert shared == {}


@pytest.mark.parametrize("kind", ["alias", "ticker", "person", "product"])
def test_catalog_data_no_duplicates_of_kind(catalog: Catalog, kind: str) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for c in catalog:
        for k, text in _strings(c):
            if k == kind:
                owners[text.casefold()].add(c.slug)
    assert {t: s for t, s in owners.items() if len(s) > 1} == {}


def test_catalog_data_every_company_is_findable(catalog: Catalog) -> None:
    bare = [c.slug for c in catalog if not c.aliases and not c.tickers]
    assert bare == []


def test_catalog_data_makers_list_products(catalog: Catalog) -> None:
    few = [
        c.slug
        for c in catalog
        if c.kind in {"carmaker", "ev-brand"} and c.slug not in SINGLE_MODEL_BRANDS and len(c.products) < 2
    ]
    assert few == []


def test_catalog_data_parents_resolve(catalog: Catalog) -> None:
    for c in catalog:
        if c.parent:
            parent = catalog.get(c.parent)
            assert parent is not None, c.slug
            assert parent.slug != c.slug
    # no cycles
    for c in catalog:
        seen = {c.slug}
        p = c.parent
        while p:
            assert p not in seen, f"parent cycle through {c.slug}"
            seen.add(p)
            p = catalog[p].parent


def test_catalog_data_ambiguous_only_own_names(catalog: Catalog) -> None:
    for c in catalog:
        assert set(c.ambiguous) <= set(c.all_names()), c.slug


@pytest.mark.parametrize(
    ("country", "slugs"),
    [
        ("CN", ["byd", "nio", "xpeng", "li-auto", "xiaomi", "geely", "great-wall", "saic", "changan"]),
        ("US", ["tesla", "ford", "general-motors", "rivian", "lucid"]),
        ("DE", ["volkswagen", "bmw", "mercedes-benz", "audi", "porsche"]),
        ("FR", ["renault"]),
        ("SE", ["volvo-cars", "polestar"]),
        ("JP", ["toyota", "honda", "nissan", "mitsubishi-motors", "subaru"]),
        ("KR", ["hyundai", "kia"]),
    ],
)
def test_catalog_data_makers_by_region(catalog: Catalog, country: str, slugs: list[str]) -> None:
    for slug in slugs:
        c = catalog.get(slug)
        assert c is not None, slug
        assert c.country == country, slug
        assert c.kind in {"carmaker", "ev-brand"}, slug


def test_catalog_data_xiaomi_tickers(catalog: Catalog) -> None:
    tickers = {str(t) for t in catalog["xiaomi"].tickers}
    assert {"HKG:1810", "OTCMKTS:XIACY"} <= tickers


def test_catalog_data_listed_entity_holds_ticker(catalog: Catalog) -> None:
    def owner(ticker: str) -> str | None:
        return next((c.slug for c in catalog if ticker in {str(t) for t in c.tickers}), None)

    assert owner("NASDAQ:GOOGL") == "alphabet"
    assert owner("HKG:0175") == "geely"
    assert owner("SHA:601127") == "seres"
    assert owner("HKG:3750") == "catl"
    assert catalog["waymo"].tickers == ()


def test_catalog_person_with_a_stray_field_is_refused_with_a_hint() -> None:
    """A role written as ``{name: X, role: founder, chairman}`` (flow style) turns "chairman" into a key:
    the role would silently lose it, so the catalog refuses it and says how to write it."""
    data = {
        "companies": [
            {
                "slug": "byd",
                "name": "BYD",
                "people": [{"name": "Wang Chuanfu", "role": "founder", "chairman and president": None}],
            }
        ]
    }
    with pytest.raises(CatalogError, match=r"Wang Chuanfu.*'chairman and president'.*quote a role"):
        catalog_from_data(data)


def test_catalog_data_people_have_their_whole_roles(catalog: Catalog) -> None:
    byd = next(c for c in catalog if c.slug == "byd")
    roles = {p.name: p.role for p in byd.people}
    assert roles["Wang Chuanfu"] == "founder, chairman and president"
