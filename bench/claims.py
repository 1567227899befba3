"""Outbox claim rate: ``store.outbox.claim_due`` (FOR UPDATE SKIP LOCKED) vs a naive loop of
``SELECT id ... LIMIT 1`` + ``UPDATE ... WHERE id = ? AND status = 'pending'``, with 1, 2 and 4
concurrent claimers (processes), in the same run, on PostgreSQL.

    python bench/claims.py --quick        # 2,000 rows per run
    python bench/claims.py --rows 20000

Both claim one row per transaction (the naive loop cannot do better without races). A naive claimer
whose UPDATE finds the row already taken by another (rowcount 0) has wasted an attempt: it waited
on the other's lock and got nothing. Runs in a private schema on EVWIRE_TEST_PG_URL (default the
local server, database test), created and dropped by the benchmark.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evwire.store.outbox import claim_due  # noqa: E402
from tests.conftest import PG_URL  # noqa: E402

DDL = """
CREATE TABLE outbox (
    id serial PRIMARY KEY,
    subscriber_id integer,
    target_id integer,
    article_id integer NOT NULL,
    reasons json,
    status varchar(10) NOT NULL DEFAULT 'pending',
    kind varchar(10) NOT NULL DEFAULT 'immediate',
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    claimed_by varchar(100),
    lease_until timestamptz,
    last_error text,
    sent_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    message_id varchar(300)
);
CREATE INDEX ix_outbox_status_next_attempt_at ON outbox (status, next_attempt_at);
"""
NAIVE_PICK = sa.text(
    "SELECT id FROM outbox WHERE kind = 'immediate' AND status = 'pending' AND next_attempt_at <= :now "
    "ORDER BY next_attempt_at, id LIMIT 1"
)
NAIVE_TAKE = sa.text(
    "UPDATE outbox SET status = 'sending', claimed_by = :w, lease_until = :lease "
    "WHERE id = :id AND status = 'pending'"
)
LEASE = timedelta(minutes=5)


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url, pool_size=1, max_overflow=0)


def reset(url: str, rows: int) -> None:
    engine = _engine(url)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE outbox RESTART IDENTITY"))
        conn.execute(
            sa.text(
                "INSERT INTO outbox (subscriber_id, article_id, reasons, next_attempt_at) "
                "SELECT g, 1, '{}'::json, :t0 FROM generate_series(1, :n) g"
            ),
            {"t0": t0, "n": rows},
        )
        conn.execute(sa.text("ANALYZE outbox"))
    engine.dispose()


def claimer(url: str, mode: str, name: str, barrier, out) -> None:  # noqa: ANN001 - mp objects
    from sqlalchemy.orm import Session

    engine = _engine(url)
    claimed = wasted = 0
    with engine.connect() as warm:  # connect before the clock starts
        warm.execute(sa.text("select 1"))
    barrier.wait()
    now = datetime.now(UTC)
    if mode == "skip_locked":
        while True:
            with Session(engine) as session, session.begin():
                got = claim_due(session, name, now=now, lease=LEASE, limit=1)
            if not got:
                break
            claimed += len(got)
    else:
        while True:
            with engine.begin() as conn:
                row = conn.execute(NAIVE_PICK, {"now": now}).first()
                if row is None:
                    break
                n = conn.execute(NAIVE_TAKE, {"w": name, "lease": now + LEASE, "id": row[0]}).rowcount
            if n:
                claimed += 1
            else:
                wasted += 1
    engine.dispose()
    out.put((claimed, wasted))


def run(url: str, mode: str, workers: int, rows: int) -> dict[str, float]:
    reset(url, rows)
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(workers + 1)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=claimer, args=(url, mode, f"{mode}-{i}", barrier, out)) for i in range(workers)
    ]
    for p in procs:
        p.start()
    barrier.wait()
    started = time.perf_counter()
    results = [out.get() for _ in procs]
    seconds = time.perf_counter() - started
    for p in procs:
        p.join()
    claimed = sum(c for c, _ in results)
    wasted = sum(w for _, w in results)
    engine = _engine(url)
    with engine.connect() as conn:
        distinct = conn.execute(sa.text("select count(*) from outbox where status = 'sending'")).scalar_one()
    engine.dispose()
    assert claimed == rows == distinct, (mode, workers, claimed, rows, distinct)  # each row claimed once
    return {"seconds": seconds, "rate": claimed / seconds, "wasted": wasted}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2,000 rows per run")
    ap.add_argument("--rows", type=int, default=None)
    args = ap.parse_args()
    rows = args.rows or (2000 if args.quick else 20000)

    schema = f"bc_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    try:
        engine = _engine(url)
        with engine.begin() as conn:
            for stmt in DDL.split(";"):
                if stmt.strip():
                    conn.execute(sa.text(stmt))
        engine.dispose()
        print(f"outbox claims, {rows} rows per run, one row per transaction, schema {schema}")
        print(f"{'claimers':>8} {'SKIP LOCKED/s':>14} {'naive/s':>10} {'naive wasted':>13} {'ratio':>6}")
        for workers in (1, 2, 4):
            sl = run(url, "skip_locked", workers, rows)
            nv = run(url, "naive", workers, rows)
            print(
                f"{workers:>8} {sl['rate']:>14.0f} {nv['rate']:>10.0f} "
                f"{int(nv['wasted']):>6} ({nv['wasted'] / (rows + nv['wasted']):>4.0%}) "
                f"{sl['rate'] / nv['rate']:>6.2f}",
                flush=True,
            )
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
