"""The poll schedule decider: pure, so the clock is a parameter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from evwire.ingest.schedule import (
    MAX_INTERVAL,
    MIN_INTERVAL,
    FeedState,
    PollOutcome,
    next_poll,
    publishing_interval,
    revive,
    websub_subscribed,
)

NOW = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)


def dates(every: timedelta, n: int = 10, newest: datetime = NOW) -> tuple[datetime, ...]:
    return tuple(newest - every * i for i in range(n))


def test_schedule_busy_feed_polled_every_five_minutes() -> None:
    at, state = next_poll(FeedState(), PollOutcome(ok=True, item_dates=dates(timedelta(minutes=3))), NOW)
    assert at == NOW + MIN_INTERVAL and state.interval == MIN_INTERVAL


def test_schedule_interval_is_half_the_median_gap() -> None:
    at, state = next_poll(FeedState(), PollOutcome(ok=True, item_dates=dates(timedelta(hours=2))), NOW)
    assert at == NOW + timedelta(hours=1)


def test_schedule_quiet_feed_clamped_to_a_day() -> None:
    at, _ = next_poll(FeedState(), PollOutcome(ok=True, item_dates=dates(timedelta(days=5))), NOW)
    assert at == NOW + MAX_INTERVAL


def test_schedule_dormant_feed_slows_down() -> None:
    old = dates(timedelta(minutes=30), newest=NOW - timedelta(days=2))
    assert publishing_interval(old, NOW) == timedelta(hours=12)


def test_schedule_304_keeps_the_interval_and_clears_errors() -> None:
    state = FeedState(interval=timedelta(hours=3), error_count=2, first_error_at=NOW, last_error="x")
    at, new = next_poll(state, PollOutcome(ok=True, not_modified=True), NOW)
    assert at == NOW + timedelta(hours=3)
    assert new.error_count == 0 and new.last_error is None and new.last_success_at == NOW


def test_schedule_errors_back_off_exponentially_to_a_day() -> None:
    state, waits, now = FeedState(), [], NOW
    for _ in range(12):
        at, state = next_poll(state, PollOutcome(ok=False, error="HTTP 500"), now)
        waits.append(at - now)
        now = at
    assert waits[:4] == [
        timedelta(minutes=10),
        timedelta(minutes=20),
        timedelta(minutes=40),
        timedelta(minutes=80),
    ]
    assert max(waits) == MAX_INTERVAL and waits[-1] == MAX_INTERVAL
    assert state.last_error == "HTTP 500" and state.first_error_at == NOW and not state.dead


def test_schedule_retry_after_respected() -> None:
    at, state = next_poll(FeedState(), PollOutcome(ok=False, error="429", retry_after=3 * 3600), NOW)
    assert at == NOW + timedelta(hours=3) and state.error_count == 1
    at, _ = next_poll(FeedState(), PollOutcome(ok=False, error="429", retry_after=10 * 86400), NOW)
    assert at == NOW + MAX_INTERVAL  # capped


def test_schedule_dead_after_seven_days_of_failure_not_deleted() -> None:
    state = FeedState(error_count=9, first_error_at=NOW - timedelta(days=6, hours=23), last_error="x")
    at, state = next_poll(state, PollOutcome(ok=False, error="HTTP 500"), NOW)
    assert at is not None and not state.dead
    at, state = next_poll(state, PollOutcome(ok=False, error="HTTP 500"), NOW + timedelta(hours=1))
    assert at is None and state.dead and "marked dead" in state.last_error
    assert next_poll(state, PollOutcome(ok=True), NOW) == (None, state)  # stays dead until resumed
    at, state = next_poll(revive(state), PollOutcome(ok=True), NOW)
    assert at is not None and not state.dead and state.error_count == 0


def test_schedule_gone_is_dead_at_once() -> None:
    at, state = next_poll(FeedState(), PollOutcome(ok=False, error="HTTP 410", gone=True), NOW)
    assert at is None and state.dead


def test_schedule_websub_feeds_polled_rarely() -> None:
    state = websub_subscribed(FeedState(), NOW + timedelta(days=10))
    at, _ = next_poll(state, PollOutcome(ok=True, item_dates=dates(timedelta(minutes=3))), NOW)
    assert at == NOW + timedelta(hours=24)
    expired = websub_subscribed(FeedState(), NOW - timedelta(seconds=1))
    at, _ = next_poll(expired, PollOutcome(ok=True, item_dates=dates(timedelta(minutes=3))), NOW)
    assert at == NOW + MIN_INTERVAL


def test_schedule_one_pass_over_misbehaving_feeds(feed_server, feed_settings) -> None:
    """A poll pass as the poller will run it: every feed fetched, errors recorded, next times decided."""
    import asyncio

    from evwire.errors import IngestError
    from evwire.ingest.client import make_client
    from evwire.ingest.feedparse import parse_feed
    from evwire.ingest.fetch import fetch_feed
    from evwire.ingest.hostlimits import HostLimiter
    from evwire.ingest.schedule import outcome_from

    paths = ["/status/429?retry=7200", "/reset", "/invalid", "/feeds/rss2/feed.xml", "/feeds/atom/feed.xml"]

    async def run():
        limits = HostLimiter.from_settings(feed_settings)
        async with make_client(feed_settings) as client:
            return await asyncio.gather(
                *(
                    fetch_feed(client, feed_server.url(p), limits=limits, settings=feed_settings)
                    for p in paths
                )
            )

    before = {p.split("?")[0]: feed_server.hits[p.split("?")[0]] for p in paths}
    decided = {}
    for path, result in zip(paths, asyncio.run(run()), strict=True):
        feed, error = None, None
        if result.body is not None:
            try:
                feed = parse_feed(
                    result.body, url=result.final_url, fetched_at=NOW, content_type=result.content_type
                )
            except IngestError as exc:
                error = str(exc)
        decided[path] = next_poll(FeedState(), outcome_from(result, feed, error), NOW)
    assert all(feed_server.hits[p] == before[p] + 1 for p in before)  # every feed was polled once
    at, state = decided["/status/429?retry=7200"]
    assert at == NOW + timedelta(hours=2) and "429" in state.last_error
    at, state = decided["/reset"]
    assert at == NOW + timedelta(minutes=10) and "closed the connection" in state.last_error
    at, state = decided["/invalid"]
    assert "not valid XML" in state.last_error and state.error_count == 1
    at, state = decided["/feeds/rss2/feed.xml"]
    assert state.last_error is None and state.last_success_at == NOW and at > NOW
