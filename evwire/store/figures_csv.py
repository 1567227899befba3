"""Delivery figures as values and in their one CSV layout: periods, validation, reading and writing.

Pure: no database. ``read_figures_csv`` checks every row before anything is stored and reports
each bad row with its line number; the caller stores the rows only when the whole file is good.

Layout (header exactly)::

    company,period,metric,kind,value,lower_bound,scope,source_url,origin
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Set
from dataclasses import dataclass
from datetime import date

from evwire.errors import EvwireError

CSV_HEADER = ("company", "period", "metric", "kind", "value", "lower_bound", "scope", "source_url", "origin")
METRICS = ("deliveries", "sales", "production", "orders")
KINDS = ("actual", "target", "guidance")
ORIGINS = ("extracted", "imported", "editor")
MAX_VALUE = 10**12  # no maker delivers a trillion vehicles: a bigger number is a typo
MAX_REPORTED_ERRORS = 50

_PERIOD = re.compile(r"^(\d{4})(?:-(\d{2})|-Q([1-4]))?$")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


class FigureImportError(EvwireError):
    """A figures CSV has bad rows; ``errors`` lists (line number, reason) for each of them."""

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        self.errors = errors
        shown = "; ".join(f"line {n}: {why}" for n, why in errors[:MAX_REPORTED_ERRORS])
        more = f"; and {len(errors) - MAX_REPORTED_ERRORS} more" if len(errors) > MAX_REPORTED_ERRORS else ""
        super().__init__(
            f"{len(errors)} bad row{'s' if len(errors) != 1 else ''}, nothing imported: {shown}{more}"
        )


def period_start(period: str) -> date:
    """First day of a period ``YYYY``, ``YYYY-MM`` or ``YYYY-Qn``; ValueError saying why otherwise."""
    m = _PERIOD.match(period)
    if not m:
        raise ValueError(f"period {period!r} is not YYYY, YYYY-MM or YYYY-Qn")
    year = int(m.group(1))
    if not 1900 <= year <= 2100:
        raise ValueError(f"period {period!r}: year out of range 1900-2100")
    if m.group(2):
        month = int(m.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"period {period!r}: month must be 01-12")
        return date(year, month, 1)
    if m.group(3):
        return date(year, 3 * (int(m.group(3)) - 1) + 1, 1)
    return date(year, 1, 1)


def period_granularity(period: str) -> str:
    """year, quarter or month."""
    if "-Q" in period:
        return "quarter"
    return "month" if "-" in period else "year"


@dataclass(frozen=True)
class FigureIn:
    """One validated figure to store."""

    company: str  # slug
    period: str
    metric: str
    kind: str
    value: int
    lower_bound: bool = False
    scope: str | None = None
    source_url: str | None = None
    origin: str = "imported"

    def identity(self) -> tuple[object, ...]:
        """Two rows with the same identity are the same record: a re-import adds nothing."""
        return (
            self.company,
            self.period,
            self.metric,
            self.kind,
            self.value,
            self.lower_bound,
            self.scope,
            self.source_url,
            self.origin,
        )

    def csv_row(self) -> list[str]:
        return [
            self.company,
            self.period,
            self.metric,
            self.kind,
            str(self.value),
            "true" if self.lower_bound else "false",
            self.scope or "",
            self.source_url or "",
            self.origin,
        ]


def check_figure(
    *,
    company: str,
    period: str,
    metric: str,
    kind: str,
    value: object,
    lower_bound: object = False,
    scope: str | None = None,
    source_url: str | None = None,
    origin: str = "imported",
    companies: Set[str],
) -> FigureIn:
    """Validate one figure's fields (strings as read from CSV, or typed values); ValueError says why."""
    company = (company or "").strip()
    if not company:
        raise ValueError("company is empty")
    if company not in companies:
        raise ValueError(f"unknown company slug {company!r} (see `evwire channels list`)")
    period = (period or "").strip()
    period_start(period)
    metric = (metric or "").strip()
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")
    kind = (kind or "").strip()
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    number = _integer(value)
    bound = _boolean(lower_bound)
    origin = (origin or "").strip() or "imported"
    if origin not in ORIGINS:
        raise ValueError(f"unknown origin {origin!r}; use one of {', '.join(ORIGINS)}")
    url = (source_url or "").strip() or None
    if url and not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"source_url {url!r} is not an http:// or https:// URL")
    if url and len(url) > 2000:
        raise ValueError("source_url is longer than 2000 characters")
    scope = (scope or "").strip() or None
    if scope and len(scope) > 80:
        raise ValueError("scope is longer than 80 characters")
    return FigureIn(company, period, metric, kind, number, bound, scope, url, origin)


def _integer(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError(f"value {value!r} is not a whole number")
    if isinstance(value, int):
        number = value
    else:
        text = str(value or "").strip()
        if not re.fullmatch(r"\d+", text):
            raise ValueError(f"value {text!r} is not a whole number (digits only, no separators)")
        number = int(text)
    if number < 0 or number >= MAX_VALUE:
        raise ValueError(f"value {number} is out of range (0 to {MAX_VALUE - 1})")
    return number


def _boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"lower_bound {value!r} is not true or false")


def read_figures_csv(text: str, companies: Set[str]) -> list[FigureIn]:
    """Every row of a figures CSV, validated; FigureImportError lists every bad line (1-based)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""))
    errors: list[tuple[int, str]] = []
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise FigureImportError([(1, f"not readable as CSV: {exc}")]) from exc
    if header is None:
        raise FigureImportError([(1, "the file is empty; expected the header " + ",".join(CSV_HEADER))])
    if tuple(h.strip() for h in header) != CSV_HEADER:
        raise FigureImportError([(1, "the header must be exactly " + ",".join(CSV_HEADER))])
    rows: list[FigureIn] = []
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append((reader.line_num, f"not readable as CSV: {exc}"))
            break
        line = reader.line_num
        if not record or all(not cell.strip() for cell in record):
            continue
        if len(record) != len(CSV_HEADER):
            errors.append((line, f"{len(record)} fields, expected {len(CSV_HEADER)}"))
            continue
        fields = dict(zip(CSV_HEADER, record, strict=True))
        try:
            rows.append(check_figure(**fields, companies=companies))
        except ValueError as exc:
            errors.append((line, str(exc)))
    if errors:
        raise FigureImportError(errors)
    return rows


def write_figures_csv(rows: Iterable[FigureIn]) -> str:
    """The CSV text of `rows` in the import layout (a round trip gives the same rows)."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow(row.csv_row())
    return buf.getvalue()
