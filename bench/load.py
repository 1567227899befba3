"""Pages under load: a real uvicorn serving evwire on 127.0.0.1 over PostgreSQL with 100,000
articles; the channel page, the article page and a channel's RSS feed, each at a fixed rate of
200 requests/s (open loop: latency counted from the scheduled send time, so a slow server can't
hide its queue), then closed-loop throughput with wrk when it is installed. Target: p99 <= 50 ms.

    python bench/load.py                         # 100,000 articles, 200 req/s, 20 s per page
    python bench/load.py --quick                 # 5,000 articles, 5 s per page: a smoke run
    python bench/load.py --workers 2 --rate 400  # uvicorn workers, another rate
    EVWIRE_BENCH_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test python bench/load.py

The bench creates a private schema in that database and drops it afterwards (``--schema NAME``
keeps one and reuses it, seeded once). Pages are served as a reader gets them: with the page cache
(``web.pagecache``: a rendered page is kept until the content changes; the output says how many
requests it answered), and ``--no-page-cache`` renders every request. While the pages are read the
content changes (``--churn``, default one change a second, as on an instance following busy feeds):
each change empties every worker's page cache, so the cached figures include the re-renders. The
load generator is a lean keep-alive asyncio client, so its own CPU takes little from the server's
2 cores. It installs
nothing: without wrk (apt-get install wrk) the throughput part is skipped with a note.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.pages import _sentence, pct  # noqa: E402 - the synthetic text of the pages bench
from evwire.pipeline import Services, open_services  # noqa: E402
from evwire.settings import Settings  # noqa: E402

PG_URL = os.environ.get(
    "EVWIRE_BENCH_PG_URL",
    os.environ.get("EVWIRE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)
TARGET_P99_MS = 50.0


def app_factory():  # type: ignore[no-untyped-def]
    """uvicorn --factory target: the app from EVWIRE_* variables (set by this bench)."""
    from evwire.web.app import create_app

    return create_app(Settings())


# -- seeding (PostgreSQL COPY) ----------------------------------------------------------------


def seed_pg(services: Services, n: int, rng: random.Random) -> list[str]:
    """n articles with 1-2 about and 0-3 mentioned companies (Zipf-weighted), by COPY. Returns the
    channel slugs, largest first."""
    with services.db.session() as session:
        companies = list(session.execute(sa.text("SELECT id, slug FROM companies ORDER BY id")))
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(companies))]
    start, span = datetime(2023, 1, 1, tzinfo=UTC), 3 * 365 * 24 * 3600
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    raw = services.db.engine.raw_connection()
    try:
        cur = raw.cursor()
        cols = (
            "id, url, title, bullets, body, published_at, source_name, content_hash, created_at, updated_at"
        )
        with cur.copy(f"COPY articles ({cols}) FROM STDIN") as copy:
            for aid in range(1, n + 1):
                bullets = json.dumps([_sentence(rng, 10), _sentence(rng, 10)])
                body = "\n\n".join(_sentence(rng, 25) for _ in range(3))
                published = start + timedelta(seconds=rng.randrange(span))
                copy.write_row((aid, f"https://example.com/news/{aid}", f"{_sentence(rng, 8)[:-1]} #{aid}",
                                bullets, body, published, "Synthetic", f"{aid:064x}", now, now))  # fmt: skip
        with cur.copy(
            "COPY mentions (article_id, company_id, score, role, origin, created_at) FROM STDIN"
        ) as copy:
            for aid in range(1, n + 1):
                seen: set[int] = set()
                for j, idx in enumerate(rng.choices(range(len(companies)), weights=weights, k=5)):
                    cid = companies[idx][0]
                    if cid in seen:
                        continue
                    seen.add(cid)
                    role = "about" if j < 1 + (rng.random() < 0.4) else "mentioned"
                    copy.write_row((aid, cid, round(rng.random(), 3), role, "auto", now))
        cur.execute("SELECT setval(pg_get_serial_sequence('articles', 'id'), %s)", (n,))
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    with services.db.session() as session:
        rows = session.execute(
            sa.text(
                "SELECT c.slug, count(*) AS n FROM mentions m JOIN companies c ON c.id = m.company_id "
                "WHERE m.role = 'about' GROUP BY c.slug ORDER BY n DESC"
            )
        ).all()
    print(f"seeded {n:,} articles by COPY in {time.perf_counter() - t0:.1f} s; "
          f"largest channels: {dict(rows[:5])}")  # fmt: skip
    return [r.slug for r in rows]


# -- the server ------------------------------------------------------------------------------


def start_server(env: dict[str, str], workers: int) -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [sys.executable, "-m", "uvicorn", "bench.load:app_factory", "--factory", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit("uvicorn exited before answering; see its output above")
        time.sleep(0.1)
    proc.terminate()
    raise SystemExit("uvicorn did not answer /healthz within 60 s")


# -- load ------------------------------------------------------------------------------------


class _Conn:
    """One keep-alive HTTP/1.1 connection with the least client-side work: the load generator shares
    the 2 cores with the server, so its own CPU per request must stay small (httpx costs ~1 ms)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: bytes) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, base: str) -> _Conn:
        hostport = base.split("://", 1)[1]
        host, port = hostport.rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        return cls(reader, writer, hostport.encode())

    async def get(self, path: str) -> tuple[int, bool]:
        """(status, served from the page cache)"""
        self.writer.write(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " + self.host + b"\r\n\r\n")
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
        if m:
            await self.reader.readexactly(int(m.group(1)))
        else:  # chunked
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        return status, b"x-evwire-cache: hit" in head.lower()

    def close(self) -> None:
        self.writer.close()


async def fixed_rate(base: str, urls: list[str], rate: float, seconds: float, conns: int) -> dict:
    """Open loop: request i is due at start + i/rate, sent on the first free one of ``conns``
    keep-alive connections; latency counts from the due time. Returns samples (ms), errors, achieved rate."""
    total = int(rate * seconds)
    latencies: list[float] = []
    service: list[float] = []
    errors = hits = 0
    pool: asyncio.Queue[_Conn] = asyncio.Queue()
    for _ in range(conns):
        pool.put_nowait(await _Conn.open(base))
    warm = await pool.get()
    for url in urls[:20]:  # warm up: connections, caches, plans
        await warm.get(url)
    pool.put_nowait(warm)
    start = time.perf_counter() + 0.05

    async def one(i: int) -> None:
        nonlocal errors, hits
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        conn = await pool.get()
        sent = time.perf_counter()
        try:
            status, hit = await asyncio.wait_for(conn.get(urls[i % len(urls)]), 10)
            ok = status == 200
            hits += hit
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            ok = False
            conn.close()
            conn = await _Conn.open(base)
        pool.put_nowait(conn)
        done = time.perf_counter()
        if not ok:
            errors += 1
        latencies.append((done - due) * 1000)
        service.append((done - sent) * 1000)

    await asyncio.gather(*(one(i) for i in range(total)))
    elapsed = time.perf_counter() - start
    while not pool.empty():
        pool.get_nowait().close()
    return {"samples": latencies, "service": service, "errors": errors, "rate": total / elapsed,
            "hits": hits / max(total, 1)}  # fmt: skip


def url_for_psycopg(sa_url: str) -> str:
    """The SQLAlchemy URL as a libpq one (the driver name dropped)."""
    return sa_url.replace("postgresql+psycopg://", "postgresql://", 1)


class Churn:
    """Content changing while pages are read, as on a live instance: ``per_second`` times a second an
    article's row is touched (a real UPDATE, so PostgreSQL's trigger tells every web process that the
    content changed and their page caches start over). A thread with its own connection, so the load
    generator's event loop is not held up."""

    def __init__(self, dsn: str, per_second: float, n_articles: int) -> None:
        self.dsn, self.per_second, self.n = dsn, per_second, n_articles
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Churn:
        if self.per_second > 0:
            self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg

        rng = random.Random(5)
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stop.wait(1 / self.per_second):
                aid = rng.randint(1, self.n)
                conn.execute("UPDATE articles SET updated_at = now() WHERE id = %s", (aid,))


def run_wrk(base: str, path: str, seconds: int) -> str:
    if shutil.which("wrk") is None:
        return "wrk not installed (apt-get install wrk); throughput part skipped"
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", base + path],
                         capture_output=True, text=True, timeout=seconds + 30).stdout  # fmt: skip
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"50%\s+([\d.]+\w+)", out)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    return (f"wrk 2 threads 16 connections {seconds} s: {float(rps.group(1)) if rps else 0:,.0f} req/s, "
            f"p50 {p50.group(1) if p50 else '?'}, p99 {p99.group(1) if p99 else '?'}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--rate", type=float, default=200.0, help="requests per second, per page")
    ap.add_argument("--seconds", type=float, default=20.0, help="seconds per page at the fixed rate")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--connections", type=int, default=8, help="client connections")
    ap.add_argument("--wrk-seconds", type=int, default=10)
    ap.add_argument("--no-page-cache", action="store_true", help="render every request (cache off)")
    ap.add_argument(
        "--churn",
        type=float,
        default=1.0,
        help="content changes per second during the timed runs (each empties every page cache); 0: none",
    )
    ap.add_argument("--quick", action="store_true", help="5,000 articles, 5 s per page, 3 s of wrk")
    ap.add_argument("--pg-url", default=PG_URL)
    ap.add_argument("--schema", help="use (and keep) this schema; seeded only if it has no articles")
    args = ap.parse_args()
    if args.quick:
        args.articles, args.seconds, args.wrk_seconds = 5_000, 5.0, 3

    schema = args.schema or f"bench_load_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.pg_url)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    except sa.exc.OperationalError as exc:
        raise SystemExit(f"PostgreSQL not reachable at {args.pg_url}: {exc.orig}") from None
    sep = "&" if "?" in args.pg_url else "?"
    url = f"{args.pg_url}{sep}options=-csearch_path%3D{schema}"
    data_dir = Path(tempfile.mkdtemp(prefix="evwire-load-"))
    proc = None
    try:
        settings = Settings(data_dir=data_dir, database_url=url, log_level="WARNING")
        services = open_services(settings)  # migrations and the catalog
        try:
            with services.db.session() as session:
                have = session.scalar(sa.text("SELECT count(*) FROM articles")) or 0
                slugs = [r[0] for r in session.execute(sa.text(
                    "SELECT c.slug FROM mentions m JOIN companies c ON c.id = m.company_id "
                    "WHERE m.role = 'about' GROUP BY c.slug ORDER BY count(*) DESC"))]  # fmt: skip
            if have and args.schema:
                if not slugs:
                    raise SystemExit(
                        f"schema {schema} has articles but no channel mentions: a catalog change re-tagged "
                        f'its synthetic articles. Drop it (DROP SCHEMA "{schema}" CASCADE) and run again.'
                    )
                args.articles = have
                print(f"reusing schema {schema} with {have:,} articles")
            else:
                slugs = seed_pg(services, args.articles, random.Random(7))
        finally:
            services.close()
        env = {"EVWIRE_DATA_DIR": str(data_dir), "EVWIRE_DATABASE_URL": url, "EVWIRE_LOG_LEVEL": "WARNING",
               "EVWIRE_RATE_LIMIT_ENABLED": "false",
               "EVWIRE_PAGE_CACHE_ENTRIES": "0" if args.no_page_cache else "2000"}  # fmt: skip
        proc, base = start_server(env, args.workers)
        rng = random.Random(11)
        top = slugs[:10]
        pages = {
            "channel page": [f"/channels/{rng.choice(top)}" for _ in range(500)],
            "article page": [f"/articles/{rng.randint(1, args.articles)}" for _ in range(2000)],
            "channel feed": [f"/channels/{rng.choice(top)}/feed.rss" for _ in range(500)],
        }
        print(f"\nuvicorn x{args.workers} on {base}, PostgreSQL schema {schema}, {args.articles:,} articles")
        print(f"fixed {args.rate:g} req/s for {args.seconds:g} s per page ({args.connections} connections); "
              f"{args.churn:g} content changes/s")  # fmt: skip
        verdict = True
        for name, urls in pages.items():
            with Churn(url_for_psycopg(url), args.churn, args.articles):
                res = asyncio.run(fixed_rate(base, urls, args.rate, args.seconds, args.connections))
            p50, p99 = pct(res["samples"], 50), pct(res["samples"], 99)
            ok = p99 <= TARGET_P99_MS and res["errors"] == 0
            verdict &= ok
            print(f"  {name:<13} {res['rate']:6.1f} req/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  "
                  f"(service p99 {pct(res['service'], 99):5.1f} ms)  cache hits {res['hits']:4.0%}  "
                  f"errors {res['errors']}  "
                  f"{'ok' if ok else 'OVER TARGET'}")  # fmt: skip
        print("\nthroughput (closed loop):")
        for name, urls in pages.items():
            print(f"  {name:<13} {run_wrk(base, urls[0], args.wrk_seconds)}")
        print(f"\nverdict: p99 <= {TARGET_P99_MS:g} ms at {args.rate:g} req/s on every page: "
              f"{'yes' if verdict else 'NO'}")  # fmt: skip
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
        if not args.schema:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
