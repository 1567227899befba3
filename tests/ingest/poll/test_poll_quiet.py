"""Storing polls that bring no items (304s and errors) in batches, on SQLite and PostgreSQL.

The writer decides the schedule from the state the claim read and writes only what changed; what an
operator sees on the feed must be the same as if each feed were stored on its own.
"""

from __future__ import annotations

from datetime import timedelta

from evwire.ingest.fetch import FetchResult
from evwire.pipeline import Services
from evwire.poller import FeedPoll, Poller
from evwire.store.feeds import add_feed, get_feed, pause_feed
from evwire.store.tables import Feed
from tests.ingest.poll.conftest import NOW


def _feed(svc: Services, feed_id: int) -> Feed:
    with svc.db.session() as session:
        return get_feed(session, feed_id)


def _result(url: str, status: int | None, etag: str | None, error: str | None = None) -> FetchResult:
    return FetchResult(url, url, status, None, etag, None, 0.01, error=error)


def test_quiet_polls_keep_validators_back_off_errors_and_skip_paused_feeds(
    svc: Services, poller: Poller
) -> None:
    with svc.db.session() as session:
        ids = [add_feed(session, f"https://news{i}.example/feed", now=NOW)[0].id for i in range(3)]
        get_feed(session, ids[0]).etag = '"a1"'
    a, b, c = ids
    jobs = {j.id: j for j in poller._claim(NOW, None, None)}
    assert set(jobs) == set(ids) and all(_feed(svc, i).claimed_until is not None for i in ids)
    with svc.db.session() as session:
        pause_feed(session, c, now=NOW)  # the operator pauses it while it is being polled
    at = NOW + timedelta(seconds=3)
    failure = "the server failed (HTTP 500 Internal Server Error); evwire will retry later"
    report = poller.store_polls(
        [
            FeedPoll(jobs[a], _result(jobs[a].url, 304, '"a2"'), at),
            FeedPoll(jobs[b], _result(jobs[b].url, 500, None, error=failure), at),
            FeedPoll(jobs[c], _result(jobs[c].url, 304, None), at),
        ]
    )
    assert (report.feeds, report.not_modified, report.failed) == (3, 1, 1)
    assert report.errors == {b: failure}

    fa, fb, fc = (_feed(svc, i) for i in ids)
    assert fa.etag == '"a2"' and fa.last_error is None and fa.last_success_at == at
    assert fa.next_poll_at == at + timedelta(hours=1) and fa.claimed_until is None
    assert fb.last_error == failure and fb.error_count == 1 and fb.first_error_at == at
    assert fb.next_poll_at == at + timedelta(minutes=10) and fb.claimed_until is None
    assert fc.status == "paused" and fc.last_success_at is None and fc.next_poll_at == NOW

    # the failing feed answers 304 next time: its error is cleared, not just left in place
    later = at + timedelta(minutes=10)
    job = {j.id: j for j in poller._claim(later, None, None)}[b]
    assert job.state.error_count == 1
    poller.store_polls([FeedPoll(job, _result(job.url, 304, '"b1"'), later)])
    fb = _feed(svc, b)
    assert fb.last_error is None and fb.error_count == 0 and fb.first_error_at is None
    assert fb.last_success_at == later and fb.etag == '"b1"' and fb.next_poll_at == later + timedelta(hours=1)
