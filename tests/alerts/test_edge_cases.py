"""Edge cases of the alert path a reader can hit, against a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
from dataclasses import replace
from datetime import UTC, datetime
from email import policy

import pytest
from sqlalchemy import select

from evwire.pipeline import Services
from evwire.store.tables import OutboxRow, Subscriber
from tests.alerts.conftest import SmtpServer, sample
from tests.alerts.test_sender import T1, Clock, follower, post, run


def test_internationalised_addresses_get_their_alerts(svc: Services, smtp_server: SmtpServer) -> None:
    """An address with a non-ASCII mailbox name (RFC 6531) passes validation and is stored, so its
    alerts must be built and sent with SMTPUTF8, not bounced because the mail cannot be built."""
    follower(svc, "José@example.org", ["xiaomi"])
    follower(svc, "reader@bücher.de", ["xiaomi"])
    post(svc, sample())
    assert run(svc, smtp_server, Clock(T1)) == (2, 0, 0, 0)
    got = {m.recipients[0]: m for m in smtp_server.messages}
    assert set(got) == {"josé@example.org", "reader@bücher.de"}
    msg = email.message_from_bytes(got["josé@example.org"].data, policy=policy.SMTPUTF8)
    assert msg["To"] == "josé@example.org"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    with svc.db.session() as s:
        assert {r.status for r in s.scalars(select(OutboxRow))} == {"sent"}


def test_an_article_with_a_very_long_url_is_still_alerted(svc: Services, smtp_server: SmtpServer) -> None:
    """Article URLs may be up to 2000 characters (API, feeds), mail links at most 900: the alert must
    link the article's page here instead of failing to build, which counted as a bounce against the
    reader (three suspend them), and a digest with it must not break the send pass."""
    now_sid = follower(svc, "now@example.org", ["xiaomi"])
    follower(svc, "digest@example.org", ["xiaomi"], digest="daily", timezone="UTC", digest_hour=8)
    long_url = "https://example.org/news?" + "x" * 1500
    article_id = post(svc, replace(sample(1), url=long_url))
    clock = Clock(T1)
    assert run(svc, smtp_server, clock) == (1, 0, 0, 0)
    clock.at = datetime(2026, 1, 9, 8, 0, 30, tzinfo=UTC)
    assert run(svc, smtp_server, clock) == (1, 0, 0, 0)
    assert sorted(m.recipients[0] for m in smtp_server.messages) == ["digest@example.org", "now@example.org"]
    for m in smtp_server.messages:
        text = email.message_from_bytes(m.data, policy=policy.default).get_body(("plain",)).get_content()
        assert f"/articles/{article_id}" in text
    with svc.db.session() as s:
        assert {r.status for r in s.scalars(select(OutboxRow))} == {"sent"}
        sub = s.get(Subscriber, now_sid)
        assert sub is not None and sub.bounce_count == 0


def test_a_digest_that_cannot_be_built_stops_no_other_digest(
    svc: Services, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injection (no input is known to break a digest any more): building one reader's digest
    raises. That digest counts as one bounce, with the reason recorded on its rows, and the other
    reader's digest goes out in the same pass."""
    from evwire.alerts import sender as sender_module

    real = sender_module.build_digest

    def build(items, rcpt, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202 - build_digest's own
        if rcpt.to == "broken@example.org":
            raise ValueError("a part of this digest cannot be encoded")
        return real(items, rcpt, *args, **kwargs)

    monkeypatch.setattr(sender_module, "build_digest", build)
    broken = follower(svc, "broken@example.org", ["xiaomi"], digest="daily", timezone="UTC", digest_hour=8)
    follower(svc, "fine@example.org", ["xiaomi"], digest="daily", timezone="UTC", digest_hour=8)
    post(svc, sample(1))
    post(svc, sample(2))
    clock = Clock(datetime(2026, 1, 9, 8, 0, 30, tzinfo=UTC))
    sent, _retried, bounced, _skipped = run(svc, smtp_server, clock)
    assert [m.recipients[0] for m in smtp_server.messages] == ["fine@example.org"]
    assert sent == 2 and bounced == 2
    with svc.db.session() as s:
        rows = list(s.scalars(select(OutboxRow).where(OutboxRow.subscriber_id == broken)))
        assert len(rows) == 2 and {r.status for r in rows} == {"failed"}
        assert all("cannot be encoded" in (r.last_error or "") for r in rows)
        sub = s.get(Subscriber, broken)
        assert sub is not None and sub.bounce_count == 1
