"""Text primitives for delivery-fact extraction: sentences, figures and periods.

Pure functions over strings (and the article's publication date); no catalog knowledge.
`evwire.tag.facts` combines them with the catalog matcher into FactTags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

# --- sentences ---------------------------------------------------------------------------------

_ABBREV = re.compile(
    r"(?:\b(?:U\.S|U\.K|Inc|Corp|Co|Ltd|No|Mr|Ms|Dr|Jr|St|vs|approx|est|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept"
    r"|Oct|Nov|Dec|e\.g|i\.e)\.)$"
)
_SENT_END = re.compile(r"[.!?][\"'”’)]?\s+(?=[\"“(]?[A-Z0-9])")


def split_sentences(text: str) -> list[tuple[int, str]]:
    """Split text into sentences; returns (offset, sentence). Paragraph and line breaks always split."""
    out: list[tuple[int, str]] = []
    for para in re.finditer(r"[^\n]+", text):
        chunk, base, start = para.group(0), para.start(), 0
        for m in _SENT_END.finditer(chunk):
            head = chunk[start : m.start() + 1]
            if _ABBREV.search(head) and not re.search(r"\b(?:U\.S|U\.K)\.$", head):
                continue
            if head.strip():
                out.append((base + start, head))
            start = m.end()
        tail = chunk[start:]
        if tail.strip():
            out.append((base + start, tail))
    return [(off + len(s) - len(s.lstrip()), s.strip()) for off, s in out]


# --- figures -----------------------------------------------------------------------------------

_MULT = {"million": 1_000_000, "mn": 1_000_000, "m": 1_000_000, "thousand": 1_000, "k": 1_000}
FIGURE_RE = re.compile(
    r"(?<![\w.,$€£¥])(?P<num>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
    r"(?:\s*(?P<mult>million|mn|thousand)\b|(?P<short>[mk])\b)?"
)
_MONEY_BEFORE = re.compile(r"(?:[$€£¥]|US\$|HK\$|RMB|CNY|USD|EUR|yuan|euros?|dollars?)\s*$", re.I)
_NOT_VEHICLES_AFTER = re.compile(
    r"^(?:-[a-z]|\s*(?:%|percent|per\s*cent|pct|th\b|st\b|nd\b|rd\b|billion|bn\b|trillion|yuan|rmb|dollars?"
    r"|euros?|yen|won|pounds?|usd|eur|km|kilomet|miles?|mph|kwh|kw\b|gwh|mwh|gw\b|mw\b|ps\b|hp\b|horsepower|lb-ft|torque|rpm|nm\b"
    r"|seconds?|minutes?|hours?|days?|weeks?|years?|months?|shares?|employees|workers|staff|engineers|people"
    r"|stations|chargers|charging|trademarks|patents|points|places|countries|cities|stores|showrooms"
    r"|x\b|times\b|fold|degrees|volts?|v\b|kg|tons?|tonnes?|sq|square|mm\b|cm\b|inch|liters?|litres?))",
    re.I,
)
_LOWER_BOUND = re.compile(
    r"(?:more\s+than|(?<!handed\s)(?<!hand\s)(?<!hands\s)(?<!handing\s)over|above|at\s+least|in\s+excess\s+of|upwards\s+of|north\s+of|beyond|a\s+little\s+over"
    r"|just\s+over|well\s+over|exceed(?:ed|ing|s)?|surpass(?:ed|ing|es)?|top(?:ped|s|ping)?|pass(?:ed|es|ing)?"
    r"|cross(?:ed|es|ing)?|break(?:s|ing)?|broke)\s+(?:the\s+)?(?:a\s+record\s+)?$",
    re.I,
)
_MILESTONE = re.compile(
    r"(?:exceed(?:ed|ing|s)?|surpass(?:ed|ing|es)?|top(?:ped|s|ping)?|pass(?:ed|es|ing)?|cross(?:ed|es|ing)?"
    r"|break(?:s|ing)?|broke)\s+(?:the\s+)?$",
    re.I,
)
_MONEY_LONGEST = len("dollars")  # the longest word _MONEY_BEFORE ends with
_BILLION_AFTER = re.compile(r"^\s*(?:billion|bn)\b", re.I)
_YEAR_NUM = re.compile(r"(?:19|20)\d\d")
_LABEL_BEFORE = re.compile(r"(?:No\.\s?|#|[A-Za-z]-)$")
_LETTER_AFTER = re.compile(r"^[A-Za-z]")
_APPROX = re.compile(
    r"(?:about|around|roughly|approximately|approx\.?|nearly|almost|close\s+to|some|an\s+estimated|estimated"
    r"|circa|c\.|up\s+to|as\s+many\s+as|fewer\s+than|less\s+than|under|below|just\s+under)\s+$",
    re.I,
)


@dataclass(frozen=True)
class Figure:
    start: int
    end: int
    value: int
    lower_bound: bool = False
    milestone: bool = False  # "topped 40,000", "passed 10,000": a threshold crossed, not a reported total
    approximate: bool = False
    precision: int = 1  # the step of the printed value: 10,000 for "4.12 million", 1 for "411,837"
    range_low: bool = False
    range_high: bool = False


def parse_number(num: str, mult: str | None) -> tuple[int, int]:
    """'411,837' -> (411837, 1); '1.2', 'million' -> (1200000, 100000); '410', 'k' -> (410000, 1000)."""
    factor = _MULT.get((mult or "").lower(), 1)
    digits = num.replace(",", "")
    value = int(round(float(digits) * factor))
    decimals = len(digits.partition(".")[2])
    precision = max(1, factor // (10**decimals)) if factor > 1 else 1
    return value, precision


def find_figures(sentence: str) -> list[Figure]:
    """Numbers that may be a count of vehicles: not years, percentages, prices, money or other units."""
    figures: list[Figure] = []
    for m in FIGURE_RE.finditer(sentence):
        num, mult = m.group("num"), m.group("mult") or m.group("short")
        before, after = sentence[: m.start()], sentence[m.end() :]
        # The end-anchored tests look at the last characters only: searched over the whole text
        # before each number they cost time quadratic in the sentence, for the same answer (a
        # money word can only match right before the trailing spaces; the other at most 5 chars).
        if _MONEY_BEFORE.search(before.rstrip()[-_MONEY_LONGEST:]) or _NOT_VEHICLES_AFTER.match(after):
            continue
        if _BILLION_AFTER.match(after):
            continue
        if not mult and "," not in num and _YEAR_NUM.fullmatch(num):
            continue  # a year
        if _LABEL_BEFORE.search(before[-8:]) or _LETTER_AFTER.match(after):
            continue  # "No. 2", "M9", "F-150", "2170cells"
        if "." in num and not mult:
            continue  # "7.5" without a unit is a share or a rating, not a count
        value, precision = parse_number(num, mult)
        if value < 100:
            continue
        tail = before[-40:]
        figures.append(
            Figure(
                start=m.start(),
                end=m.end(),
                value=value,
                lower_bound=bool(_LOWER_BOUND.search(tail)),
                milestone=bool(_MILESTONE.search(tail)),
                approximate=bool(_APPROX.search(tail)),
                precision=precision,
            )
        )
    return _mark_ranges(sentence, figures)


def _mark_ranges(sentence: str, figures: list[Figure]) -> list[Figure]:
    """'18,000 to 20,000', 'between 580,000 and 650,000', '580,000-650,000': a range."""
    out = list(figures)
    for i in range(len(out) - 1):
        a, b = out[i], out[i + 1]
        gap = sentence[a.end : b.start]
        if re.fullmatch(r"\s*(?:-|–|to|and)\s*", gap) and a.value < b.value:
            if gap.strip() == "and" and not re.search(r"between\s+$", sentence[: a.start]):
                continue
            if gap.strip() == "to" and re.search(
                r"\b(?:from|rose|fell|grew|climbed|dropped)\b[^,]*$", sentence[: a.start]
            ):
                continue
            out[i] = _replace(a, range_low=True)
            out[i + 1] = _replace(b, range_high=True)
    return out


def _replace(f: Figure, **kw: object) -> Figure:
    data = {**f.__dict__, **kw}
    return Figure(**data)


# --- periods -----------------------------------------------------------------------------------

MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ]
    )
    for m in names
}
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\b\.?"
)
_ORD = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "final": 4,
    "last": 4,
}

# Order matters: the first pattern to claim a stretch of text wins.
_PERIOD_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "cumulative",
        re.compile(
            r"\b(?:cumulative(?:ly)?|since\s+(?:its|the\s+company's|the\s+brand's)\s+"
            r"(?:founding|launch|inception|start)|since\s+(?:it\s+)?(?:started|began)"
            r"|to\s+date|all-time|in\s+total\s+since|lifetime)\b",
            re.I,
        ),
    ),
    (
        "ytd",
        re.compile(
            rf"\b(?:year-to-date|year\s+to\s+date|so\s+far\s+(?:this|in)\s+(?:the\s+)?year|ytd"
            rf"|(?:the\s+)?first\s+(?:two|three|four|five|seven|eight|nine|ten|eleven|\d+)\s+months"
            rf"|January\s*(?:-|–|through|to|until)\s*(?!March\b|June\b|December\b){_MONTH}"
            rf"|Jan\.?\s*(?:-|–)\s*(?!Mar|Jun|Dec){_MONTH})",
            re.I,
        ),
    ),
    (
        "half",
        re.compile(
            r"\b(?:(?:first|second|1st|2nd)[\s-]+half|half-year|half\s+year|H[12]\b|six\s+months"
            r"|January\s*(?:-|–|through|to)\s*June|July\s*(?:-|–|through|to)\s*December)",
            re.I,
        ),
    ),
    (
        "quarter",
        re.compile(
            rf"\b(?:(?P<qn>first|second|third|fourth|final|last|1st|2nd|3rd|4th)[\s-]+quarter"
            rf"(?:\s+(?:of\s+)?(?P<qy>(?:19|20)\d\d))?|Q(?P<qd>[1-4])(?:\s*(?P<qy2>(?:19|20)\d\d)"
            rf"|'(?P<qy3>\d\d))?|(?P<qr>{_MONTH}\s*(?:-|–|to|through|and)\s*{_MONTH})\s+quarter"
            rf"|between\s+(?P<qb>{_MONTH})\s+and\s+{_MONTH}(?:\s+(?P<qy4>(?:19|20)\d\d))?"
            rf"|(?:the\s+)?(?P<qf>final|last|first)\s+three\s+months\s+of\s+(?P<qy5>(?:19|20)\d\d)"
            rf"|three\s+months\s+(?:to|ended|ending)\s+(?P<qe>{_MONTH})(?:\s+(?P<qy6>(?:19|20)\d\d))?)",
            re.I,
        ),
    ),
    (
        "month",
        re.compile(rf"\b(?P<mn>{_MONTH})(?:'s)?(?:\s+(?:of\s+)?(?P<my>(?:19|20)\d\d)\b|(?!\s*\d))", re.I),
    ),
    (
        "relative",
        re.compile(
            r"\b(?P<rel>last\s+month|this\s+month|the\s+previous\s+month|last\s+year|this\s+year"
            r"|next\s+year|last\s+quarter|this\s+quarter|the\s+previous\s+year"
            r"|(?:a|one)\s+year\s+(?:earlier|before|ago)|the\s+same\s+(?:month|quarter|period)"
            r"(?:\s+(?:a\s+year\s+(?:earlier|before|ago)|last\s+year|of\s+last\s+year))?"
            r"|year-earlier|prior-year|full-year|full\s+year|the\s+year|annual|for\s+the\s+year)\b",
            re.I,
        ),
    ),
    (
        "year",
        re.compile(r"(?<![\w$.,-])(?P<y>(?:19|20)\d\d)(?:'s)?(?![\w,.]\d|\s*(?:units|vehicles|cars))\b"),
    ),
]


_TRIGGERS = {
    "cumulative": re.compile(r"cumulat|since|to date|all-time|lifetime"),
    "ytd": re.compile(r"year-to-date|year to date|so far|ytd|first|jan"),
    "half": re.compile(r"half|h1|h2|six months|jan|jul"),
    "quarter": re.compile(r"quarter|q[1-4]|three months"),
    "month": re.compile(r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"),
    "relative": re.compile(r"year|month|quarter|annual"),
    "year": re.compile(r"(?:19|20)\d\d"),
}


@dataclass(frozen=True)
class PeriodSpan:
    start: int
    end: int
    kind: str  # month, quarter, year, half, ytd, cumulative, relative
    year: int | None = None
    month: int | None = None
    quarter: int | None = None
    rel: str | None = None  # for kind "relative": the phrase, lower-cased


def find_periods(sentence: str) -> list[PeriodSpan]:
    taken: list[tuple[int, int]] = []
    spans: list[PeriodSpan] = []
    low = sentence.lower()
    for kind, rx in _PERIOD_PATTERNS:
        if not _TRIGGERS[kind].search(low):
            continue  # a cheap test first: most sentences name no period of most kinds
        for m in rx.finditer(sentence):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            short = m.group("mn") if kind == "month" else ""
            if kind == "month" and len(short) == 3 and short.lower() != "may" and m.group("my") is None:
                if not re.search(
                    r"\b(?:in|of|for|during|since|by|until|through|from|last|this|next)\s+$",
                    sentence[: m.start()],
                ) and not re.match(r"^\s*[-–]", sentence[m.end() :]):
                    continue  # "Lei Jun", "Jan" as a name
            if kind == "month" and m.group("mn").lower().rstrip(".") == "may" and m.group("my") is None:
                if not re.search(
                    r"\b(?:in|of|for|during|since|by|until|through|from)\s+$", sentence[: m.start()]
                ):
                    continue  # the verb "may"
            span = _make_span(kind, m)
            if span is not None:
                spans.append(span)
                taken.append((m.start(), m.end()))
    return sorted(spans, key=lambda s: s.start)


def _year(*vals: str | None) -> int | None:
    for v in vals:
        if v:
            return int(v) if len(v) == 4 else 2000 + int(v)
    return None


def _make_span(kind: str, m: re.Match[str]) -> PeriodSpan | None:
    s, e = m.start(), m.end()
    if kind == "quarter":
        g = m.groupdict()
        if g["qn"]:
            q = _ORD[g["qn"].lower()]
        elif g["qd"]:
            q = int(g["qd"])
        elif g["qr"] or g["qb"]:
            first = (g["qr"] or g["qb"]).split("-")[0].split("–")[0].split()[0].rstrip(".").lower()
            mo = MONTHS.get(first)
            if mo is None or (mo - 1) % 3:
                return None
            q = (mo - 1) // 3 + 1
        elif g["qf"]:
            q = 1 if g["qf"].lower() == "first" else 4
        else:
            mo = MONTHS.get(g["qe"].rstrip(".").lower())
            if mo is None or mo % 3:
                return None
            q = mo // 3
        return PeriodSpan(
            s, e, "quarter", year=_year(g["qy"], g["qy2"], g["qy3"], g["qy4"], g["qy5"], g["qy6"]), quarter=q
        )
    if kind == "month":
        return PeriodSpan(
            s, e, "month", year=_year(m.group("my")), month=MONTHS[m.group("mn").rstrip(".").lower()]
        )
    if kind == "year":
        return PeriodSpan(s, e, "year", year=int(m.group("y")))
    if kind == "relative":
        return PeriodSpan(s, e, "relative", rel=re.sub(r"\s+", " ", m.group("rel").lower()))
    return PeriodSpan(s, e, kind)


# --- period arithmetic ---------------------------------------------------------------------------


def month_year(month: int, published: date | None, hint_year: int | None = None) -> int | None:
    """The year of a month named without one: a month after the publication month is last year's."""
    if hint_year:
        return hint_year
    if published is None:
        return None
    return published.year if month <= published.month else published.year - 1


def quarter_year(quarter: int, published: date | None, hint_year: int | None = None) -> int | None:
    if hint_year:
        return hint_year
    if published is None:
        return None
    return published.year if (quarter - 1) * 3 + 1 <= published.month else published.year - 1


def shift_year(period: str, years: int) -> str:
    y, sep, rest = period.partition("-")
    return f"{int(y) + years}{sep}{rest}"


def previous_month(published: date) -> str:
    y, m = (published.year, published.month - 1) if published.month > 1 else (published.year - 1, 12)
    return f"{y}-{m:02d}"


def previous_quarter(published: date) -> str:
    q = (published.month - 1) // 3 + 1
    y, q = (published.year, q - 1) if q > 1 else (published.year - 1, 4)
    return f"{y}-Q{q}"
