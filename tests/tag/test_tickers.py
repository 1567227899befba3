"""Ticker forms, in sentences written for these tests."""

from __future__ import annotations

import pytest

from evwire.tag.catalog import load_catalog
from evwire.tag.tagger import Tagger


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(load_catalog(), facts=False)


def tickers(tagger: Tagger, text: str) -> list[tuple[str, str, str | None]]:
    return [(t.exchange, t.symbol, t.company) for t in tagger.tickers.find(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Xiaomi (HKG: 1810, OTCMKTS: XIACY) rose.",
            [("HKG", "1810", "xiaomi"), ("OTCMKTS", "XIACY", "xiaomi")],
        ),
        ("Shares of Tesla (NASDAQ: TSLA) fell.", [("NASDAQ", "TSLA", "tesla")]),
        ("NIO (NYSE:NIO) gained.", [("NYSE", "NIO", "nio")]),
        ("Xpeng (NYSE: XPEV, HKG: 9868) said.", [("NYSE", "XPEV", "xpeng"), ("HKG", "9868", "xpeng")]),
        ("Traders bought $TSLA and $ZZZZ today; it cost $5.", [("NASDAQ", "TSLA", "tesla")]),
        ("BYD (1211.HK) and Xpeng (9868.HK) moved.", [("HKG", "1211", "byd"), ("HKG", "9868", "xpeng")]),
        ("SAIC (600104.SS) and SAIC (600104.SH).", [("SHA", "600104", "saic")]),
        ("CATL (300750.SZ) climbed.", [("SHE", "300750", "catl")]),
        (
            "Toyota (7203.T) and Hyundai (005380.KS).",
            [("TYO", "7203", "toyota"), ("KRX", "005380", "hyundai")],
        ),
        ("Volkswagen (VOW3.DE) and (ETR: VOW3).", [("ETR", "VOW3", "volkswagen")]),
        ("BMW (Xetra: BMW) said.", [("ETR", "BMW", "bmw")]),
        (
            "Nissan (TYO: 7201) and Toyota (TSE: 7203).",
            [("TYO", "7201", "nissan"), ("TYO", "7203", "toyota")],
        ),
        (
            "LGES (KRX: 373220), Hyundai (KOSPI: 005380).",
            [("KRX", "373220", "lges"), ("KRX", "005380", "hyundai")],
        ),
        (
            "SAIC (SHA: 600104), Changan (SHE: 000625), CATL (SZSE: 300750).",
            [("SHA", "600104", "saic"), ("SHE", "000625", "changan"), ("SHE", "300750", "catl")],
        ),
        (
            "Renault (EPA: RNO) and Volvo Cars (STO: VOLCAR B).",
            [("EPA", "RNO", "renault"), ("STO", "VOLCAR B", "volvo-cars")],
        ),
        ("Horizon Robotics (HKEX: 9660) listed.", [("HKG", "9660", "horizon")]),
        ("Geely (HKG: 0175) kept its zero.", [("HKG", "0175", "geely")]),
        ("Geely (HKG: 175) without it.", [("HKG", "175", "geely")]),
        ("An unknown maker (NASDAQ: ZZZQ) listed.", [("NASDAQ", "ZZZQ", None)]),
        ("Tesla (TSLA.O) and NIO (NIO.N).", [("NASDAQ", "TSLA", "tesla"), ("NYSE", "NIO", "nio")]),
    ],
)
def test_tickers_forms(small_tagger: Tagger, text: str, expected: list[tuple[str, str, str | None]]) -> None:
    assert tickers(small_tagger, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Tata Motors (NSE: TATAMOTORS, BSE: 500570) rose.",
            [("NSE", "TATAMOTORS", "tata-motors"), ("BOM", "500570", "tata-motors")],
        ),
        (
            "Mahindra (NSE:M&M) and Bajaj Auto (BAJAJ-AUTO.NS).",
            [("NSE", "M&M", "mahindra"), ("NSE", "BAJAJ-AUTO", "bajaj")],
        ),
        (
            "Tata Motors (500570.BO) and Ola Electric (OLAELEC.NS).",
            [("BOM", "500570", "tata-motors"), ("NSE", "OLAELEC", "ola-electric")],
        ),
        ("AT&T said so. The R&D budget (NYSE: F) grew.", [("NYSE", "F", "ford")]),
    ],
)
def test_tickers_indian_listings_with_the_real_catalog(
    tagger: Tagger, text: str, expected: list[tuple[str, str, str | None]]
) -> None:
    """NSE symbols run to 10 characters and may hold & or a hyphen; BSE is Google Finance's BOM."""
    assert tickers(tagger, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "She: no, it was not a listing. Time: 10:30.",
        "The U.S. market and e.g. Japan, at 3.5 times.",
        "It costs $40,000 and $5 billion; ratio 2:1.",
        "Tesla is listed in New York but no ticker is printed here.",
    ],
)
def test_tickers_none_when_not_printed(small_tagger: Tagger, text: str) -> None:
    assert tickers(small_tagger, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BYD (OTC Pink: BYDDY) rose.", [("OTCMKTS", "BYDDY", "byd")]),
        ("Renault (Euronext Paris: RNO) fell.", [("EPA", "RNO", "renault")]),
        (
            "Stellantis (NYSE: STLA; Euronext Milan: STLAM)",
            [("NYSE", "STLA", "stellantis"), ("BIT", "STLAM", "stellantis")],
        ),
        (
            "Tesla Inc (TSLA) and Lucid Group Inc. (LCID) fell.",
            [("NASDAQ", "TSLA", "tesla"), ("NASDAQ", "LCID", "lucid")],
        ),
        # an abbreviation, not a ticker: the symbol is also a name of the company
        ("General Motors (GM) and Nio (NIO) rose.", []),
        ("Lithium iron phosphate (LFP) packs power electric vehicles (EV).", []),
        ("the company (TSLA) said", []),
    ],
)
def test_tickers_spelled_out_exchanges_and_bare_symbols(
    tagger: Tagger, text: str, expected: list[tuple[str, str, str | None]]
) -> None:
    assert tickers(tagger, text) == expected
