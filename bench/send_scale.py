"""Send throughput with 1, 2 and 4 `evwire worker --role send` processes on PostgreSQL against a
local aiosmtpd sink (in this process), and the crash run of issue 7 (--crash: 20,000 alerts, a
random worker SIGKILLed every second and restarted).

    python -m bench.send_scale                       # 4,000 alerts per run, workers 1, 2, 4
    python -m bench.send_scale --alerts 20000 --crash

Each run gets a fresh schema on EVWIRE_TEST_PG_URL (default the local server, database test).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evwire.settings import Settings  # noqa: E402
from tests.alerts.conftest import SmtpServer  # noqa: E402
from tests.conftest import PG_URL  # noqa: E402
from tests.scale.conftest import Workers, message_ids, outbox_status, seed_alerts, send_env  # noqa: E402


def fresh_schema() -> tuple[str, str]:
    schema = f"b_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    sep = "&" if "?" in PG_URL else "?"
    return schema, f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


def drop_schema(schema: str) -> None:
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def run(n_workers: int, alerts: int, pool: int, batch: int, crash: bool, tmp: Path) -> dict:
    schema, url = fresh_schema()
    smtp = SmtpServer()
    smtp.start()
    try:
        subscribers = 200
        articles = max(1, alerts // subscribers)
        settings = Settings(data_dir=tmp / "data", database_url=url, base_url="https://evwire.test")
        t = time.perf_counter()
        total = seed_alerts(settings, subscribers, articles)
        seeded = time.perf_counter() - t
        logs = tmp / f"logs-{schema}"
        logs.mkdir()
        env = send_env(url, tmp / "data", smtp.url, EVWIRE_SMTP_POOL_SIZE=str(pool),
                       EVWIRE_SEND_BATCH_SIZE=str(batch), EVWIRE_OUTBOX_LEASE_SECONDS="60")  # fmt: skip
        workers = Workers(env, logs)
        names = [f"send-{i}" for i in range(n_workers)]
        for name in names:
            workers.start(name, "--role", "send", named=False)
        while not smtp.messages:  # from the first delivery on (worker start-up is not throughput)
            time.sleep(0.02)
        first = time.perf_counter()
        kills = 0
        rng = random.Random(1)
        next_kill = first + 1.0
        while outbox_status(url).get("sent", 0) < total:
            time.sleep(0.2)
            if crash and time.perf_counter() >= next_kill:
                name = rng.choice(names)
                workers.kill(name)
                workers.start(name, "--role", "send", named=False)
                kills += 1
                next_kill += 1.0
        seconds = time.perf_counter() - first
        workers.stop_all()
        ids = message_ids(smtp.messages)
        return {
            "workers": n_workers,
            "alerts": total,
            "seed_s": round(seeded, 1),
            "send_s": round(seconds, 1),
            "per_s": round(total / seconds, 1),
            "unique": len(set(ids)),
            "duplicates": len(ids) - len(set(ids)),
            "kills": kills,
            "bound": kills * pool,
            "outbox": outbox_status(url),
        }
    finally:
        smtp.close()
        drop_schema(schema)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alerts", type=int, default=4000)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--pool", type=int, default=2, help="SMTP connections per worker")
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--crash", action="store_true", help="SIGKILL a random worker every second (4 workers)")
    args = ap.parse_args()
    counts = [4] if args.crash else [int(x) for x in args.workers.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        for n in counts:
            r = run(n, args.alerts, args.pool, args.batch, args.crash, Path(tmp))
            print(r, flush=True)


if __name__ == "__main__":
    main()
