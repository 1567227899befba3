"""Keyword-alert percolator benchmark: 1,000,000 stored queries against ~1,000 articles.

    python bench/percolate.py            # 1,000,000 queries, 1,000 articles
    python bench/percolate.py --quick    # 100,000 queries, 200 articles

Queries have realistic shapes (company:X, "phrase" AND company:Y, ticker:, OR lists, NOT,
title:) built from the catalog's names, aliases, products and tickers, a list of further EV
brands and EV vocabulary, with popular companies more often than rare ones. Articles are
synthetic: sentences from the labelled corpus (when ``../shared/corpus`` is there) or from the
vocabulary, with one or two companies they are about and a few they mention.

The timed call is ``Percolator.match_ids`` (the matching query ids as one numpy array, what
``alerts.matching`` consumes). Prints per-article match time p50/p99 (targets: p50 <= 5 ms,
p99 <= 20 ms), the naive loop over every query (timed on a sample of queries and scaled), the
ratio (target >= 25x), whether the results are identical on a sample of articles (the same ids,
each once), and memory.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evwire.alerts.document import MatchDoc, make_doc  # noqa: E402
from evwire.alerts.percolator import Percolator, doc_frequencies  # noqa: E402
from evwire.alerts.query import Node, evaluate, parse_query  # noqa: E402
from evwire.tag.catalog import load_catalog  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "articles.jsonl"

# Further EV makers and suppliers (name, ticker or None), used beside the catalog's companies.
MORE_BRANDS = [
    ("Li Auto", "NASDAQ:LI"),
    ("XPeng", "NYSE:XPEV"),
    ("Zeekr", "NYSE:ZK"),
    ("Geely", "HKG:0175"),
    ("Leapmotor", "HKG:9863"),
    ("Rivian", "NASDAQ:RIVN"),
    ("Lucid", "NASDAQ:LCID"),
    ("Polestar", "NASDAQ:PSNY"),
    ("Volkswagen", "ETR:VOW3"),
    ("BMW", "ETR:BMW"),
    ("Mercedes-Benz", "ETR:MBG"),
    ("Stellantis", "NYSE:STLA"),
    ("General Motors", "NYSE:GM"),
    ("Hyundai", "KRX:005380"),
    ("Kia", "KRX:000270"),
    ("Toyota", "TYO:7203"),
    ("Honda", "TYO:7267"),
    ("Nissan", "TYO:7201"),
    ("Renault", "EPA:RNO"),
    ("Volvo Cars", "STO:VOLCAR-B"),
    ("CATL", "SHE:300750"),
    ("LG Energy Solution", "KRX:373220"),
    ("Panasonic", "TYO:6752"),
    ("Samsung SDI", "KRX:006400"),
    ("SK On", None),
    ("Huawei", None),
    ("Aito", None),
    ("Onvo", None),
    ("Firefly", None),
    ("Great Wall", "HKG:2333"),
    ("Chery", None),
    ("SAIC", "SHA:600104"),
    ("GAC Aion", "HKG:2238"),
    ("Changan", "SHE:000625"),
    ("Dongfeng", "HKG:0489"),
    ("Seres", "SHA:601127"),
    ("Zeekr", None),
    ("Lotus", "NASDAQ:LOT"),
    ("VinFast", "NASDAQ:VFS"),
    ("Fisker", None),
    ("Polestar", None),
    ("Mobileye", "NASDAQ:MBLY"),
    ("Waymo", None),
    ("Pony.ai", "NASDAQ:PONY"),
    ("WeRide", "NASDAQ:WRD"),
    ("Horizon Robotics", "HKG:9660"),
    ("Hesai", "NASDAQ:HSAI"),
    ("ChargePoint", "NYSE:CHPT"),
    ("EVgo", "NASDAQ:EVGO"),
    ("QuantumScape", "NYSE:QS"),
    ("Solid Power", "NASDAQ:SLDP"),
    ("Albemarle", "NYSE:ALB"),
    ("Ganfeng Lithium", "HKG:1772"),
    ("Lynk & Co", None),
    ("Smart", None),
    ("Denza", None),
    ("Yangwang", None),
    ("Avatr", None),
    ("Deepal", None),
    ("IM Motors", None),
]
PHRASES = [
    "solid-state battery",
    "price cut",
    "joint venture",
    "monthly deliveries",
    "autonomous driving",
    "software update",
    "charging network",
    "sodium-ion battery",
    "battery swap",
    "export tariffs",
    "new factory",
    "quarterly results",
    "recall",
    "robotaxi",
    "lidar",
    "800V platform",
    "LFP cells",
    "market share",
    "sales target",
    "annual target",
    "production capacity",
    "Europe launch",
    "price war",
    "trade-in subsidy",
    "self-driving",
    "over-the-air",
    "battery recycling",
    "gigafactory",
    "layoffs",
    "IPO",
    "earnings call",
    "range anxiety",
    "fast charging",
    "plug-in hybrid",
    "extended-range",
    "chip shortage",
    "supply chain",
    "EU tariffs",
    "Mexico plant",
    "Hungary plant",
    "order backlog",
    "new model",
    "facelift",
    "crash test",
    "Euro NCAP",
    "lithium price",
]
WORDS = [
    "battery",
    "deliveries",
    "tariff",
    "subsidy",
    "factory",
    "recall",
    "lidar",
    "robotaxi",
    "chip",
    "charging",
    "export",
    "Europe",
    "Germany",
    "Thailand",
    "Brazil",
    "India",
    "Norway",
    "sedan",
    "SUV",
    "pickup",
    "truck",
    "bus",
    "hydrogen",
    "lithium",
    "nickel",
    "software",
    "autopilot",
    "FSD",
    "NOA",
    "registrations",
    "insurance",
    "loss",
    "profit",
    "revenue",
    "margin",
    "layoffs",
    "CEO",
    "strike",
]
FILLER = (
    "the company said on monday that its vehicles sold well in the month as demand rose across the "
    "market while rivals cut prices and analysts expected further growth next year in china and abroad"
).split()


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def load_companies() -> list[dict]:
    out: dict[str, dict] = {}
    for c in load_catalog():
        out[c.slug] = {
            "slug": c.slug,
            "names": list(c.all_names()) + list(c.products),
            "tickers": [(t.exchange, t.symbol) for t in c.tickers],
        }
    for name, ticker in MORE_BRANDS:
        slug = slugify(name)
        if slug not in out:
            tickers = [tuple(ticker.split(":", 1))] if ticker else []
            out[slug] = {"slug": slug, "names": [name], "tickers": tickers}
    return list(out.values())


def zipf_weights(n: int, s: float = 1.0) -> list[float]:
    return [1.0 / (i + 1) ** s for i in range(n)]


class QueryMaker:
    def __init__(self, companies: list[dict], rng: random.Random) -> None:
        self.rng = rng
        self.companies = companies
        self.weights = zipf_weights(len(companies), 0.9)
        self.vocab = PHRASES + WORDS

    def company(self) -> dict:
        return self.rng.choices(self.companies, self.weights)[0]

    def name(self, c: dict) -> str:
        name = self.rng.choice(c["names"])
        return f'"{name}"' if re.search(r"[^\w]", name) else name

    def term(self) -> str:
        t = self.rng.choice(self.vocab)
        return f'"{t}"' if " " in t or "-" in t else t

    def make(self) -> tuple[str, bool]:
        r, rng = self.rng.random(), self.rng
        c = self.company()
        if r < 0.30:
            return f"company:{c['slug']}", rng.random() < 0.1
        if r < 0.42:
            return f"{self.term()} AND company:{c['slug']}", rng.random() < 0.1
        if r < 0.50:
            tickers = [t for t in c["tickers"]] or [t for x in self.companies for t in x["tickers"]]
            ex, sym = rng.choice(tickers)
            return (f"ticker:{ex}:{sym}" if rng.random() < 0.3 else f"ticker:{sym}"), False
        if r < 0.65:
            names = " OR ".join(self.name(self.company()) for _ in range(rng.randint(2, 5)))
            return (f"({names}) AND {self.term()}" if rng.random() < 0.5 else names), False
        if r < 0.75:
            return " ".join(self.term() for _ in range(rng.randint(2, 3))), False
        if r < 0.85:
            return f"company:{c['slug']} NOT {self.term()}", rng.random() < 0.1
        if r < 0.93:
            word = self.rng.choice(WORDS)
            return f"title:{word} {self.name(c)}", False
        if r < 0.98:
            return self.name(c), False
        if r < 0.9999:
            other = self.company()
            return (
                f"{self.name(c)} AND ({self.name(other)} OR {self.term()}) NOT title:{rng.choice(WORDS)}",
                False,
            )
        return f"NOT {self.term()}", False


def sentence_pool(rng: random.Random) -> list[str]:
    if CORPUS.exists():
        pool = []
        for line in CORPUS.read_text(encoding="utf-8").splitlines():
            text = json.loads(line)["text"]
            pool.extend(s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if len(s.strip()) > 20)
        return pool
    return [" ".join(rng.choices(FILLER + WORDS, k=rng.randint(8, 25))) for _ in range(2000)]


def make_articles(n: int, companies: list[dict], rng: random.Random) -> list[MatchDoc]:
    pool = sentence_pool(rng)
    weights = zipf_weights(len(companies), 0.9)
    docs = []
    for _ in range(n):
        about = {c["slug"]: c for c in rng.choices(companies, weights, k=rng.randint(1, 2))}
        mentioned = {c["slug"]: c for c in rng.choices(companies, weights, k=rng.randint(0, 3))}
        mentioned = {s: c for s, c in mentioned.items() if s not in about}
        lead = rng.choice(list(about.values()))
        title = f"{rng.choice(lead['names'])} {rng.choice(PHRASES)} {rng.choice(pool)[:60]}"
        bullets = [rng.choice(pool) for _ in range(rng.randint(2, 4))]
        body_parts = [rng.choice(pool) for _ in range(rng.randint(8, 20))]
        for c in [*about.values(), *about.values(), *mentioned.values()]:
            body_parts.insert(
                rng.randrange(len(body_parts) + 1), f"{rng.choice(c['names'])} {rng.choice(WORDS)}."
            )
        body_parts.append(" ".join(rng.choices(PHRASES + WORDS, k=3)))
        tickers = [t for c in about.values() for t in c["tickers"]][:2]
        docs.append(
            make_doc(title, bullets, " ".join(body_parts), about=about, mentioned=mentioned, tickers=tickers)
        )
    return docs


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100,000 queries, 200 articles")
    ap.add_argument("--queries", type=int)
    ap.add_argument("--articles", type=int)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--heuristic",
        action="store_true",
        help="choose anchors by the built-in guess, not measured frequencies",
    )
    args = ap.parse_args()
    n_queries = args.queries or (100_000 if args.quick else 1_000_000)
    n_articles = args.articles or (200 if args.quick else 1_000)
    rng = random.Random(args.seed)

    companies = load_companies()
    maker = QueryMaker(companies, rng)
    rss0 = rss_mb()
    t0 = time.perf_counter()
    parsed: dict[str, Node] = {}
    stored: list[tuple[Node, bool]] = []
    for _ in range(n_queries):
        text, mentions = maker.make()
        ast = parsed.get(text)
        if ast is None:
            ast = parsed[text] = parse_query(text)
        stored.append((ast, mentions))
    t_parse = time.perf_counter() - t0
    # Anchors are chosen by how often keys occur, measured on other articles than those timed
    # (in the service: the last articles stored).
    doc_freq = (
        None
        if args.heuristic
        else doc_frequencies(make_articles(500, companies, random.Random(args.seed + 1)))
    )
    gc.collect()
    rss1 = rss_mb()

    t0 = time.perf_counter()
    perc = Percolator(doc_freq=doc_freq)
    for qid, (ast, mentions) in enumerate(stored):
        perc.add(qid, ast, mentions)
    perc.prepare()
    t_add = time.perf_counter() - t0
    gc.collect()
    rss2 = rss_mb()

    docs = make_articles(n_articles, companies, rng)
    t0 = time.perf_counter()
    for d in docs:
        _ = d.keys
    t_keys = (time.perf_counter() - t0) / len(docs) * 1000

    times, cpu_times, hits = [], [], []
    for d in docs:
        t, c = time.perf_counter(), time.thread_time()
        res = perc.match_ids(d)  # what alerts.matching consumes: an array, no object per id
        times.append((time.perf_counter() - t) * 1000)
        cpu_times.append((time.thread_time() - c) * 1000)
        hits.append(len(res))

    # Naive loop: every query evaluated on a sample of articles, timed on a sample of queries.
    sample_q = rng.sample(range(n_queries), min(n_queries, 100_000))
    sample_docs = rng.sample(docs, min(len(docs), 20))
    t0 = time.perf_counter()
    for d in sample_docs:
        for qid in sample_q:
            ast, mentions = stored[qid]
            evaluate(ast, d, mentions)
    naive_ms = (time.perf_counter() - t0) / len(sample_docs) * 1000 * (n_queries / len(sample_q))

    check_docs = rng.sample(docs, min(len(docs), 5 if not args.quick else 10))

    def same(d: MatchDoc) -> bool:
        got = perc.match_ids(d).tolist()
        naive = {qid for qid, (ast, m) in enumerate(stored) if evaluate(ast, d, m)}
        return len(got) == len(naive) and set(got) == naive  # each id once, and the same ids

    identical = all(same(d) for d in check_docs)

    p50, p99 = statistics.median(times), pct(times, 0.99)
    print(f"queries stored        {n_queries:,} ({len(parsed):,} distinct texts, {len(companies)} companies)")
    print(f"index                 {perc.stats()}")
    print(f"parse / add           {t_parse:.1f} s / {t_add:.1f} s")
    print(
        f"memory (RSS)          ASTs and doc_freq +{rss1 - rss0:.0f} MB, "
        f"percolator index +{rss2 - rss1:.0f} MB, "
        f"process {rss_mb():.0f} MB"
    )
    print(
        f"articles              {len(docs):,}; matches per article p50 {statistics.median(hits):,.0f}, "
        f"max {max(hits):,}; doc keys {t_keys:.2f} ms each"
    )
    print(
        f"match per article     p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {max(times):.2f} ms "
        f"(targets p50 <= 5, p99 <= 20); CPU time p50 {statistics.median(cpu_times):.2f} ms, "
        f"p99 {pct(cpu_times, 0.99):.2f} ms"
    )
    print(
        f"naive loop            {naive_ms:,.0f} ms per article (timed on {len(sample_q):,} queries x "
        f"{len(sample_docs)} articles, scaled)"
    )
    print(
        f"ratio                 {naive_ms / statistics.mean(times):,.0f}x naive/mean, "
        f"{naive_ms / p50:,.0f}x naive/p50 (target >= 25x)"
    )
    print(f"identical results     {identical} on {len(check_docs)} articles x {n_queries:,} queries")
    ok = p50 <= 5 and p99 <= 20 and naive_ms / statistics.mean(times) >= 25 and identical
    print("targets met" if ok else "TARGETS MISSED")
    sys.exit(0 if identical else 1)


if __name__ == "__main__":
    main()
