"""Crash test: 4 `evwire worker --role send` processes, 1,000 pending alerts, a random worker
SIGKILLed every second and restarted. The local SMTP server receives every alert (counted by
Message-ID): none lost, duplicates at most kills x SMTP connections per worker.
(bench/send_scale.py --crash runs the 20,000-alert version.)
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from evwire.settings import Settings
from tests.alerts.conftest import SmtpServer
from tests.scale.conftest import Workers, message_ids, outbox_status, seed_alerts, send_env, wait_until

SUBSCRIBERS, ARTICLES = 50, 20  # 1,000 alerts (the sender does ~60/s per worker here: < 60 s in all)
WORKERS = 4
POOL = 4  # SMTP connections per worker
KILL_PHASE = 8.0  # seconds of SIGKILLs, one a second


def test_send_crash_random_sigkills_lose_nothing(
    pg_schema_url: str, smtp_server: SmtpServer, tmp_path: Path, workers_factory: list[Workers]
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", database_url=pg_schema_url, base_url="https://evwire.test"
    )
    total = seed_alerts(settings, SUBSCRIBERS, ARTICLES)
    assert total == SUBSCRIBERS * ARTICLES
    logs = tmp_path / "logs"
    logs.mkdir()
    env = send_env(
        pg_schema_url,
        tmp_path / "data",
        smtp_server.url,
        EVWIRE_SMTP_POOL_SIZE=str(POOL),
        EVWIRE_SEND_BATCH_SIZE="50",
        EVWIRE_OUTBOX_LEASE_SECONDS="60",
    )
    workers = Workers(env, logs)
    workers_factory.append(workers)
    names = [f"send-{i}" for i in range(WORKERS)]
    started = time.monotonic()
    for name in names:
        workers.start(
            name, "--role", "send", named=False
        )  # no --id: claims carry host:pid, taken over on restart
    rng = random.Random(7)
    kills = 0
    wait_until(lambda: len(smtp_server.messages) > 0, timeout=40, step=0.05)  # start-up
    kill_until = time.monotonic() + KILL_PHASE
    while time.monotonic() < kill_until and len(set(message_ids(smtp_server.messages))) < total:
        time.sleep(1.0)
        name = rng.choice(names)
        workers.kill(name)
        kills += 1
        workers.start(name, "--role", "send", named=False)
    after_kills = (
        outbox_status(pg_schema_url),
        len(smtp_server.messages),
        round(time.monotonic() - started, 1),
    )
    done = wait_until(lambda: outbox_status(pg_schema_url).get("sent", 0) >= total, timeout=45, step=0.5)
    seconds = time.monotonic() - started
    workers.stop_all()

    ids = message_ids(smtp_server.messages)
    unique = set(ids)
    duplicates = len(ids) - len(unique)
    status = outbox_status(pg_schema_url)
    print(
        f"\nsend crash: {total} alerts, {WORKERS} workers x {POOL} SMTP connections, {kills} SIGKILLs: "
        f"{len(unique)} delivered (unique Message-IDs), {duplicates} duplicates "
        f"(bound {kills * POOL}), outbox {status}, {seconds:.1f} s; after the kills {after_kills}"
    )
    assert done, workers.output()
    assert len(unique) == total, "alerts lost"
    assert duplicates <= kills * POOL
    assert status == {"sent": total}
