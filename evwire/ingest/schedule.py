"""When to poll a feed next: a pure decider. It reads no clock, database or network.

    next_at, state = next_poll(feed_state, outcome, now)

The poller builds ``PollOutcome`` from a ``FetchResult`` and a ``ParsedFeed``, calls this, and
stores the new ``FeedState`` (its fields map one-to-one onto feed columns) with ``next_at``.

Rules (docs/decisions/0006-feeds.md):
- success: interval = half the median gap between the feed's recent item dates, clamped to
  5 min … 24 h; a feed that has gone quiet (newest item older than 4 median gaps) is polled at a
  quarter of its silence instead, so dormant feeds drift toward daily. No usable dates: keep the
  interval (1 h at first). 304: keep the interval.
- error: 5 min × 2^errors, capped at 24 h; a Retry-After longer than that wins (capped at 24 h).
- dead: 7 days of continuous failure, or HTTP 410 Gone. A dead feed gets no next poll
  (``next_at is None``) and keeps its rows; ``revive`` brings it back.
- WebSub: while a subscription's lease runs, pushes bring the news; poll every 24 h as a check.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # data types only: the decider does no I/O
    from evwire.ingest.feeditems import ParsedFeed
    from evwire.ingest.fetch import FetchResult

MIN_INTERVAL = timedelta(minutes=5)
MAX_INTERVAL = timedelta(hours=24)
DEFAULT_INTERVAL = timedelta(hours=1)
ERROR_BASE = timedelta(minutes=5)
DEAD_AFTER = timedelta(days=7)
WEBSUB_INTERVAL = timedelta(hours=24)
RECENT_ITEMS = 20  # item dates considered for the publishing rhythm


@dataclass(frozen=True)
class FeedState:
    interval: timedelta = DEFAULT_INTERVAL  # the success interval learnt from publishing rhythm
    error_count: int = 0  # consecutive failures
    first_error_at: datetime | None = None  # start of the current run of failures
    last_error: str | None = None  # in words, shown on the admin page; cleared on success
    last_success_at: datetime | None = None
    dead: bool = False
    websub_until: datetime | None = None  # lease end of an active WebSub subscription


@dataclass(frozen=True)
class PollOutcome:
    ok: bool  # 200 parsed, or 304
    not_modified: bool = False
    error: str | None = None
    retry_after: float | None = None  # seconds, from a 429/503
    gone: bool = False  # HTTP 410
    item_dates: tuple[datetime, ...] = ()  # published dates in the feed document (dated items only)


def outcome_from(
    result: FetchResult, feed: ParsedFeed | None = None, parse_error: str | None = None
) -> PollOutcome:
    """A poll's outcome from the fetch result and, on 200, the parsed feed (or its parse error)."""
    if result.error:
        return PollOutcome(
            ok=False, error=result.error, retry_after=result.retry_after, gone=result.status == 410
        )
    if result.not_modified:
        return PollOutcome(ok=True, not_modified=True)
    if parse_error or feed is None:
        return PollOutcome(ok=False, error=parse_error or "the feed could not be read")
    dates = tuple(item.published_at for item in feed.items if not item.date_missing)
    return PollOutcome(ok=True, item_dates=dates)


def publishing_interval(item_dates: tuple[datetime, ...] | list[datetime], now: datetime) -> timedelta | None:
    """Half the median gap between recent items, clamped; None when the dates say nothing."""
    dates = sorted({d for d in item_dates if d <= now + timedelta(minutes=10)}, reverse=True)[:RECENT_ITEMS]
    if len(dates) < 2:
        return None
    gaps = [(a - b).total_seconds() for a, b in zip(dates, dates[1:], strict=False)]
    median = statistics.median(gaps)
    if median <= 0:
        return MIN_INTERVAL
    interval = timedelta(seconds=median / 2)
    silence = now - dates[0]
    if silence.total_seconds() > 4 * median:
        interval = max(interval, silence / 4)
    return _clamp(interval)


def _clamp(value: timedelta) -> timedelta:
    return max(MIN_INTERVAL, min(MAX_INTERVAL, value))


def error_delay(error_count: int) -> timedelta:
    """5 min × 2^n (n = consecutive errors, from 1), capped at 24 h."""
    if error_count <= 0:
        return MIN_INTERVAL
    return min(MAX_INTERVAL, ERROR_BASE * (2 ** min(error_count, 20)))


def next_poll(state: FeedState, outcome: PollOutcome, now: datetime) -> tuple[datetime | None, FeedState]:
    """Decide the next poll time and the feed's new state from one poll's outcome."""
    if state.dead:
        return None, state
    websub = state.websub_until is not None and state.websub_until > now
    if outcome.ok:
        interval = state.interval
        if not outcome.not_modified:
            interval = publishing_interval(outcome.item_dates, now) or interval
        new = replace(
            state,
            interval=interval,
            error_count=0,
            first_error_at=None,
            last_error=None,
            last_success_at=now,
        )
        wait = max(interval, WEBSUB_INTERVAL) if websub else interval
        return now + wait, new
    count = state.error_count + 1
    first = state.first_error_at or now
    error = outcome.error or "the poll failed without a message"
    if outcome.gone or now - first >= DEAD_AFTER:
        why = "the site says the feed is gone (HTTP 410)" if outcome.gone else "it failed for 7 days in a row"
        new = replace(
            state,
            error_count=count,
            first_error_at=first,
            last_error=f"{error} — marked dead because {why}; resume it once the address works again",
            dead=True,
        )
        return None, new
    wait = error_delay(count)
    if outcome.retry_after is not None:
        # clamped before timedelta: Retry-After is any number of digits, and timedelta overflows
        asked = min(MAX_INTERVAL.total_seconds(), max(0.0, outcome.retry_after))
        wait = max(wait, timedelta(seconds=asked))
    new = replace(state, error_count=count, first_error_at=first, last_error=error)
    return now + wait, new


def revive(state: FeedState) -> FeedState:
    """An operator resumed a dead feed: poll it now, with a clean slate of errors."""
    return replace(state, dead=False, error_count=0, first_error_at=None, last_error=None)


def websub_subscribed(state: FeedState, lease_until: datetime) -> FeedState:
    return replace(state, websub_until=lease_until)
