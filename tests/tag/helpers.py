"""A small catalog written for the tests (independent of the shipped catalog.yaml)."""

from __future__ import annotations

from evwire.tag.catalog import Catalog, catalog_from_data


def _c(slug: str, name: str, **kw: object) -> dict[str, object]:
    return {"slug": slug, "name": name, **kw}


TEST_CATALOG_DATA = {
    "companies": [
        _c(
            "ford",
            "Ford",
            aliases=["Ford Motor", "福特"],
            tickers=["NYSE:F"],
            people=[{"name": "Jim Farley", "role": "CEO"}, {"name": "Bill Ford", "role": "chair"}],
            products=["Mustang Mach-E", "F-150 Lightning"],
        ),
        _c(
            "tesla",
            "Tesla",
            tickers=["NASDAQ:TSLA"],
            people=[{"name": "Elon Musk", "role": "CEO"}],
            products=["Model Y", "Cybertruck"],
        ),
        _c(
            "xiaomi",
            "Xiaomi",
            aliases=["小米汽车"],
            tickers=["HKG:1810", "OTCMKTS:XIACY"],
            people=[{"name": "Lei Jun", "role": "CEO"}],
            products=["SU7", "SU7 Ultra", "YU7"],
        ),
        _c("nio", "NIO", tickers=["NYSE:NIO", "HKG:9866"], products=["ES8"]),
        _c("li-auto", "Li Auto", tickers=["NASDAQ:LI", "HKG:2015"]),
        _c(
            "lucid",
            "Lucid",
            aliases=["Lucid Motors"],
            ambiguous=["Lucid"],
            tickers=["NASDAQ:LCID"],
            products=["Gravity"],
        ),
        _c("apple", "Apple", kind="tech", ambiguous=["Apple"], tickers=["NASDAQ:AAPL"]),
        _c("smart", "Smart", kind="ev-brand", ambiguous=["Smart"]),
        _c(
            "byd",
            "BYD",
            tickers=["HKG:1211", "OTCMKTS:BYDDY", "SHE:002594"],
            people=[{"name": "Wang Chuanfu", "role": "CEO"}],
            products=["Seal", "Atto 3"],
        ),
        _c("nissan", "Nissan", tickers=["TYO:7201"], products=["Leaf"]),
        _c("toyota", "Toyota", tickers=["TYO:7203", "NYSE:TM"]),
        _c("hyundai", "Hyundai", tickers=["KRX:005380"]),
        _c("volkswagen", "Volkswagen", aliases=["VW"], tickers=["ETR:VOW3"]),
        _c("bmw", "BMW", tickers=["ETR:BMW"]),
        _c("renault", "Renault", tickers=["EPA:RNO"]),
        _c("volvo-cars", "Volvo Cars", tickers=["STO:VOLCAR B"]),
        _c("catl", "CATL", kind="battery", tickers=["SHE:300750", "HKG:3750"]),
        _c("saic", "SAIC", aliases=["SAIC Motor"], tickers=["SHA:600104"]),
        _c("changan", "Changan", tickers=["SHE:000625"]),
        _c("lges", "LG Energy Solution", kind="battery", tickers=["KRX:373220"]),
        _c("horizon", "Horizon Robotics", kind="chips-autonomy", tickers=["HKG:9660"]),
        _c(
            "xpeng",
            "Xpeng",
            tickers=["NYSE:XPEV", "HKG:9868"],
            people=[{"name": "He Xiaopeng", "role": "CEO"}],
        ),
        _c("geely", "Geely", aliases=["Geely Auto"], tickers=["HKG:0175"]),
        _c(
            "nvidia",
            "Nvidia",
            kind="chips-autonomy",
            tickers=["NASDAQ:NVDA"],
            people=[{"name": "Jensen Huang", "role": "CEO"}],
        ),
    ]
}


def test_catalog() -> Catalog:
    return catalog_from_data(TEST_CATALOG_DATA)


test_catalog.__test__ = False  # type: ignore[attr-defined]  # a helper, not a pytest test
