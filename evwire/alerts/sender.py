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

The batch is loaded and its mails built by ``compose.Composer`` (mixed in); ``recorder`` does the
group commit and ``listener`` wakes the loop on PostgreSQL NOTIFY.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any, Protocol

from sqlalchemy import select

from evwire.alerts.compose import Composer, _ArticleInfo
from evwire.alerts.config import instance_host, mail_from, make_signer, make_transport, retry_delay
from evwire.alerts.listener import _NotifyWatcher
from evwire.alerts.mail import build_digest, why_line
from evwire.alerts.matching import Wakeup
from evwire.alerts.outcome import Outcome, SendResult
from evwire.alerts.recorder import _Recorder
from evwire.alerts.targets import ApprisePoster
from evwire.alerts.template import AlertTemplate
from evwire.alerts.transport import EmlTransport, SmtpTransport, write_eml
from evwire.alerts.urls import LinkMaker
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
from evwire.store.tables import Subscriber
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


class Sender(Composer):
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
            mid: str | None = None
            try:
                rcpt = self._recipient(email, self.links.for_subscriber(sid, email))
                period = periods.get(sid, "daily")
                why = why_line([self._name(s) for s in channels], texts)
                msg = build_digest(
                    items, rcpt, digest_id, "weekly" if period == "weekly" else "daily", why, now=self.clock()
                )
            except Exception as exc:  # noqa: BLE001 - one digest that cannot be built never stops the others
                log.exception("digest could not be built", extra={"subscriber_id": sid})
                result = SendResult(Outcome.PERMANENT, detail=f"mail could not be built: {exc}"[:500])
            else:
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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
