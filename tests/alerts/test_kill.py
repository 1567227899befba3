"""Kill the sender (SIGKILL) several times mid fan-out and restart it: every subscriber gets the
article, none is lost, and duplicates stay within kills x open SMTP connections. Counted by
Message-ID at a real SMTP server (aiosmtpd), on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import func, select

from evwire.ingest.plaintext import parse_plain_text
from evwire.pipeline import open_services, post_article, utcnow
from evwire.settings import Settings
from evwire.store.subscriptions import confirm, subscribe
from evwire.store.tables import OutboxRow
from tests.alerts.conftest import SinkHandler, SmtpServer
from tests.conftest import SAMPLE_ARTICLE

SUBSCRIBERS = 300
POOL = 4
KILLS = 3
MID_RE = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.MULTILINE | re.IGNORECASE)


class SlowSink(SinkHandler):
    """Takes a few milliseconds per message, so a kill lands in the middle of the fan-out."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await asyncio.sleep(0.01)
        return await super().handle_DATA(server, session, envelope)


def _sender(settings: Settings, smtp: SmtpServer) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "EVWIRE_DATA_DIR": str(settings.data_dir),
        "EVWIRE_DATABASE_URL": settings.db_url,
        "EVWIRE_SMTP_URL": smtp.url,
        "EVWIRE_SMTP_POOL_SIZE": str(POOL),
        "EVWIRE_SEND_BATCH_SIZE": "60",
        "EVWIRE_ADMIN_TOKEN": "test-admin-token-123",
    }
    env.pop("EVWIRE_CONFIG", None)
    cmd = [sys.executable, "-m", "evwire.cli.main", "send", "--once"]
    return subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=Path(__file__).parents[2]
    )


def _ids(smtp: SmtpServer) -> Counter[bytes]:
    return Counter(m.group(1) for msg in smtp.messages if (m := MID_RE.search(msg.data)))


def test_kill_sender_mid_fanout_loses_nothing(settings: Settings) -> None:
    svc = open_services(settings)
    try:
        now = utcnow()
        with svc.db.session() as s:
            for i in range(SUBSCRIBERS):
                sub = subscribe(s, f"reader{i}@example.org", ["xiaomi"], now=now)
                confirm(s, sub.id, now=now)
        with svc.db.session() as s:
            parsed = parse_plain_text(SAMPLE_ARTICLE.read_text(encoding="utf-8"))
            post_article(s, parsed, svc.tagger, now=utcnow(), alerts=svc.alerts, any_date=True)
        with svc.db.session() as s:
            assert s.scalar(select(func.count()).select_from(OutboxRow)) == SUBSCRIBERS
    finally:
        svc.close()

    smtp = SmtpServer(SlowSink())
    smtp.start()
    try:
        kills = 0
        while kills < KILLS:
            before = len(smtp.messages)
            proc = _sender(settings, smtp)
            deadline = time.monotonic() + 30
            while len(smtp.messages) < before + 25 and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            if proc.poll() is not None:  # finished before we could kill it
                break
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
        proc = _sender(settings, smtp)
        _out, errs = proc.communicate(timeout=120)
        assert proc.returncode == 0, errs.decode()
        ids = _ids(smtp)
        duplicates = sum(ids.values()) - len(ids)
        print(f"\nkills={kills} pool={POOL}: {len(ids)} of {SUBSCRIBERS} alerts, {duplicates} duplicates")
        assert kills >= 2, "the sender finished before it could be killed twice"
        assert len(ids) == SUBSCRIBERS  # none lost
        assert duplicates <= kills * POOL
        recipients = {r for msg in smtp.messages for r in msg.recipients}
        assert len(recipients) == SUBSCRIBERS
    finally:
        smtp.close()
    svc = open_services(settings)
    try:
        with svc.db.session() as s:
            statuses = dict(
                s.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status)).all()
            )
        assert statuses == {"sent": SUBSCRIBERS}
    finally:
        svc.close()
