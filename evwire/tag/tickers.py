"""Stock tickers as articles print them, normalised to the catalog's exchange spelling.

Forms: ``(HKG: 1810, OTCMKTS: XIACY)``, ``NYSE:NIO``, ``Xetra: BMW``, ``STO: VOLCAR B``, ``$TSLA``,
``1211.HK``, ``600104.SS``, ``300750.SZ``, ``7203.T``, ``005380.KS``, ``VOW3.DE``, ``NSE: TATAMOTORS``,
``(OTC Pink: BYDDY)``, ``(Euronext Paris: RNO)``, and ``Tesla (TSLA)`` for a known US listing. The symbol
is kept as printed (leading zeros too: ``HKG:0175``); linking to a company compares numeric symbols without
leading zeros. Only tickers printed in the text are returned; nothing is added from the catalog.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from evwire.tag.catalog import Catalog

# Printed exchange spelling -> canonical (the catalog's). Case matters for the short ones: "She:" in a
# quote is not Shenzhen, so only the spellings below count.
EXCHANGES = {
    "NASDAQ": "NASDAQ",
    "Nasdaq": "NASDAQ",
    "NasdaqGS": "NASDAQ",
    "NASDAQGS": "NASDAQ",
    "NYSE": "NYSE",
    "NYSEAMERICAN": "NYSE",
    "HKG": "HKG",
    "HKEX": "HKG",
    "HKEx": "HKG",
    "SEHK": "HKG",
    "HKSE": "HKG",
    "HK": "HKG",
    "OTCMKTS": "OTCMKTS",
    "OTC": "OTCMKTS",
    "OTCQX": "OTCMKTS",
    "OTCQB": "OTCMKTS",
    "OTCPK": "OTCMKTS",
    "SHA": "SHA",
    "SSE": "SHA",
    "SHSE": "SHA",
    "SHE": "SHE",
    "SZSE": "SHE",
    "SZ": "SHE",
    "ETR": "ETR",
    "XETRA": "ETR",
    "Xetra": "ETR",
    "FWB": "ETR",
    "FRA": "ETR",
    "TYO": "TYO",
    "TSE": "TYO",
    "KRX": "KRX",
    "KOSPI": "KRX",
    "KOSDAQ": "KRX",
    "KSE": "KRX",
    "EPA": "EPA",
    "STO": "STO",
    "LON": "LON",
    "LSE": "LON",
    "BIT": "BIT",
    "MIL": "BIT",
    "AMS": "AMS",
    "SGX": "SGX",
    "ASX": "ASX",
    "TSX": "TSX",
    "SWX": "SWX",
    "BME": "BME",
    "NYSE American": "NYSE",
    "OTC Pink": "OTCMKTS",
    "OTC Markets": "OTCMKTS",
    "Euronext Paris": "EPA",
    "Euronext Milan": "BIT",
    "Euronext Amsterdam": "AMS",
    "Borsa Italiana": "BIT",
    "NSE": "NSE",  # National Stock Exchange of India
    "BSE": "BOM",  # Bombay Stock Exchange, as Google Finance spells it (the catalog's form)
    "BOM": "BOM",
}
SUFFIXES = {
    "HK": "HKG",
    "SS": "SHA",
    "SH": "SHA",
    "SZ": "SHE",
    "T": "TYO",
    "KS": "KRX",
    "KQ": "KRX",
    "DE": "ETR",
    "F": "ETR",
    "PA": "EPA",
    "ST": "STO",
    "L": "LON",
    "MI": "BIT",
    "AS": "AMS",
    "O": "NASDAQ",  # Reuters RICs: TSLA.O, NIO.N
    "OQ": "NASDAQ",
    "N": "NYSE",
    "NS": "NSE",  # Yahoo/Reuters: TATAMOTORS.NS, 500570.BO
    "BO": "BOM",
}
US_EXCHANGES = ("NASDAQ", "NYSE", "OTCMKTS")

_EX = "|".join(sorted(map(re.escape, EXCHANGES), key=len, reverse=True))
# The regexes start at a literal (":", "$", ".") so the scan jumps between those characters; the part
# before the anchor (exchange, symbol) is checked on a short window behind it.
EXCHANGE_BEFORE_RE = re.compile(rf"(?<![A-Za-z0-9])(?P<ex>{_EX})\s?$")
# "EXCHANGE: SYMBOL"; a share class after a space ("VOLCAR B") only right before ")" "," or ";".
COLON_RE = re.compile(
    r":\s?(?P<sym>\d{1,6}(?![\d.])|[A-Z](?:[A-Z0-9]|&(?=[A-Z])){0,11}(?:-[A-Z]{1,6})?"
    r"(?:\.[A-Z](?![A-Za-z]))?(?: [AB](?=[),;]))?)"
    r"(?![A-Za-z0-9])"
)
DOLLAR_RE = re.compile(r"\$(?P<sym>[A-Z]{1,5})(?![A-Za-z0-9])")
SUFFIX_RE = re.compile(
    r"\.(?P<suf>" + "|".join(sorted(SUFFIXES, key=len, reverse=True)) + r")(?![A-Za-z0-9])"
)
SYMBOL_BEFORE_RE = re.compile(
    r"(?<![A-Za-z0-9.&-])(?P<sym>\d{4,6}|[A-Z](?:[A-Z0-9]|&(?=[A-Z])){0,11}(?:-[A-Z]{1,6})?)$"
)
WINDOW = 24  # characters behind an anchor searched for the exchange or symbol ("Euronext Amsterdam: ")
# "Tesla (TSLA)": a bare symbol alone in parentheses right after a capitalised name, counted only when it
# is a known US listing (then its exchange is known too) and not also a name of the company; "(EV)",
# "(LFP)" and the like are not.
BARE_RE = re.compile(r"(?<=[A-Za-z.]) \((?P<sym>[A-Z]{2,5})\)")
NAME_BEFORE_RE = re.compile(r"(?:^|[^A-Za-z])[A-Z][A-Za-z&.-]*(?: (?:Inc|Corp|Co|Ltd|Group|Motors?)\.?)?$")


@dataclass(frozen=True)
class TickerHit:
    exchange: str
    symbol: str
    company: str | None
    start: int
    end: int


def _key(exchange: str, symbol: str) -> tuple[str, str]:
    return exchange, (symbol.lstrip("0") or "0") if symbol.isdigit() else symbol.upper()


class TickerIndex:
    """Catalog listings by (canonical exchange, symbol without leading zeros)."""

    def __init__(self, catalog: Catalog) -> None:
        self.by_key: dict[tuple[str, str], str] = {}
        self.us_symbols: dict[str, tuple[str, str]] = {}
        # "General Motors (GM)" introduces an abbreviation as often as a ticker: a bare symbol that is
        # also one of the company's names is left alone.
        self.name_forms = {n.upper() for c in catalog for n in c.all_names()}
        for c in catalog:
            for t in c.tickers:
                ex = EXCHANGES.get(t.exchange, EXCHANGES.get(t.exchange.upper(), t.exchange.upper()))
                self.by_key.setdefault(_key(ex, t.symbol), c.slug)
                if ex in US_EXCHANGES:
                    self.us_symbols.setdefault(t.symbol.upper(), (ex, c.slug))

    def find(self, text: str) -> list[TickerHit]:
        """Every printed ticker, once each, in order of first appearance."""
        hits: list[TickerHit] = []
        # Cheap tests first: most articles have no ticker at all.
        if ":" in text:
            for m in COLON_RE.finditer(text):
                ex_m = EXCHANGE_BEFORE_RE.search(text, max(0, m.start() - WINDOW), m.start())
                if ex_m:
                    ex, sym = EXCHANGES[ex_m.group("ex")], m.group("sym")
                    hits.append(TickerHit(ex, sym, self.by_key.get(_key(ex, sym)), ex_m.start(), m.end()))
        if "$" in text:
            for m in DOLLAR_RE.finditer(text):
                if m.start() > 0 and (text[m.start() - 1].isalnum() or text[m.start() - 1] == "$"):
                    continue
                listing = self.us_symbols.get(m.group("sym"))
                if listing:  # "$TSLA" names no exchange: only known US listings can be placed
                    hits.append(TickerHit(listing[0], m.group("sym"), listing[1], m.start(), m.end()))
        if " (" in text:
            for m in BARE_RE.finditer(text):
                listing = self.us_symbols.get(m.group("sym"))
                if (
                    listing
                    and m.group("sym") not in self.name_forms
                    and NAME_BEFORE_RE.search(text, max(0, m.start() - 40), m.start())
                ):
                    hits.append(TickerHit(listing[0], m.group("sym"), listing[1], m.start() + 2, m.end() - 1))
        if "." in text:
            for m in SUFFIX_RE.finditer(text):
                sym_m = SYMBOL_BEFORE_RE.search(text, max(0, m.start() - WINDOW), m.start())
                if not sym_m:
                    continue
                ex, sym = SUFFIXES[m.group("suf")], sym_m.group("sym")
                slug = self.by_key.get(_key(ex, sym))
                # A letter symbol with a one-letter suffix ("A.T") is too easily an abbreviation.
                if slug is None and not sym.isdigit() and len(m.group("suf")) == 1:
                    continue
                hits.append(TickerHit(ex, sym, slug, sym_m.start(), m.end()))
        seen: set[tuple[str, str]] = set()
        out = []
        for h in sorted(hits, key=lambda h: h.start):
            k = _key(h.exchange, h.symbol)
            if k not in seen:
                seen.add(k)
                out.append(h)
        return out
