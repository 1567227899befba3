"""Small hand-written catalogs and taggings for store tests (real data, no mocks)."""

from __future__ import annotations

from evwire.tag.catalog import Catalog, catalog_from_data
from evwire.tag.types import CompanyTag, PersonTag, Tagging, TickerTag

COMPANIES = [
    {
        "slug": "xiaomi",
        "name": "Xiaomi",
        "tickers": ["HKG:1810", "OTCMKTS:XIACY"],
        "people": [{"name": "Lei Jun", "role": "CEO"}],
        "products": ["SU7"],
    },
    {
        "slug": "ford",
        "name": "Ford",
        "tickers": ["NYSE:F"],
        "people": [{"name": "Jim Farley", "role": "CEO"}],
    },
    {"slug": "tesla", "name": "Tesla", "tickers": ["NASDAQ:TSLA"], "products": ["Model 3"]},
    {
        "slug": "nvidia",
        "name": "Nvidia",
        "kind": "chips-autonomy",
        "tickers": ["NASDAQ:NVDA"],
        "people": [{"name": "Jensen Huang", "role": "CEO"}],
    },
    {"slug": "byd", "name": "BYD", "tickers": ["HKG:1211", "OTCMKTS:BYDDY"]},
]


def small_catalog(companies: list[dict] | None = None) -> Catalog:  # type: ignore[type-arg]
    return catalog_from_data({"companies": companies if companies is not None else COMPANIES})


def sample_tagging() -> Tagging:
    return Tagging(
        about=(CompanyTag("xiaomi", "Xiaomi", 0.9, "about"), CompanyTag("ford", "Ford", 0.8, "about")),
        mentioned=(
            CompanyTag("tesla", "Tesla", 0.1, "mentioned"),
            CompanyTag("nvidia", "Nvidia", 0.05, "mentioned"),
        ),
        tickers=(
            TickerTag("HKG", "1810", "xiaomi"),
            TickerTag("NASDAQ", "TSLA", "tesla"),
            TickerTag("LSE", "XYZ", None),
        ),
        people=(PersonTag("Jim Farley", "ford"), PersonTag("Jensen Huang", "nvidia")),
    )
