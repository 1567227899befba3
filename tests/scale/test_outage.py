"""Outage test: the SMTP server is down for the first part of a run, then comes back.

60 followers of Xiaomi, the sample article posted: 60 immediate alerts. Three sender passes while
the server is down (an injected clock jumps to the next due time between passes) each end in a
`retry` for every row, with the wait doubling (jittered in [d/2, d]); the server returns and one
pass delivers everything, exactly once (counted by Message-ID at the server). Both backends.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from evwire.pipeline import Services, open_services
from evwire.settings import Settings
from evwire.store.tables import DeliveryAttempt, OutboxRow
from tests.alerts.conftest import SmtpServer
from tests.alerts.test_sender import T1, Clock, follower, post, run, sample
from tests.scale.conftest import message_ids

SUBSCRIBERS = 60
DOWN_PASSES = 3


@pytest.fixture
def svc(settings: Settings) -> Iterator[Services]:
    services = open_services(settings)
    yield services
    services.close()


def test_outage_smtp_down_then_back_delivers_each_once_with_backoff(
    svc: Services, smtp_server: SmtpServer
) -> None:
    base = svc.settings.retry_base_seconds
    addresses = [f"outage{i}@example.org" for i in range(SUBSCRIBERS)]
    for a in addresses:
        follower(svc, a, ["xiaomi"])
    post(svc, sample())
    with svc.db.session() as s:
        assert len(list(s.scalars(select(OutboxRow.id)))) == SUBSCRIBERS

    smtp_server.stop()  # down: connections refused
    clock = Clock(T1)
    waits: list[dict[int, timedelta]] = []  # per pass: outbox id -> next_attempt_at - time of the pass
    nexts: dict[int, list[datetime]] = defaultdict(list)
    for _ in range(DOWN_PASSES):
        assert run(svc, smtp_server, clock) == (0, SUBSCRIBERS, 0, 0)
        with svc.db.session() as s:
            rows = list(s.scalars(select(OutboxRow)))
        assert {r.status for r in rows} == {"pending"}
        waits.append({r.id: r.next_attempt_at - clock.at for r in rows})
        for r in rows:
            nexts[r.id].append(r.next_attempt_at)
        assert run(svc, smtp_server, clock) == (0, 0, 0, 0)  # nothing due before the backoff ends
        clock.at = max(r.next_attempt_at for r in rows)  # the last of them is due
    assert smtp_server.messages == []

    # the backoff, visible in the records: each wait in [d/2, d], d doubling from the base
    for k, pass_waits in enumerate(waits):
        full = timedelta(seconds=base * 2**k)
        assert all(full / 2 <= w <= full for w in pass_waits.values()), (k, sorted(pass_waits.values()))
    for k in range(1, DOWN_PASSES):
        assert min(waits[k].values()) >= max(waits[k - 1].values())
    assert all(a < b for times in nexts.values() for a, b in zip(times, times[1:], strict=False))

    smtp_server.start()  # back, same port
    assert run(svc, smtp_server, clock) == (SUBSCRIBERS, 0, 0, 0)
    clock.at += timedelta(days=1)
    assert run(svc, smtp_server, clock) == (0, 0, 0, 0)  # nothing left due, nothing sent twice

    ids = message_ids(smtp_server.messages)
    assert len(ids) == SUBSCRIBERS and len(set(ids)) == SUBSCRIBERS, Counter(ids).most_common(3)
    rcpts = Counter(r for m in smtp_server.messages for r in m.recipients)
    assert rcpts == Counter(addresses)  # every subscriber exactly one message

    with svc.db.session() as s:
        rows = list(s.scalars(select(OutboxRow)))
        attempts = list(s.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)))
    assert {r.status for r in rows} == {"sent"}
    assert {r.attempts for r in rows} == {DOWN_PASSES + 1}
    assert set(ids) == {r.message_id.strip() for r in rows if r.message_id}
    per_row: dict[int, list[DeliveryAttempt]] = defaultdict(list)
    for a in attempts:
        per_row[a.outbox_id].append(a)
    assert set(per_row) == {r.id for r in rows}
    for tries in per_row.values():
        assert [a.outcome for a in tries] == ["retry"] * DOWN_PASSES + ["accepted"]
        gaps = [b.at - a.at for a, b in zip(tries, tries[1:], strict=False)]
        assert all(g > timedelta(0) for g in gaps) and gaps == sorted(gaps)  # spaced wider each time
