"""Database restart: a private PostgreSQL (initdb/pg_ctl in a temp folder, Debian's binaries, run as
the ``postgres`` user) is restarted (``pg_ctl restart -m fast``) while an `evwire worker --role send`
delivers 200 alerts to a local SMTP server; the worker reconnects and finishes: every alert
delivered (by Message-ID), none lost, duplicates no more than its SMTP connections.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from evwire.settings import Settings
from tests.alerts.conftest import SinkHandler, SmtpServer
from tests.scale.conftest import ROOT, Workers, message_ids, outbox_status, seed_alerts, send_env, wait_until

SUBSCRIBERS = 200  # one article: 200 alerts
POOL = 2  # SMTP connections of the worker
DATA_DELAY = 0.04  # seconds the sink takes per message: the run lasts a few seconds


def _pg_bin() -> tuple[str, str] | str:
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        initdb, pg_ctl = f"{bindir}/initdb", f"{bindir}/pg_ctl"
        if os.access(initdb, os.X_OK) and os.access(pg_ctl, os.X_OK):
            break
    else:
        return "no /usr/lib/postgresql/*/bin/{initdb,pg_ctl}: private PostgreSQL test skipped"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "no 'postgres' user to run a private PostgreSQL: test skipped"
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        return "the private PostgreSQL test runs initdb/pg_ctl via runuser as root: skipped"
    return initdb, pg_ctl


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivatePostgres:
    def __init__(self, initdb: str, pg_ctl: str) -> None:
        self.pg_ctl = pg_ctl
        self.base = Path(tempfile.mkdtemp(prefix="evwire-pg-"))
        os.chmod(self.base, 0o755)
        pw = pwd.getpwnam("postgres")
        os.chown(self.base, pw.pw_uid, pw.pw_gid)
        self.data = self.base / "data"
        self.log = self.base / "postgres.log"
        self.port = _free_port()
        self._as_pg(initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_pg(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            cwd=self.base,
            check=True,
            capture_output=True,
            timeout=timeout,
        )

    def _ctl(self, action: str, *extra: str) -> None:
        opts = f"-k {self.base} -p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_pg(self.pg_ctl, action, "-w", "-D", str(self.data), "-l", str(self.log), "-o", opts, *extra)

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        try:
            self._as_pg(self.pg_ctl, "stop", "-w", "-D", str(self.data), "-m", "immediate", timeout=30)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    found = _pg_bin()
    if isinstance(found, str):
        pytest.skip(found)
    pg = PrivatePostgres(*found)
    try:
        pg.start()
        yield pg
    finally:
        pg.stop()


class SlowSink(SinkHandler):
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await asyncio.sleep(DATA_DELAY)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(SlowSink())
    server.start()
    yield server
    server.close()


def test_db_restart_worker_reconnects_and_loses_nothing(
    private_pg: PrivatePostgres, slow_smtp: SmtpServer, tmp_path: Path, workers_factory: list[Workers]
) -> None:
    env = send_env(
        private_pg.url,
        tmp_path / "data",
        slow_smtp.url,
        EVWIRE_SMTP_POOL_SIZE=str(POOL),
        EVWIRE_SEND_BATCH_SIZE="50",
        EVWIRE_OUTBOX_LEASE_SECONDS="10",
    )
    upgrade = subprocess.run(
        [sys.executable, "-m", "evwire.cli.main", "db", "upgrade"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
    settings = Settings(
        data_dir=tmp_path / "data", database_url=private_pg.url, base_url="https://evwire.test"
    )
    total = seed_alerts(settings, SUBSCRIBERS, 1)
    assert total == SUBSCRIBERS

    logs = tmp_path / "logs"
    logs.mkdir()
    workers = Workers(env, logs)
    workers_factory.append(workers)
    started = time.monotonic()
    workers.start("send", "--role", "send", named=False)
    assert wait_until(lambda: len(slow_smtp.messages) >= 30, timeout=30, step=0.05), workers.output()
    before = len(slow_smtp.messages)
    private_pg.restart()
    restarted_at = len(slow_smtp.messages)

    def all_sent() -> bool:
        try:
            return outbox_status(private_pg.url).get("sent", 0) >= total
        except Exception:  # noqa: BLE001 - the server may still be coming up
            return False

    done = wait_until(all_sent, timeout=25, step=0.3)
    seconds = time.monotonic() - started
    codes = workers.stop_all(timeout=10)

    ids = message_ids(slow_smtp.messages)
    unique = set(ids)
    duplicates = len(ids) - len(unique)
    status = outbox_status(private_pg.url)
    print(
        f"\ndb restart: {total} alerts, restart after {before} received ({restarted_at} when it was up "
        f"again): {len(unique)} delivered, {duplicates} duplicates (bound {POOL}), outbox {status}, "
        f"{seconds:.1f} s, worker exit {codes}"
    )
    assert done, workers.output()
    assert before < total, "the run ended before the restart: nothing was tested"
    assert len(unique) == total, "alerts lost"
    assert duplicates <= POOL
    assert status == {"sent": total}
    assert codes == {"send": 0}, workers.output()
