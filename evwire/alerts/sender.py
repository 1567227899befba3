"""Claim due outbox rows and deliver them (docs/decisions/0010-outbox.md).

    sender = Sender(services)                  # transport from settings (SMTP pool or .eml files)
    report = await sender.run_once()           # everything due now (`evwire send --once`)
    await sender.run(stop)                     # `evwire serve` / `evwire worker --role send`

A batch is claimed in one statement (``store.outbox.claim_due``: SKIP LOCKED on PostgreSQL, one
write transaction on SQLite) with a lease. Each of the transport's connections takes the next row,
sends it and waits until its result is committed before it sends another: a row is marked sent
only after the server accepted it, and at any moment each connection holds at most one message
accepted but not yet recorded. A sender killed then leaves at most that many duplicates per
connection; its other claimed rows are sent by whoever takes them over (at once when the sender is
restarted on the same machine, else after the lease). Results of all connections are committed
together (group commit), so the database is not the bottleneck.

Temporary failures (4xx, connection errors) go back to pending with exponential backoff; a 5xx for
an address is a bounce (the third suspends the subscriber). Every try is a delivery_attempts row.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any, Protocol

from sqlalchemy import select

from evwire.alerts.config import instance_host, mail_from, make_signer, make_transport, retry_delay
from evwire.alerts.mail import ArticleItem, Recipient, build_alert, build_digest, message_id, why_line
from evwire.alerts.matching import NOTIFY_CHANNEL, Wakeup
from evwire.alerts.targets import ApprisePoster
from evwire.alerts.template import AlertTemplate, alert_template
from evwire.alerts.transport import EmlTransport, Outcome, SendResult, SmtpTransport, write_eml
from evwire.alerts.urls import LinkMaker, SubscriberLinks
from evwire.ingest.guard import AddressPolicy
from evwire.pipeline import Services
from evwire.store.outbox import (
    Claimed,
    claim_digests,
    claim_due,
    claimed_workers,
    next_due_at,
    record_outcomes,
    record_sent,
    release_claims,
    release_dead,
)
from evwire.store.outbox import (
    Outcome as RowOutcome,
)
from evwire.store.tables import AlertTarget, Article, Company, KeywordAlert, Mention, Subscriber
from evwire.store.target_urls import TargetRefused, check_subscriber_target

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


def default_worker_id() -> str:
    """``host:pid``: a restarted sender on the same host recognises rows of a dead one by it."""
    return f"{socket.gethostname()}:{os.getpid()}"


class OutboxListener(Protocol):  # evwire.store.notify.Listener
    def wait(self, channel: str, timeout: float) -> bool: ...


@dataclass
class SendReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    bounced: int = 0
    skipped: int = 0
    digests: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, outcome: str, n: int = 1) -> None:
        if outcome == "accepted":
            self.sent += n
        elif outcome == "retry":
            self.retried += n
        elif outcome == "bounce":
            self.bounced += n
        elif outcome == "skipped":
            self.skipped += n


@dataclass(frozen=True)
class _ArticleInfo:
    id: int
    title: str
    url: str
    bullets: tuple[str, ...]
    source: str | None
    published: datetime | None
    about: tuple[str, ...]  # slugs, highest score first


class _Recorder:
    """Group commit: senders hand in results and wait; one thread writes them in one transaction."""

    def __init__(self, write: Callable[[list[RowOutcome]], None]) -> None:
        self.write = write
        self.queue: asyncio.Queue[tuple[list[RowOutcome], asyncio.Future[None]] | None] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self.task is not None:
            await self.queue.put(None)
            await self.task
            self.task = None

    async def record(self, outcomes: list[RowOutcome]) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self.queue.put((outcomes, fut))
        await fut

    async def _run(self) -> None:
        done = False
        while not done:
            first = await self.queue.get()
            if first is None:
                break
            items = [first]
            while not self.queue.empty():
                nxt = self.queue.get_nowait()
                if nxt is None:
                    done = True
                    break
                items.append(nxt)
            outcomes = [o for batch, _ in items for o in batch]
            error: BaseException | None = None
            for attempt in range(5):
                try:
                    await asyncio.to_thread(self.write, outcomes)
                    error = None
                    break
                except Exception as exc:  # noqa: BLE001 - the database may be back in a moment
                    error = exc
                    log.warning("recording %d results failed (%s); retrying", len(outcomes), exc)
                    await asyncio.sleep(0.2 * 2**attempt)
            for _, fut in items:
                if not fut.done():
                    if error is None:
                        fut.set_result(None)
                    else:
                        fut.set_exception(error)


class Sender:
    """Delivers the outbox: immediate alerts, digests and operator targets."""

    def __init__(
        self,
        services: Services,
        *,
        transport: EmlTransport | SmtpTransport | None = None,
        poster: ApprisePoster | None = None,
        worker_id: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        listener: OutboxListener | None = None,
        batch_size: int | None = None,
        lease: timedelta | None = None,
        poll: float | None = None,
    ) -> None:
        settings = services.settings
        self.services = services
        self.settings = settings
        self._policy = AddressPolicy.from_settings(settings)
        self._subscriber_targets: set[int] = set()  # target ids a subscriber supplied (re-checked)
        self.transport = transport or make_transport(settings)
        self.poster = poster or ApprisePoster()
        self.worker_id = worker_id or default_worker_id()
        self.clock = clock
        self.listener = listener
        self.batch_size = batch_size or settings.send_batch_size
        self.lease = lease or timedelta(seconds=settings.outbox_lease_seconds)
        self.poll = poll if poll is not None else settings.send_poll_seconds
        self.links = LinkMaker(settings, make_signer(settings))
        self.sender = mail_from(settings)
        self.envelope_from = parseaddr(self.sender)[1] or self.sender
        self.host = instance_host(settings)
        self.base = settings.base_url.rstrip("/")
        self.wakeup: Wakeup | None = services.alerts.wakeup if services.alerts else None
        self.concurrency = self.transport.pool_size if isinstance(self.transport, SmtpTransport) else 2
        self._templates: OrderedDict[tuple[int, str], AlertTemplate] = OrderedDict()
        self._articles: OrderedDict[int, _ArticleInfo] = OrderedDict()
        self._released = False
        self._names: dict[str, str] = {}  # company slug -> name

    # ------------------------------------------------------------ database steps (threads)

    def _session(self) -> Any:
        return self.services.db.session()

    def _release_dead_local(self) -> int:
        """Rows claimed by senders of this host that are no longer running: claimable at once."""
        host = socket.gethostname()
        prefix = host + ":"
        with self._session() as session:
            # Release by the dead workers' ids, never "everyone but the live ones": a sender that
            # claims its first rows between this look and the UPDATE would lose them to the others
            # and its alerts would go out twice (seen as dozens of duplicates in the crash test).
            dead = [
                w
                for w in claimed_workers(session, prefix)
                if w != self.worker_id and (p := w[len(prefix) :]).isdigit() and not _pid_alive(int(p))
            ]
            n = release_dead(session, dead)
        if n:
            log.info("took over %d alerts of a sender that stopped on this host", n)
        return n

    def _claim(self, digests: bool) -> list[Claimed]:
        now = self.clock()
        with self._session() as session:
            if digests:
                return claim_digests(session, self.worker_id, now=now, lease=self.lease)
            return claim_due(session, self.worker_id, now=now, lease=self.lease, limit=self.batch_size)

    def _write(self, outcomes: list[RowOutcome]) -> None:
        if all(o.outcome == "accepted" for o in outcomes):  # the usual case, without the ORM
            with self.services.db.engine.begin() as conn:
                record_sent(conn, outcomes, self.worker_id, now=self.clock())
            return
        with self._session() as session:
            record_outcomes(session, outcomes, self.worker_id, now=self.clock())

    def _load(
        self, rows: Sequence[Claimed]
    ) -> tuple[dict[int, tuple[str, str]], dict[int, str], dict[int, str]]:
        """Subscribers (email, status), targets (url) and keyword alert texts of a batch; articles cached."""
        sids = sorted({r.subscriber_id for r in rows if r.subscriber_id})
        tids = sorted({r.target_id for r in rows if r.target_id})
        qids = sorted({q for r in rows for q in (r.reasons or {}).get("queries", [])})
        aids = sorted({r.article_id for r in rows if r.article_id not in self._articles})
        subs: dict[int, tuple[str, str]] = {}
        targets: dict[int, str] = {}
        queries: dict[int, str] = {}
        with self._session() as session:
            for start in range(0, len(sids), 5000):
                chunk = sids[start : start + 5000]
                stmt = select(Subscriber.id, Subscriber.email, Subscriber.status).where(
                    Subscriber.id.in_(chunk)
                )
                for sid, email, status in session.execute(stmt):
                    subs[sid] = (email, status)
            if tids:
                stmt2 = select(AlertTarget.id, AlertTarget.url, AlertTarget.subscriber_id).where(
                    AlertTarget.id.in_(tids)
                )
                for tid, url, sid in session.execute(stmt2):
                    targets[tid] = url
                    if sid is not None:
                        self._subscriber_targets.add(tid)
            if qids:
                stmt3 = select(KeywordAlert.id, KeywordAlert.query_text).where(KeywordAlert.id.in_(qids))
                queries = dict(session.execute(stmt3).all())
            for aid in aids:
                self._articles[aid] = self._article_info(session, aid)
            if not self._names:
                self._names = dict(session.execute(select(Company.slug, Company.name)).all())
        while len(self._articles) > 200:
            self._articles.popitem(last=False)
        return subs, targets, queries

    def _article_info(self, session: Any, article_id: int) -> _ArticleInfo:
        a = session.get(Article, article_id)
        if a is None:
            return _ArticleInfo(article_id, "(article removed)", f"{self.base}/", (), None, None, ())
        about = session.execute(
            select(Company.slug)
            .join(Mention, Mention.company_id == Company.id)
            .where(Mention.article_id == article_id, Mention.role == "about")
            .order_by(Mention.score.desc(), Company.slug)
        ).scalars()
        return _ArticleInfo(
            a.id,
            a.title,
            a.url or f"{self.base}/articles/{a.id}",
            tuple(a.bullets or ()),
            a.source_name,
            a.published_at,
            tuple(about),
        )

    # ------------------------------------------------------------ building mails

    def _name(self, slug: str) -> str:
        return self._names.get(slug, slug)

    def _item(self, art: _ArticleInfo, followed: Sequence[str]) -> ArticleItem:
        first = [s for s in followed if s in art.about] + [s for s in followed if s not in art.about]
        rest = [s for s in art.about if s not in first]
        return ArticleItem(
            title=art.title,
            url=art.url,
            bullets=art.bullets,
            channels=tuple(self._name(s) for s in first + rest),
            source=art.source,
            published=art.published,
        )

    def _why(self, reasons: dict[str, Any], queries: dict[int, str]) -> str:
        names = [self._name(s) for s in reasons.get("channels", [])]
        texts = [_label(queries[q]) for q in reasons.get("queries", []) if q in queries]
        return why_line(names, texts)

    def _template(self, art: _ArticleInfo, followed: Sequence[str], why: str) -> AlertTemplate:
        key = (art.id, why + "|" + ",".join(followed))
        tpl = self._templates.get(key)
        if tpl is None:
            tpl = alert_template(self._item(art, followed), self.sender, self.host, why, now=self.clock())
            self._templates[key] = tpl
            while len(self._templates) > 500:
                self._templates.popitem(last=False)
        return tpl

    def _recipient(self, email: str, links: SubscriberLinks) -> Recipient:
        """A subscriber's address with this instance's sender, host and the subscriber's own links."""
        return Recipient(
            email,
            self.sender,
            self.host,
            links.manage_url,
            links.unsubscribe_url,
            links.unsubscribe_mailto,
        )

    def _alert_bytes(
        self, row: Claimed, email: str, art: _ArticleInfo, queries: dict[int, str]
    ) -> tuple[bytes | EmailMessage, str]:
        reasons = row.reasons or {}
        followed = list(reasons.get("channels", []))
        why = self._why(reasons, queries)
        links = self.links.for_subscriber(row.subscriber_id or 0, email)
        mid = message_id("alert", row.id, self.host)
        try:
            data = self._template(art, followed, why).render(
                email, row.id, links.manage_url, links.unsubscribe_url, links.unsubscribe_mailto
            )
            return data, mid
        except ValueError:  # an internationalised address: the email package builds it
            rcpt = self._recipient(email, links)
            return build_alert(self._item(art, followed), rcpt, row.id, why, now=self.clock()), mid

    # ------------------------------------------------------------ sending

    async def _deliver(self, data: bytes | EmailMessage, mid: str, to: str) -> SendResult:
        if isinstance(self.transport, EmlTransport):
            if isinstance(data, EmailMessage):
                return await self.transport.send(data)
            try:
                path = await asyncio.to_thread(write_eml, self.transport.folder, mid, data)
            except OSError as exc:
                return SendResult(Outcome.TEMPORARY, None, f"cannot write .eml: {exc.strerror}")
            return SendResult(Outcome.ACCEPTED, None, str(path))
        if isinstance(data, EmailMessage):
            return await self.transport.send(data)
        return await self.transport.send(data, self.envelope_from, [to])

    def _outcome(self, row: Claimed, result: SendResult, mid: str | None) -> RowOutcome:
        if result.accepted:
            return RowOutcome(row.id, "accepted", result.detail[:500], result.code, mid, row.subscriber_id)
        if result.bounce:
            return RowOutcome(row.id, "bounce", result.detail, result.code, mid, row.subscriber_id)
        detail = result.detail + (" (the server may have taken it)" if result.maybe_delivered else "")
        retry_at = self.clock() + retry_delay(self.settings, row.attempts + 1)
        return RowOutcome(row.id, "retry", detail, result.code, mid, row.subscriber_id, retry_at)

    async def _send_row(
        self,
        row: Claimed,
        subs: dict[int, tuple[str, str]],
        targets: dict[int, str],
        queries: dict[int, str],
    ) -> RowOutcome:
        art = self._articles.get(row.article_id)
        if art is None:
            return RowOutcome(row.id, "skipped", "article removed")
        if row.target_id is not None:
            url = targets.get(row.target_id)
            if url is None:
                return RowOutcome(row.id, "skipped", "target removed")
            if row.target_id in self._subscriber_targets:
                # Checked when the subscriber added it, and again now: a name can resolve to another
                # address since (DNS rebinding onto the operator's network).
                try:
                    await asyncio.to_thread(check_subscriber_target, url, self._policy)
                except TargetRefused as exc:
                    return RowOutcome(row.id, "bounce", f"target refused at send time: {exc}"[:500])
            item = self._item(art, (row.reasons or {}).get("channels", []))
            body = "\n".join([*(f"- {b}" for b in item.bullets), item.url])
            result = await self.poster.post(url, item.title, body)
            return self._outcome(row, result, None)
        email, status = subs.get(row.subscriber_id or 0, ("", "gone"))
        if status != "confirmed":
            return RowOutcome(row.id, "skipped", f"subscriber is {status}")
        try:
            data, mid = self._alert_bytes(row, email, art, queries)
        except Exception as exc:  # noqa: BLE001 - a mail that cannot be built is a bounce, not a crash
            log.exception("alert could not be built", extra={"outbox_id": row.id})
            return RowOutcome(
                row.id, "bounce", f"mail could not be built: {exc}", None, None, row.subscriber_id
            )
        result = await self._deliver(data, mid, email)
        return self._outcome(row, result, mid)

    async def _send_batch(
        self, rows: list[Claimed], recorder: _Recorder, report: SendReport, cutoff: datetime
    ) -> None:
        subs, targets, queries = await asyncio.to_thread(self._load, rows)
        it = iter(rows)
        leftover: list[int] = []

        async def lane() -> None:
            for row in it:
                # Past half the lease another worker may soon take the row over: give it back
                # instead of sending it late (that would be a second copy, with no crash at all).
                if self.clock() > cutoff:
                    leftover.append(row.id)
                    continue
                outcome = await self._send_row(row, subs, targets, queries)
                await recorder.record([outcome])  # recorded before this lane sends again
                report.add(outcome.outcome)

        lanes = max(1, min(self.concurrency, len(rows)))
        await asyncio.gather(*(lane() for _ in range(lanes)))
        if leftover:
            await asyncio.to_thread(self._release, leftover)

    def _release(self, ids: list[int]) -> None:
        with self._session() as session:
            release_claims(session, ids, self.worker_id)

    async def _send_digests(self, rows: list[Claimed], recorder: _Recorder, report: SendReport) -> None:
        subs, _targets, queries = await asyncio.to_thread(self._load, rows)
        groups: dict[int, list[Claimed]] = defaultdict(list)
        for r in rows:
            groups[r.subscriber_id or 0].append(r)
        with self._session() as session:
            periods = dict(
                session.execute(
                    select(Subscriber.id, Subscriber.digest).where(Subscriber.id.in_(list(groups)))
                ).all()
            )
        for sid, group in groups.items():
            email, status = subs.get(sid, ("", "gone"))
            if status != "confirmed":
                await recorder.record([RowOutcome(r.id, "skipped", f"subscriber is {status}") for r in group])
                report.add("skipped", len(group))
                continue
            items, channels, texts = [], [], []
            for r in group:
                art = self._articles.get(r.article_id)
                if art is None:
                    continue
                followed = (r.reasons or {}).get("channels", [])
                channels += [s for s in followed if s not in channels]
                texts += [
                    queries[q]
                    for q in (r.reasons or {}).get("queries", [])
                    if q in queries and queries[q] not in texts
                ]
                items.append(self._item(art, followed))
            if not items:
                await recorder.record([RowOutcome(r.id, "skipped", "articles removed") for r in group])
                continue
            digest_id = f"{sid}-{group[0].id}"
            rcpt = self._recipient(email, self.links.for_subscriber(sid, email))
            period = periods.get(sid, "daily")
            why = why_line([self._name(s) for s in channels], texts)
            msg = build_digest(
                items, rcpt, digest_id, "weekly" if period == "weekly" else "daily", why, now=self.clock()
            )
            mid = str(msg["Message-ID"])
            result = await self._deliver(msg, mid, email)
            outcomes = [self._outcome(r, result, mid) for r in group]
            if result.bounce:  # one bounce per digest, not per article in it
                outcomes = [outcomes[0]] + [
                    RowOutcome(o.outbox_id, "bounce", o.detail, o.code, o.message_id, None)
                    for o in outcomes[1:]
                ]
            await recorder.record(outcomes)
            report.add(outcomes[0].outcome, len(outcomes))
            report.digests += int(result.accepted)

    async def run_once(self, *, max_batches: int | None = None) -> SendReport:
        """Deliver everything due now (digests included); returns counts."""
        report = SendReport()
        if not self._released:
            await asyncio.to_thread(self._release_dead_local)
            self._released = True
        recorder = _Recorder(self._write)
        recorder.start()
        try:
            batches = 0
            while max_batches is None or batches < max_batches:
                cutoff = self.clock() + self.lease / 2
                rows = await asyncio.to_thread(self._claim, False)
                digest_rows = await asyncio.to_thread(self._claim, True)
                if not rows and not digest_rows:
                    break
                batches += 1
                report.claimed += len(rows) + len(digest_rows)
                if rows:
                    await self._send_batch(rows, recorder, report, cutoff)
                if digest_rows and self.clock() > cutoff:
                    await asyncio.to_thread(self._release, [r.id for r in digest_rows])
                elif digest_rows:
                    await self._send_digests(digest_rows, recorder, report)
        finally:
            await recorder.stop()
        if report.claimed:
            log.info(
                "sent %d, retry %d, bounced %d, skipped %d",
                report.sent,
                report.retried,
                report.bounced,
                report.skipped,
            )
        return report

    def seconds_to_next_due(self) -> float:
        with self._session() as session:
            at = next_due_at(session)
        if at is None:
            return self.poll
        return max(0.0, min(self.poll, (at - self.clock()).total_seconds()))

    async def run(self, stop: asyncio.Event) -> None:
        """Send as alerts appear until ``stop`` is set; wakes on the in-process signal or NOTIFY."""
        loop = asyncio.get_running_loop()
        woken = asyncio.Event()
        if self.wakeup is not None:
            self.wakeup.register(loop, woken)
        watcher = _NotifyWatcher(self, loop, woken)
        watcher.start()
        try:
            while not stop.is_set():
                woken.clear()
                try:
                    await self.run_once()
                    wait = await asyncio.to_thread(self.seconds_to_next_due)
                except Exception:  # noqa: BLE001 - the loop outlives any one pass
                    log.exception("send pass failed; trying again shortly")
                    wait = min(self.poll, 5.0)
                if wait <= 0:
                    continue
                stopper = asyncio.ensure_future(stop.wait())
                waker = asyncio.ensure_future(woken.wait())
                await asyncio.wait({stopper, waker}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
                stopper.cancel()
                waker.cancel()
        finally:
            watcher.stop()
            if self.wakeup is not None:
                self.wakeup.unregister(woken)
            await self.close()

    async def close(self) -> None:
        await self.transport.close()

    def start_thread(self) -> Any:
        """Run ``run`` on its own event loop in a daemon thread; returns a handle with ``stop()``."""
        from evwire.worker import run_in_thread  # worker imports this module

        return run_in_thread(self.run, "evwire-sender")


class _NotifyWatcher:
    """Turns PostgreSQL ``NOTIFY evwire_outbox`` (or a given listener) into the sender's wake event."""

    def __init__(self, sender: Sender, loop: asyncio.AbstractEventLoop, woken: asyncio.Event) -> None:
        self.sender, self.loop, self.woken = sender, loop, woken
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        url = self.sender.settings.db_url
        if self.sender.listener is None and not url.startswith("postgresql"):
            return  # SQLite: the in-process Wakeup is all there is
        self._thread = threading.Thread(target=self._run, name="evwire-outbox-listen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _wake(self) -> None:
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.woken.set)

    def _run(self) -> None:
        if self.sender.listener is not None:
            while not self._stop.is_set():
                if self.sender.listener.wait(NOTIFY_CHANNEL, 1.0):
                    self._wake()
            return
        import psycopg
        from sqlalchemy.engine import make_url

        dsn = (
            make_url(self.sender.settings.db_url)
            .set(drivername="postgresql")
            .render_as_string(hide_password=False)
        )
        delay = 0.5
        while not self._stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self._wake()  # whatever was notified before we listened
                    delay = 0.5
                    while not self._stop.is_set():
                        for _note in conn.notifies(timeout=1.0, stop_after=1):
                            self._wake()
            except Exception as exc:  # noqa: BLE001 - the server went away: slow poll meanwhile, reconnect
                log.warning("outbox listener lost its connection (%s); retrying", type(exc).__name__)
                self._stop.wait(delay)
                delay = min(10.0, delay * 2)


def _label(query_text: str) -> str:
    """A query as the why line quotes it: a lone phrase without its own quotes."""
    if len(query_text) > 1 and query_text[0] == query_text[-1] == '"' and query_text.count('"') == 2:
        return query_text[1:-1]
    return query_text


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
