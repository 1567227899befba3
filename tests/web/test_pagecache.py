"""The page cache: repeated views are served from memory, and never outlive a committed change, whether
the change came through this app, another engine in this process, or another process (the CLI)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fastapi.testclient import TestClient

from evwire.settings import Settings
from evwire.store.db import Database
from evwire.store.tables import Article
from evwire.web.pagecache import Entry, PageCache
from tests.conftest import SAMPLE_ARTICLE
from tests.web.conftest import post


def _cache(r) -> str | None:  # noqa: ANN001
    return r.headers.get("x-evwire-cache")


def _until_changed(client: TestClient, path: str, needle: str, seconds: float = 5.0):  # noqa: ANN202
    """GET ``path`` until its body holds ``needle`` (PostgreSQL delivers NOTIFY a moment after commit)."""
    deadline = time.monotonic() + seconds
    while True:
        r = client.get(path)
        if needle in r.text or time.monotonic() > deadline:
            return r
        time.sleep(0.05)


def test_repeat_view_is_a_hit_with_the_same_bytes_and_headers(client: TestClient) -> None:
    first = client.get("/channels/xiaomi")
    second = client.get("/channels/xiaomi")
    assert first.status_code == second.status_code == 200
    assert (_cache(first), _cache(second)) == ("miss", "hit")
    assert second.content == first.content
    assert second.headers["content-type"] == first.headers["content-type"]
    assert second.headers["x-frame-options"] == "DENY"  # security headers are added on hits too
    feed = [client.get("/channels/xiaomi/feed.rss") for _ in range(2)]
    assert [_cache(r) for r in feed] == ["miss", "hit"]
    assert feed[1].content == feed[0].content


def test_a_write_through_the_api_shows_on_the_very_next_view(client: TestClient) -> None:
    client.get("/channels/xiaomi")
    assert _cache(client.get("/channels/xiaomi")) == "hit"
    text = "Xiaomi said on Monday its second factory for the SU7 and YU7 started production."
    art = post(client, title="Xiaomi opens a second EV factory in Beijing", text=text)
    r = client.get("/channels/xiaomi")
    assert _cache(r) == "miss"
    assert "Xiaomi opens a second EV factory in Beijing" in r.text
    page = client.get(f"/articles/{art['id']}")
    assert "second factory" in page.text


def test_readers_arriving_together_after_a_change_share_one_render(client: TestClient) -> None:
    """Right after a change every reader of a popular page misses at once; one renders, the others
    get its bytes (without single flight each would render the page itself)."""
    post(client, title="Xiaomi YU7 deliveries begin", text="Xiaomi said YU7 deliveries began in July.")
    n = 8
    barrier = threading.Barrier(n)

    def read(_: int):  # noqa: ANN202
        barrier.wait()
        return client.get("/channels/xiaomi")

    with ThreadPoolExecutor(n) as pool:
        pages = list(pool.map(read, range(n)))
    assert [r.status_code for r in pages] == [200] * n
    assert sorted(_cache(r) for r in pages) == ["hit"] * (n - 1) + ["miss"]
    assert len({r.content for r in pages}) == 1
    assert "Xiaomi YU7 deliveries begin" in pages[0].text


def test_a_write_by_another_engine_is_seen(client: TestClient, settings: Settings) -> None:
    client.get("/")
    assert _cache(client.get("/")) == "hit"
    other = Database(settings)  # another connection pool, as another worker would have
    try:
        with other.session() as session:
            title = "Pony.ai starts robotaxi service in Luxembourg"
            session.add(
                Article(title=title, body="Pony.ai said so.", content_hash="f" * 64, published_at=_now())
            )
    finally:
        other.dispose()
    r = _until_changed(client, "/", "Pony.ai starts robotaxi service in Luxembourg")
    assert "Pony.ai starts robotaxi service in Luxembourg" in r.text


def test_evwire_post_from_another_process_is_seen(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    client.get("/channels/ford")
    assert _cache(client.get("/channels/ford")) == "hit"
    env = {**os.environ, "EVWIRE_DATA_DIR": str(settings.data_dir), "EVWIRE_DATABASE_URL": settings.db_url}
    cmd = [sys.executable, "-m", "evwire.cli.main", "post", "--no-alert", str(SAMPLE_ARTICLE)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    r = _until_changed(client, "/channels/ford", "Xiaomi")
    assert _cache(r) == "miss"
    assert "Xiaomi" in r.text  # the sample article (about Xiaomi and Ford) is now on Ford's channel


def test_admin_and_non_page_requests_bypass_the_cache(client: TestClient) -> None:
    client.cookies.set("evwire_admin", "anything")
    assert _cache(client.get("/channels/xiaomi")) is None
    client.cookies.clear()
    assert _cache(client.get("/search?q=xiaomi")) is None
    assert _cache(client.get("/api/channels")) is None
    missing = [client.get("/channels/no-such-company") for _ in range(2)]
    assert [r.status_code for r in missing] == [404, 404]
    assert _cache(missing[1]) != "hit"  # only 200s are kept


def test_cache_is_off_with_zero_entries(settings: Settings) -> None:
    from evwire.web.app import create_app

    with TestClient(create_app(settings.model_copy(update={"page_cache_entries": 0}))) as c:
        assert _cache(c.get("/")) is None and _cache(c.get("/")) is None


def test_lru_bounds_entries_and_bytes() -> None:
    cache = PageCache(max_entries=3, max_bytes=250)
    for i in range(5):
        cache.put(f"/p{i}".encode(), Entry(1, 200, [], b"x" * 100, time.monotonic()))
    assert len(cache) == 2  # 250 bytes hold two bodies of 100
    assert cache.get(b"/p4", 1) is not None and cache.get(b"/p0", 1) is None
    assert cache.get(b"/p4", 2) is None  # another content version: not served


def _now():  # noqa: ANN202
    from datetime import UTC, datetime

    return datetime.now(UTC)
