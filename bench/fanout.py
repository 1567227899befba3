"""Fan-out benchmark (SMTP part): one article to N subscribers into a local aiosmtpd sink.

    python bench/fanout.py            # 100,000 subscribers
    python bench/fanout.py --quick    # 2,000

The sink is aiosmtpd in a process of its own on 127.0.0.1, on a core of its own (the senders get
the others; EVWIRE_BENCH_AFFINITY=0 to turn off) and on uvloop when installed (EVWIRE_BENCH_UVLOOP=0
to turn off). Its handler only counts messages, distinct recipients and Message-IDs, and
connections; like real MTAs it offers PIPELINING (``--no-pipelining``: not). See
docs/decisions/0015-fast-fanout.md. Every message is personalised as in the service: the alert is built once
(``alert_template``), then each subscriber's copy gets its own address, Message-ID and signed
manage/unsubscribe links (``LinkSigner``). Side by side, the same messages go out three ways:

* evwire's ``SmtpTransport`` (a pool of reused connections opened by aiosmtplib, MAIL/RCPT/DATA
  pipelined when the server offers it),
* an smtplib loop that connects for every message,
* an smtplib loop that reuses one connection;

the smtplib loops are timed on a sample and scaled when slow. Targets: >= 1,000 msg/s, >= 3x the
connect-per-message loop, >= 0.8x the reuse loop; sender memory <= 200 MB RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evwire.alerts.links import LinkSigner  # noqa: E402
from evwire.alerts.mail import ArticleItem, why_line  # noqa: E402
from evwire.alerts.template import AlertTemplate, alert_template  # noqa: E402
from evwire.alerts.transport import Outcome, SmtpTransport  # noqa: E402

SENDER = "alerts@news.example.org"
AFFINITY = os.environ.get("EVWIRE_BENCH_AFFINITY", "1") != "0"
UVLOOP = os.environ.get("EVWIRE_BENCH_UVLOOP", "1") != "0"


def run_loop(coro):  # type: ignore[no-untyped-def]
    """asyncio.run, on uvloop when it is installed (EVWIRE_BENCH_UVLOOP=0: never)."""
    if UVLOOP:
        try:
            import uvloop

            return uvloop.run(coro)
        except ImportError:
            pass
    return asyncio.run(coro)


BASE = "https://news.example.org"


# --- the sink (child process) -------------------------------------------------------------


def serve_sink(pipelining: bool = True) -> None:
    """aiosmtpd with a handler that only counts: messages, distinct recipients and Message-IDs,
    connections. Like real MTAs it offers PIPELINING (aiosmtpd reads pipelined commands but does
    not say so); ``--no-pipelining`` measures without."""
    from aiosmtpd.smtp import SMTP

    if os.environ.get("EVWIRE_BENCH_SINK_CPU"):  # a core of its own; the senders have the others
        os.sched_setaffinity(0, {int(os.environ["EVWIRE_BENCH_SINK_CPU"])})

    class Sink:
        messages = 0
        recipients: set[str] = set()
        ids: set[bytes] = set()
        connections = 0

        async def handle_EHLO(self, server, session, envelope, hostname, responses):  # type: ignore[no-untyped-def]  # noqa: N802
            session.host_name = hostname
            if pipelining:
                responses.insert(-1, "250-PIPELINING")
            return responses

        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
            Sink.messages += 1
            Sink.recipients.update(envelope.rcpt_tos)
            data = envelope.original_content
            at = data.find(b"\r\nMessage-ID:")
            if at >= 0:
                Sink.ids.add(data[at + 13 : data.find(b"\r\n", at + 2)].strip())
            return "250 2.0.0 OK"

    async def main() -> None:
        loop = asyncio.get_running_loop()
        handler = Sink()

        def factory() -> SMTP:
            Sink.connections += 1
            return SMTP(handler, hostname="sink.local", loop=loop)

        server = await loop.create_server(factory, "127.0.0.1", 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        stop = asyncio.Event()

        def report() -> None:
            print(f"{Sink.messages} {len(Sink.recipients)} {Sink.connections} {len(Sink.ids)}", flush=True)

        loop.add_signal_handler(signal.SIGUSR1, report)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()

    run_loop(main())


class SinkProcess:
    def __init__(self, pipelining: bool = True) -> None:
        flags = [] if pipelining else ["--no-pipelining"]
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve-sink", *flags], stdout=subprocess.PIPE, text=True, bufsize=1
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        self._last = (0, 0, 0, 0)

    def counts(self) -> tuple[int, int, int, int]:
        """(messages, distinct recipients, connections, distinct Message-IDs) since the last call."""
        assert self.proc.stdout is not None
        self.proc.send_signal(signal.SIGUSR1)
        now = tuple(int(x) for x in self.proc.stdout.readline().split())
        delta = tuple(a - b for a, b in zip(now, self._last, strict=True))
        self._last = now  # type: ignore[assignment]
        return delta  # type: ignore[return-value]

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


# --- the senders --------------------------------------------------------------------------


def messages(
    tpl: AlertTemplate, signer: LinkSigner, start: int, n: int
) -> Iterator[tuple[bytes, str, list[str]]]:
    for i in range(start, start + n):
        to = f"reader{i}@example.com"
        data = tpl.render(
            to,
            i,
            f"{BASE}/manage/{signer.make('manage', i, to)}",
            f"{BASE}/unsubscribe/{signer.make('unsubscribe', i, to)}",
            f"mailto:unsubscribe@news.example.org?subject=unsubscribe-{i}",
        )
        yield data, SENDER, [to]


async def run_transport(
    port: int, tpl: AlertTemplate, signer: LinkSigner, n: int, pool: int
) -> tuple[float, int]:
    async with SmtpTransport.from_url(f"smtp://127.0.0.1:{port}", pool_size=pool) as smtp:
        t0 = time.perf_counter()
        results = await smtp.send_many(messages(tpl, signer, 0, n))
        elapsed = time.perf_counter() - t0
    ok = sum(r.outcome is Outcome.ACCEPTED for r in results)
    return elapsed, ok


def run_connect_each(port: int, tpl: AlertTemplate, signer: LinkSigner, start: int, n: int) -> float:
    t0 = time.perf_counter()
    for data, sender, rcpts in messages(tpl, signer, start, n):
        with smtplib.SMTP("127.0.0.1", port, local_hostname="localhost") as s:
            s.sendmail(sender, rcpts, data)
    return time.perf_counter() - t0


def run_reuse(port: int, tpl: AlertTemplate, signer: LinkSigner, start: int, n: int) -> float:
    t0 = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, local_hostname="localhost") as s:
        for data, sender, rcpts in messages(tpl, signer, start, n):
            s.sendmail(sender, rcpts, data)
    return time.perf_counter() - t0


def rss_mb() -> tuple[float, float]:
    """(current, peak) RSS; the peak since ``reset_peak_rss`` where Linux allows resetting it."""
    current = peak = float("nan")
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            current = int(line.split()[1]) / 1024
        elif line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    if peak != peak:  # no /proc: the process's lifetime peak
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return current, peak


def reset_peak_rss() -> None:
    """Start the peak RSS afresh (Linux >= 4.0), so the send step is measured without the
    seeding and matching before it in the same process."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2,000 subscribers")
    ap.add_argument("-n", type=int, help="subscribers (default 100,000)")
    ap.add_argument("--pool", type=int, default=8, help="SMTP connections (EVWIRE_SMTP_POOL_SIZE)")
    ap.add_argument("--sample", type=int, default=2_000, help="messages timed in each smtplib loop")
    ap.add_argument("--no-e2e", action="store_true", help="skip the end-to-end run (database + sender)")
    ap.add_argument("--posts", type=int, default=20, help="posts timed for post-to-first-mail latency")
    ap.add_argument(
        "--no-pipelining", action="store_true", help="the sink does not offer PIPELINING (RFC 2920)"
    )
    ap.add_argument("--serve-sink", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_sink:
        serve_sink(not args.no_pipelining)
        return
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    if AFFINITY and len(cpus) > 1:  # the sink takes the last core, the senders the rest
        os.environ["EVWIRE_BENCH_SINK_CPU"] = str(max(cpus))
        os.sched_setaffinity(0, cpus - {max(cpus)})
    n = args.n or (2_000 if args.quick else 100_000)
    sample = min(n, args.sample)

    item = ArticleItem(
        title="Xiaomi and Ford weigh a joint venture for EV batteries in Europe",
        url=f"{BASE}/articles/1234-xiaomi-and-ford-weigh-a-joint-venture",
        bullets=(
            "Xiaomi delivered 411,837 vehicles in 2025 and aims for 550,000 in 2026",
            "Ford CEO Jim Farley has praised the SU7",
            "Talks are at an early stage",
        ),
        channels=("Xiaomi", "Ford"),
        source="example news",
    )
    t0 = time.perf_counter()
    tpl = alert_template(item, f"evwire <{SENDER}>", "news.example.org", why=why_line(["Xiaomi"]))
    t_tpl = (time.perf_counter() - t0) * 1000
    signer = LinkSigner("bench-signing-key-0123456789")
    size = len(next(messages(tpl, signer, 0, 1))[0])

    sink = SinkProcess(not args.no_pipelining)
    try:
        cpu0, sink0 = time.process_time(), sink.cpu_seconds()
        elapsed, ok = asyncio.run(run_transport(sink.port, tpl, signer, n, args.pool))
        cpu_sender, cpu_sink = time.process_time() - cpu0, sink.cpu_seconds() - sink0
        got, rcpts, conns, ids = sink.counts()
        rate = n / elapsed
        rss_now, rss_max = rss_mb()

        t_each = run_connect_each(sink.port, tpl, signer, n, min(sample, 1_000))
        each_rate = min(sample, 1_000) / t_each
        each = sink.counts()
        t_reuse = run_reuse(sink.port, tpl, signer, n + 1_000, sample)
        reuse_rate = sample / t_reuse
        reuse = sink.counts()
    finally:
        sink.close()

    print(f"one article to {n:,} subscribers, {size:,}-byte personalised messages, sink in its own process")
    print(f"template built once   {t_tpl:.1f} ms")
    print(
        f"SmtpTransport         {rate:,.0f} msg/s ({elapsed:.1f} s; pool {args.pool}; accepted {ok:,}; "
        f"sink got {got:,} messages for {rcpts:,} distinct addresses over {conns} connections, "
        f"{ids:,} distinct Message-IDs)"
    )
    print(
        f"smtplib per message   {each_rate:,.0f} msg/s "
        f"(connect for each; {each[0]:,} sent, {each[2]:,} connections)"
    )
    print(f"smtplib reuse         {reuse_rate:,.0f} msg/s (one connection; {reuse[0]:,} sent)")
    print(
        f"ratios                {rate / each_rate:.1f}x connect-per-message (target >= 3), "
        f"{rate / reuse_rate:.2f}x reuse loop (target >= 0.8)"
    )
    print(
        f"CPU per message       sender {cpu_sender / n * 1000:.2f} ms, sink {cpu_sink / n * 1000:.2f} ms "
        f"({os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f})"
    )
    print(f"sender memory         RSS {rss_now:.0f} MB now, {rss_max:.0f} MB peak (target <= 200)")
    ok_all = (
        got == n == rcpts
        and rate >= 1_000
        and rate / each_rate >= 3
        and rate / reuse_rate >= 0.8
        and rss_max <= 200
    )
    print("targets met" if ok_all else "TARGETS MISSED")
    e2e_ok = True
    if not args.no_e2e:
        e2e_ok = run_e2e(n, args.pool, args.posts)
    sys.exit(0 if got == n == rcpts and e2e_ok else 1)


# --- end to end: database, match step, sender ---------------------------------------------


def _seed_subscribers(svc, n: int, slug: str) -> None:  # type: ignore[no-untyped-def]
    """n confirmed subscribers of one channel, inserted in bulk (what `subscribers import` ends with)."""
    from datetime import UTC, datetime

    from sqlalchemy import insert, select

    from evwire.store.tables import Company, Subscriber, Subscription

    at = datetime(2020, 1, 1, tzinfo=UTC)
    with svc.db.session() as s:
        cid = s.scalar(select(Company.id).where(Company.slug == slug))
        first = (s.scalar(select(Subscriber.id).order_by(Subscriber.id.desc()).limit(1)) or 0) + 1
        for start in range(0, n, 10_000):
            ids = range(first + start, first + min(n, start + 10_000))
            s.execute(
                insert(Subscriber),
                [
                    {
                        "id": i,
                        "email": f"reader{i}@example.org",
                        "status": "confirmed",
                        "created_at": at,
                        "confirmed_at": at,
                        "digest": "immediate",
                        "timezone": "UTC",
                        "digest_hour": 8,
                        "include_mentions": False,
                        "bounce_count": 0,
                        "confirm_sends": 0,
                    }
                    for i in ids
                ],
            )
            s.execute(
                insert(Subscription), [{"subscriber_id": i, "company_id": cid, "created_at": at} for i in ids]
            )


def _open(tmp: Path, port: int, pool: int):  # type: ignore[no-untyped-def]
    from evwire.pipeline import open_services
    from evwire.settings import Settings

    settings = Settings(
        data_dir=tmp,
        smtp_url=f"smtp://127.0.0.1:{port}",
        smtp_pool_size=pool,
        base_url="https://news.example.org",
        admin_token="bench-admin-token",
    )
    return open_services(settings)


def _sample(k: int):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from evwire.ingest.plaintext import parse_plain_text

    text = (ROOT.parent / "shared" / "seed" / "sample-article.txt").read_text(encoding="utf-8")
    parsed = parse_plain_text(text)
    return replace(parsed, title=f"{parsed.title} [{k}]", url=f"https://example.org/bench/{k}")


def run_e2e(n: int, pool: int, posts: int) -> bool:
    """`evwire post` then the `evwire send` sender, on a SQLite file: the match step writes n outbox
    rows in the article's transaction; the sender claims, renders, sends and records them."""
    import tempfile

    from evwire.alerts.sender import Sender
    from evwire.pipeline import post_article, utcnow

    print(f"\nend to end (SQLite file, one process): {n:,} subscribers of one channel")
    sink = SinkProcess()
    ok = True
    try:
        with tempfile.TemporaryDirectory() as tmp:
            svc = _open(Path(tmp), sink.port, pool)
            try:
                t0 = time.perf_counter()
                _seed_subscribers(svc, n, "xiaomi")
                t_seed = time.perf_counter() - t0
                t0 = time.perf_counter()
                with svc.db.session() as s:
                    post_article(s, _sample(0), svc.tagger, now=utcnow(), alerts=svc.alerts, any_date=True)
                t_match = time.perf_counter() - t0
                sender = Sender(svc)
                reset_peak_rss()
                cpu0 = time.process_time()
                t0 = time.perf_counter()
                report = asyncio.run(_once(sender))
                elapsed = time.perf_counter() - t0
                cpu = time.process_time() - cpu0
                got, rcpts, conns, ids = sink.counts()
                rss_now, rss_max = rss_mb()
            finally:
                svc.close()
        print(f"seed subscribers      {t_seed:.1f} s (bulk insert)")
        print(
            f"post + match          {t_match * 1000:,.0f} ms ({n:,} outbox rows in the article's transaction)"
        )
        print(
            f"evwire send           {n / elapsed:,.0f} msg/s end to end ({elapsed:.1f} s; "
            f"sent {report.sent:,}; "
            f"sink got {got:,} for {rcpts:,} addresses, {ids:,} Message-IDs, over {conns} connections; "
            f"sender CPU {cpu / max(n, 1) * 1000:.2f} ms/msg; RSS peak while sending {rss_max:.0f} MB)"
        )
        ok = got == n == rcpts == ids == report.sent

        # post -> first mail, with the sender running in the same process (as `evwire serve`)
        with tempfile.TemporaryDirectory() as tmp:
            svc = _open(Path(tmp), sink.port, pool)
            try:
                _seed_subscribers(svc, 100, "xiaomi")
                handle = Sender(svc).start_thread()
                time.sleep(1.0)
                sink.counts()
                lat: list[float] = []
                for k in range(1, posts + 1):
                    t0 = time.perf_counter()
                    with svc.db.session() as s:
                        post_article(
                            s, _sample(k), svc.tagger, now=utcnow(), alerts=svc.alerts, any_date=True
                        )
                    first = None
                    seen = 0
                    deadline = time.perf_counter() + 30
                    while seen < 100 and time.perf_counter() < deadline:
                        seen += sink.counts()[0]
                        if seen and first is None:
                            first = time.perf_counter() - t0
                        time.sleep(0.002)
                    lat.append(first if first is not None else float("inf"))
                handle.stop()
            finally:
                svc.close()
        lat.sort()
        p50 = lat[len(lat) // 2]
        print(
            f"post -> first mail    p50 {p50 * 1000:,.0f} ms, max {lat[-1] * 1000:,.0f} ms "
            f"over {posts} posts "
            f"(100 subscribers each; sender thread woken by the commit) (target p50 <= 1 s)"
        )
        ok = ok and p50 < 30
    finally:
        sink.close()
    return ok


async def _once(sender):  # type: ignore[no-untyped-def]
    try:
        return await sender.run_once()
    finally:
        await sender.close()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
