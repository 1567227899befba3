"""Page latency at scale: seed N synthetic articles (default 100,000) in SQLite, then time the channel
page, the article page and the channel feed through the ASGI app (and through a real uvicorn),
printing p50/p99 against the targets (p50 <= 20 ms, p99 <= 60 ms), side by side with naive peers:
the same channel page data with one chips query per article (N+1), and a deep page by OFFSET
instead of the (published_at, id) keyset.

    python bench/pages.py                 # 100,000 articles, 300 requests per page
    python bench/pages.py --articles 20000 --requests 100
    python bench/pages.py --quick         # 5,000 articles, 60 requests: a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evwire.pipeline import Services, open_services  # noqa: E402
from evwire.settings import Settings  # noqa: E402
from evwire.store.channels import channel_view, mention_counts  # noqa: E402
from evwire.store.queries import ArticleCard, ChannelRef, as_utc, latest_articles, load_chips  # noqa: E402
from evwire.store.tables import Article, Company, Mention  # noqa: E402
from evwire.web.app import create_app  # noqa: E402

WORDS = (
    "battery deliveries factory output sedan SUV charging network software autonomous platform launch "
    "price cut subsidy export tariff quarter revenue margin supplier chip lidar range kilometres order "
    "backlog plant capacity model refresh recall partnership joint venture investors guidance market"
).split()
TARGET_P50_MS, TARGET_P99_MS = 20.0, 60.0


# -- seeding ---------------------------------------------------------------------------------


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def seed(services: Services, n: int, rng: random.Random) -> dict[str, int]:
    """Bulk-insert n articles with 1-2 about and 0-3 mentioned companies each (Zipf-weighted)."""
    with services.db.session() as session:
        companies = list(session.execute(select(Company.id, Company.slug).order_by(Company.id)))
    if not companies:
        raise SystemExit("the catalog has no companies")
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(companies))]
    start = datetime(2023, 1, 1, tzinfo=UTC)
    span = 3 * 365 * 24 * 3600
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    now = datetime.now(UTC).strftime(fmt)
    t0 = time.perf_counter()
    raw = services.db.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SELECT coalesce(max(id), 0) FROM articles")
        first_id = cur.fetchone()[0] + 1
        batch = 5000
        for lo in range(0, n, batch):
            arts, ments = [], []
            for i in range(lo, min(n, lo + batch)):
                aid = first_id + i
                # published order differs from id order, as with back-filled feeds
                published = (start + timedelta(seconds=rng.randrange(span))).strftime(fmt)
                title = f"{_sentence(rng, 8)[:-1]} #{aid}"
                body = "\n\n".join(_sentence(rng, 25) for _ in range(3))
                bullets = f'["{_sentence(rng, 10)}", "{_sentence(rng, 10)}"]'
                arts.append(
                    (
                        aid,
                        f"https://example.com/news/{aid}",
                        title,
                        bullets,
                        body,
                        published,
                        "Synthetic",
                        f"{aid:064x}",
                        now,
                        now,
                    )
                )
                picked = rng.choices(range(len(companies)), weights=weights, k=5)
                seen: set[int] = set()
                for j, idx in enumerate(picked):
                    cid = companies[idx][0]
                    if cid in seen:
                        continue
                    seen.add(cid)
                    role = "about" if j < 1 + (rng.random() < 0.4) else "mentioned"
                    ments.append((aid, cid, round(rng.random(), 3), role, "auto", now))
            cur.executemany(
                "INSERT INTO articles (id, url, title, bullets, body, published_at, source_name,"
                " content_hash, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                arts,
            )
            cur.executemany(
                "INSERT INTO mentions (article_id, company_id, score, role, origin, created_at)"
                " VALUES (?,?,?,?,?,?)",
                ments,
            )
            raw.commit()
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    counts = seeded_counts(services)
    top = dict(sorted(counts.items(), key=lambda kv: -kv[1])[:5])
    print(f"seeded {n:,} articles in {time.perf_counter() - t0:.1f} s; largest channels (about): {top}")
    return counts


def seeded_counts(services: Services) -> dict[str, int]:
    with services.db.session() as session:
        rows = session.execute(
            select(Company.slug, func.count(Mention.id))
            .select_from(Company)
            .outerjoin(Mention, (Mention.company_id == Company.id) & (Mention.role == "about"))
            .group_by(Company.slug)
        )
        return {slug: n for slug, n in rows}


# -- naive peers -----------------------------------------------------------------------------


def naive_channel_cards(session: Session, slug: str, limit: int, offset: int = 0) -> list[ArticleCard]:
    """What a first version does: join and sort every article of the channel, page by OFFSET, then
    one chips query per article (N+1)."""
    cid = session.scalar(select(Company.id).where(Company.slug == slug))
    rows = session.execute(
        select(Article.id, Article.title, Article.url, Article.source_name, Article.published_at)
        .join(Mention, Mention.article_id == Article.id)
        .where(Mention.company_id == cid, Mention.role == "about")
        .order_by(Article.published_at.desc(), Article.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    cards = []
    for r in rows:
        chips = session.execute(
            select(Mention.role, Company.slug, Company.name)
            .join(Company, Company.id == Mention.company_id)
            .where(Mention.article_id == r.id)
        ).all()
        cards.append(
            ArticleCard(
                r.id,
                r.title,
                r.url,
                r.source_name,
                as_utc(r.published_at),
                tuple(ChannelRef(s, nm) for role, s, nm in chips if role == "about"),
                tuple(ChannelRef(s, nm) for role, s, nm in chips if role == "mentioned"),
            )
        )
    return cards


def naive_home_offset(session: Session, limit: int, offset: int) -> list[ArticleCard]:
    """The same page of cards as latest_articles, reached by OFFSET instead of the keyset cursor."""
    rows = session.execute(
        select(Article.id, Article.title, Article.url, Article.source_name, Article.published_at)
        .order_by(Article.published_at.desc(), Article.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    chips = load_chips(session, [r.id for r in rows])
    return [
        ArticleCard(r.id, r.title, r.url, r.source_name, as_utc(r.published_at), *chips[r.id]) for r in rows
    ]


# -- timing ----------------------------------------------------------------------------------


def pct(samples: list[float], p: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, max(0, math.ceil(p / 100 * len(s)) - 1))]


def report(name: str, samples: list[float], target: bool = True) -> tuple[float, float]:
    p50, p99 = statistics.median(samples), pct(samples, 99)
    ok = ""
    if target:
        ok = "  ok" if p50 <= TARGET_P50_MS and p99 <= TARGET_P99_MS else "  MISSES TARGET"
    print(f"  {name:<44} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms  (n={len(samples)}){ok}")
    return p50, p99


def time_calls(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


async def time_asgi(app, paths: list[str], n: int) -> list[float]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for path in paths[:5]:  # warm up
            (await client.get(path)).raise_for_status()
        out = []
        for i in range(n):
            t = time.perf_counter()
            r = await client.get(paths[i % len(paths)])
            out.append((time.perf_counter() - t) * 1000)
            if r.status_code != 200:
                raise SystemExit(f"{paths[i % len(paths)]} answered {r.status_code}")
        return out


SERVER_CODE = """
import sys, uvicorn
from pathlib import Path
from evwire.settings import Settings
from evwire.web.app import create_app
app = create_app(Settings(data_dir=Path(sys.argv[1]), admin_token="bench-admin-token",
                          page_cache_entries=int(sys.argv[3]), log_level="WARNING"))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""


def time_uvicorn(
    data_dir: Path, paths: dict[str, list[str]], n: int, cache_entries: int
) -> dict[str, list[float]]:
    """A real uvicorn in its own process (so the client does not share its GIL), keep-alive client."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = str(Path(__file__).resolve().parents[1])
    cmd = [sys.executable, "-c", SERVER_CODE, str(data_dir), str(port), str(cache_entries)]
    proc = subprocess.Popen(cmd, cwd=root)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for _ in range(400):
                try:
                    client.get("/healthz")
                    break
                except httpx.HTTPError:
                    time.sleep(0.05)
            out = {}
            for name, urls in paths.items():
                for path in urls[:5]:
                    client.get(path).raise_for_status()
                samples = []
                for i in range(n):
                    t = time.perf_counter()
                    client.get(urls[i % len(urls)]).raise_for_status()
                    samples.append((time.perf_counter() - t) * 1000)
                out[name] = samples
            return out
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=300, help="timed requests per page kind")
    ap.add_argument("--quick", action="store_true", help="5,000 articles and 60 requests")
    ap.add_argument("--no-uvicorn", action="store_true", help="skip the real-server run")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", type=Path, help="data folder to keep (and reuse when already seeded)")
    ap.add_argument(
        "--page-cache",
        action="store_true",
        help="serve repeats from the page cache (default: off, so every request renders its page)",
    )
    args = ap.parse_args()
    if args.quick:
        args.articles, args.requests = 5_000, 60
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="evwire-bench-") as tmp:
        # The targets are about rendering at 100,000 articles, so by default every request renders
        # (page cache off); bench/load.py measures the cache under load.
        cache_entries = 2000 if args.page_cache else 0
        settings = Settings(
            data_dir=args.keep or Path(tmp),
            admin_token="bench-admin-token",
            page_cache_entries=cache_entries,
            log_level="WARNING",
        )
        services = open_services(settings)
        counts = seeded_counts(services) if args.keep else {}
        if not counts or sum(counts.values()) == 0:
            counts = seed(services, args.articles, rng)
        app = create_app(settings, services=services)
        by_size = sorted(counts, key=lambda s: counts[s])
        big, small = by_size[-1], by_size[0]
        with services.db.session() as session:
            max_id = session.scalar(text("SELECT max(id) FROM articles"))
            deep = latest_articles(session, limit=30)
        article_paths = [f"/articles/{rng.randint(1, max_id)}" for _ in range(200)]
        kinds = {
            f"channel page /channels/{big} ({counts[big]:,} about)": [f"/channels/{big}"],
            f"channel page /channels/{small} ({counts[small]:,} about)": [f"/channels/{small}"],
            "article page /articles/{id} (random ids)": article_paths,
            f"channel feed /channels/{big}/feed.rss": [f"/channels/{big}/feed.rss"],
            f"channel feed /channels/{small}/feed.atom": [f"/channels/{small}/feed.atom"],
            "home page /": ["/"],
            "channel index /channels": ["/channels"],
        }
        cached = "page cache on" if args.page_cache else "page cache off: every request renders"
        print(f"\nthrough the ASGI app (httpx ASGITransport), {args.requests} requests each, {cached}:")
        misses = 0
        for name, paths in kinds.items():
            p50, p99 = report(name, asyncio.run(time_asgi(app, paths, args.requests)))
            misses += p50 > TARGET_P50_MS or p99 > TARGET_P99_MS
        if not args.no_uvicorn:
            print(
                "\nthrough a real uvicorn process on 127.0.0.1 (keep-alive client),"
                f" {args.requests} requests each:"
            )
            for name, samples in time_uvicorn(settings.data_dir, kinds, args.requests, cache_entries).items():
                p50, p99 = report(name, samples)
                misses += p50 > TARGET_P50_MS or p99 > TARGET_P99_MS

        print("\nquery layer, evwire vs naive peer (same data), fewer calls:")
        n = max(20, args.requests // 3)
        with services.db.session() as session:
            counts_now = mention_counts(session)  # what the app's per-app count cache holds
            for slug in (big, small):
                ours = time_calls(lambda s=slug: channel_view(session, s, limit=30, counts=counts_now), n)
                naive = time_calls(lambda s=slug: naive_channel_cards(session, s, 30), n)
                a, _ = report(f"channel {slug}: keyset + one chips query", ours, target=False)
                b, _ = report(f"channel {slug}: naive join-sort + N+1 chips", naive, target=False)
                print(f"  {'':<44} naive / evwire = {b / a:.1f}x at p50")
            depth = min(args.articles - 31, 50_000)
            page = latest_articles(session, limit=30)
            cursor = page.next_before
            # walk to the depth once to get the keyset cursor there
            row = session.execute(
                select(Article.published_at, Article.id)
                .order_by(Article.published_at.desc(), Article.id.desc())
                .offset(depth - 1)
                .limit(1)
            ).one()
            cursor = (as_utc(row.published_at), row.id)
            ours = time_calls(lambda: latest_articles(session, limit=30, before=cursor), n)
            naive = time_calls(lambda: naive_home_offset(session, 30, depth), n)
            a, _ = report(f"home page at depth {depth:,}: keyset cursor", ours, target=False)
            b, _ = report(f"home page at depth {depth:,}: OFFSET", naive, target=False)
            print(f"  {'':<44} OFFSET / keyset = {b / a:.1f}x at p50")
        del deep
        services.close()
    print("\nall page targets met" if not misses else f"\n{misses} page timing(s) missed the target")


if __name__ == "__main__":
    main()
