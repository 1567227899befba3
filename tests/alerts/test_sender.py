"""alerts.sender against a real SMTP server (aiosmtpd on 127.0.0.1), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import email
import os
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
from sqlalchemy import select

from evwire.alerts.sender import Sender
from evwire.alerts.transport import SmtpTransport
from evwire.ingest.types import ParsedArticle
from evwire.pipeline import Services, post_article
from evwire.store.subscriptions import confirm, subscribe, update_preferences
from evwire.store.tables import DeliveryAttempt, OutboxRow, Subscriber
from tests.alerts.conftest import SmtpServer, sample

T0 = datetime(2026, 1, 8, 6, 0, tzinfo=UTC)
T1 = datetime(2026, 1, 8, 9, 30, tzinfo=UTC)


def follower(svc: Services, address: str, slugs: list[str], **prefs: object) -> int:
    with svc.db.session() as s:
        sub = subscribe(s, address, slugs, now=T0)
        confirm(s, sub.id, now=T0)
        if prefs:
            update_preferences(s, sub.id, now=T0, **prefs)  # type: ignore[arg-type]
        return sub.id


def post(svc: Services, parsed: ParsedArticle, now: datetime = T1) -> int:
    with svc.db.session() as s:
        return post_article(s, parsed, svc.tagger, now=now, alerts=svc.alerts, any_date=True).article_id


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def run(svc: Services, smtp: SmtpServer, clock: Clock, pool: int = 2) -> tuple[int, int, int, int]:
    sender = Sender(svc, transport=SmtpTransport.from_url(smtp.url, pool_size=pool), clock=clock)

    async def go() -> tuple[int, int, int, int]:
        try:
            r = await sender.run_once()
        finally:
            await sender.close()
        return r.sent, r.retried, r.bounced, r.skipped

    return asyncio.run(go())


def test_sender_once_delivers_with_unsubscribe_headers(svc: Services, smtp_server: SmtpServer) -> None:
    follower(svc, "reader@example.org", ["xiaomi", "ford"], queries=['"joint venture"'])
    follower(svc, "other@example.org", ["xiaomi"])
    post(svc, sample())
    assert run(svc, smtp_server, Clock(T1)) == (2, 0, 0, 0)
    msgs = {
        m.recipients[0]: email.message_from_bytes(m.data, policy=policy.default) for m in smtp_server.messages
    }
    assert set(msgs) == {"reader@example.org", "other@example.org"}
    msg = msgs["reader@example.org"]
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/alerts/unsubscribe/" in msg["List-Unsubscribe"] and "mailto:" in msg["List-Unsubscribe"]
    assert msg["Message-ID"].startswith("<alert.")
    text = msg.get_body(("plain",)).get_content()
    assert 'you follow Xiaomi, Ford and the alert "joint venture"' in " ".join(text.split())
    with svc.db.session() as s:
        assert {r.status for r in s.scalars(select(OutboxRow))} == {"sent"}
        assert [a.outcome for a in s.scalars(select(DeliveryAttempt))] == ["accepted", "accepted"]
    assert run(svc, smtp_server, Clock(T1)) == (0, 0, 0, 0)  # nothing twice
    assert len(smtp_server.messages) == 2


def test_sender_retries_451_with_backoff_and_suspends_after_3_bounces(
    svc: Services, smtp_server: SmtpServer
) -> None:
    temp = follower(svc, "temp451@example.org", ["xiaomi"])
    gone = follower(svc, "gone550@example.org", ["xiaomi"])
    for n in (1, 2, 3):
        post(svc, sample(n))
    clock = Clock(T1)
    assert run(svc, smtp_server, clock) == (0, 3, 3, 0)
    with svc.db.session() as s:
        rows = list(s.scalars(select(OutboxRow).where(OutboxRow.subscriber_id == temp)))
        assert {r.status for r in rows} == {"pending"} and {r.attempts for r in rows} == {1}
        first_wait = min(r.next_attempt_at for r in rows) - T1
        assert timedelta(seconds=15) <= first_wait <= timedelta(seconds=30)
        sub = s.get(Subscriber, gone)
        assert sub is not None and sub.status == "suspended" and sub.bounce_count == 3
    assert run(svc, smtp_server, clock) == (0, 0, 0, 0)  # not due yet
    clock.at = T1 + timedelta(minutes=1)
    assert run(svc, smtp_server, clock) == (0, 3, 0, 0)
    with svc.db.session() as s:
        rows = list(s.scalars(select(OutboxRow).where(OutboxRow.subscriber_id == temp)))
        assert min(r.next_attempt_at for r in rows) - clock.at >= timedelta(seconds=30)  # doubled
        attempts = list(s.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)))
        assert [a.outcome for a in attempts].count("retry") == 6
        assert all(a.code == 451 for a in attempts if a.outcome == "retry")
    # a mail posted after the suspension is not even queued for the suspended address
    post(svc, sample(4))
    with svc.db.session() as s:
        assert (
            s.scalar(select(OutboxRow).where(OutboxRow.subscriber_id == gone, OutboxRow.status == "pending"))
            is None
        )
    assert smtp_server.messages == []


def test_sender_digest_grouped_at_the_local_hour(svc: Services, smtp_server: SmtpServer) -> None:
    follower(svc, "digest@example.org", ["xiaomi"], digest="daily", timezone="Asia/Shanghai", digest_hour=8)
    post(svc, sample(1))
    post(svc, sample(2), now=T1 + timedelta(hours=2))
    clock = Clock(T1 + timedelta(hours=3))  # 20:30 in Shanghai
    assert run(svc, smtp_server, clock) == (0, 0, 0, 0)
    clock.at = datetime(2026, 1, 9, 0, 0, 30, tzinfo=UTC)  # 08:00:30 in Shanghai
    assert run(svc, smtp_server, clock) == (2, 0, 0, 0)
    (m,) = smtp_server.messages
    msg = email.message_from_bytes(m.data, policy=policy.default)
    assert msg["Subject"] == "Your daily evwire digest: 2 articles"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = msg.get_body(("plain",)).get_content()
    assert "(1)" in text and "(2)" in text
    clock.at += timedelta(days=1)
    assert run(svc, smtp_server, clock) == (0, 0, 0, 0)  # nothing when empty, each article once


def test_sender_default_transport_writes_eml(svc: Services) -> None:
    follower(svc, "eml@example.org", ["xiaomi"])
    post(svc, sample())
    sender = Sender(svc, clock=Clock(T1))

    async def go() -> int:
        report = await sender.run_once()
        await sender.close()
        return report.sent

    assert asyncio.run(go()) == 1
    files = list((svc.settings.data_dir / "outbox").glob("alert.*.eml"))
    assert len(files) == 1 and b"List-Unsubscribe-Post" in files[0].read_bytes()


class SteppingClock(Clock):
    """Each reading is `step` later than the last: a batch that takes longer than half its lease."""

    def __init__(self, at: datetime, step: timedelta) -> None:
        super().__init__(at)
        self.step = step

    def __call__(self) -> datetime:
        self.at += self.step
        return self.at


def test_sender_gives_back_rows_it_cannot_send_within_half_its_lease(
    svc: Services, smtp_server: SmtpServer
) -> None:
    for i in range(6):
        follower(svc, f"r{i}@example.org", ["xiaomi"])
    post(svc, sample())
    lease = timedelta(seconds=120)
    sender = Sender(
        svc,
        transport=SmtpTransport.from_url(smtp_server.url, pool_size=1),
        clock=SteppingClock(T1, timedelta(seconds=5)),
        lease=lease,
    )

    async def go() -> int:
        try:
            return (await sender.run_once(max_batches=1)).sent
        finally:
            await sender.close()

    sent = asyncio.run(go())
    assert 0 < sent < 6, sent
    with svc.db.session() as s:
        rows = list(s.scalars(select(OutboxRow)))
        # nothing left claimed by a worker whose lease ran short: the rest is claimable again at once
        assert {r.status for r in rows} == {"sent", "pending"}
        assert all(r.claimed_by is None for r in rows if r.status == "pending")
    assert len(smtp_server.messages) == sent


def test_sender_takes_over_only_the_rows_of_senders_that_are_gone(
    svc: Services, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restarted sender frees the rows of this host's senders that died, at once; rows of a sender
    still running stay its own, also one that claimed them after the restarted sender looked (were they
    freed, the alerts would go out twice)."""
    import socket
    import subprocess
    import sys

    from sqlalchemy import update

    import evwire.alerts.sender as sender_module

    for i in range(3):
        follower(svc, f"reader{i}@example.org", ["xiaomi"])
    post(svc, sample())
    code = "import os; print(os.getpid())"
    gone = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    host = socket.gethostname()
    dead, late = f"{host}:{int(gone.stdout)}", f"{host}:{os.getppid()}"  # the parent process is alive
    with svc.db.session() as s:
        ids = list(s.scalars(select(OutboxRow.id).order_by(OutboxRow.id)))
        assert len(ids) == 3
        lease = T1 + timedelta(minutes=10)
        for oid, worker in zip(ids, [dead, dead, late], strict=True):
            s.execute(
                update(OutboxRow)
                .where(OutboxRow.id == oid)
                .values(status="sending", claimed_by=worker, lease_until=lease)
            )
    # ``late`` claimed its row after the restarted sender listed the claimers
    real = sender_module.claimed_workers

    def listed_before_late(session, prefix):  # noqa: ANN001, ANN202
        return [w for w in real(session, prefix) if w != late]

    monkeypatch.setattr(sender_module, "claimed_workers", listed_before_late)
    sent, _retried, _bounced, _skipped = run(svc, smtp_server, Clock(T1))
    assert sent == 2
    assert sorted(r for m in smtp_server.messages for r in m.recipients) == [
        "reader0@example.org",
        "reader1@example.org",
    ]
    with svc.db.session() as s:
        rows = {r.id: (r.status, r.claimed_by) for r in s.scalars(select(OutboxRow))}
    assert rows[ids[2]] == ("sending", late)
