"""Edge cases of the alert path a reader can hit, against a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
from email import policy

from sqlalchemy import select

from evwire.pipeline import Services
from evwire.store.tables import OutboxRow
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
