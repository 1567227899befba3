"""Poll race: 4 `evwire worker --role poll` processes over 1,000 feeds on one PostgreSQL schema.

The feed server counts GETs per feed (empty channels: the run is about fetching and claiming):
every feed is fetched, none twice (the shortest poll
interval is 5 minutes, far longer than the run), because claims are FOR UPDATE SKIP LOCKED with a
lease. Small claim batches (--poll-batch 25) make the four workers contend for the backlog.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from evwire.pipeline import open_services
from evwire.settings import Settings
from evwire.store.feeds import add_feed
from tests.scale.conftest import CountingFeedServer, Workers, start_feed_server, wait_until, worker_env

FEEDS = 1000
WORKERS = 4
POLLED = sa.text("select count(*) from feeds where last_success_at is not null")
PASS_LINE = re.compile(r"poll pass: (\d+) feeds")


def add_feeds(settings: Settings, urls: list[str]) -> None:
    svc = open_services(settings)  # migrates and syncs the catalog before the workers start
    try:
        now = datetime.now(UTC)
        with svc.db.session() as session:
            for url in urls:
                add_feed(session, url, now=now)
    finally:
        svc.close()


@pytest.fixture
def empty_feeds() -> Iterator[CountingFeedServer]:
    server = start_feed_server(items=False)
    yield server
    server.close()


def test_poll_race_four_workers_fetch_each_feed_once(
    pg_schema_url: str, empty_feeds: CountingFeedServer, tmp_path: Path, workers_factory: list[Workers]
) -> None:
    feed_server = empty_feeds
    settings = Settings(data_dir=tmp_path / "data", database_url=pg_schema_url, allow_private_feeds=True)
    add_feeds(settings, [feed_server.url(n) for n in range(FEEDS)])
    logs = tmp_path / "logs"
    logs.mkdir()
    workers = Workers(worker_env(pg_schema_url, tmp_path / "data", EVWIRE_LOG_LEVEL="INFO"), logs)
    workers_factory.append(workers)
    started = time.monotonic()
    for i in range(WORKERS):
        workers.start(f"poll-{i}", "--role", "poll", "--poll-batch", "25", "--idle", "1")

    all_fetched = wait_until(lambda: len(feed_server.counts()) >= FEEDS, timeout=40)
    fetch_seconds = time.monotonic() - started
    time.sleep(2.0)  # a second fetch of any feed would show up here
    engine = sa.create_engine(pg_schema_url)

    def stored() -> int:
        with engine.connect() as conn:
            return conn.execute(POLLED).scalar_one()

    wait_until(lambda: stored() >= FEEDS, timeout=10)
    codes = workers.stop_all()
    with engine.connect() as conn:
        done = conn.execute(POLLED).scalar_one()
        articles = conn.execute(sa.text("select count(*) from articles")).scalar_one()
        by_worker = conn.execute(sa.text("select count(distinct claimed_until) from feeds")).scalar_one()
    engine.dispose()

    per_worker = {
        log.stem: sum(int(m) for m in PASS_LINE.findall(log.read_text(errors="replace")))
        for log in sorted(logs.glob("*.log"))
    }
    counts = feed_server.counts()
    twice = sorted(n for n, c in counts.items() if c > 1)
    print(
        f"\npoll race: {WORKERS} workers, {FEEDS} feeds: {len(counts)} fetched in {fetch_seconds:.1f} s, "
        f"{sum(counts.values())} requests, {len(twice)} fetched twice, {done} stored as polled, "
        f"{articles} articles; feeds per worker {per_worker}; exit codes {codes}"
    )
    assert all_fetched, workers.output()
    assert len(counts) == FEEDS
    assert twice == [], f"fetched more than once: {twice[:20]}"
    assert done == FEEDS, workers.output()
    assert articles == 0  # empty channels: the fetches are what is counted
    assert by_worker <= 1  # every lease was released (claimed_until back to NULL)
    assert sum(per_worker.values()) == FEEDS
    assert sum(1 for n in per_worker.values() if n) >= 2, per_worker  # the backlog was shared
    assert all(code == 0 for code in codes.values()), workers.output()
