"""The poll pass: claim due feeds, fetch them concurrently, parse, store, schedule the next poll.

    poller = Poller(services)
    report = asyncio.run(poller.run_pass())          # one pass over the due feeds

Fetching runs on the event loop (the lean client of ingest/http11.py, or a given httpx client;
``HostLimiter`` politeness, the address guard); parsing,
tagging and storing run in one writer thread, so fetches go on while items are stored. Each feed
is stored in its own transaction; polls that bring no items (304s, errors) are stored together in
one. Nothing a feed does stops the others: fetch errors come back in words, parse errors are
recorded, anything unexpected is logged with its traceback and recorded as the feed's last error.

Identity and edits: a feed item is (feed, guid). Seen before with the same fingerprint → nothing;
with another fingerprint → its article is updated in place (created_at kept, no new article: an
update is not news). New items of a feed's first successful poll are a backfill (``is_backfill``).
New articles are grouped into stories with the ``StoryIndex`` (rebuilt from stored signatures).
See docs/decisions/0009-polling.md.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import cast

import httpx
from sqlalchemy import String

from evwire.errors import EvwireError, IngestError
from evwire.ingest.client import AnyClient, make_feed_client
from evwire.ingest.dedupe import StoryIndex, signature
from evwire.ingest.feeditems import FeedItem as ParsedItem
from evwire.ingest.feeditems import ParsedFeed
from evwire.ingest.feedparse import parse_feed
from evwire.ingest.feedtext import MAX_URL
from evwire.ingest.fetch import FetchResult, fetch_feed
from evwire.ingest.hostlimits import HostLimiter
from evwire.ingest.schedule import next_poll, outcome_from
from evwire.ingest.types import ParsedArticle
from evwire.ingest.websub import links_from_header
from evwire.pipeline import Services, post_article, tag_parsed
from evwire.store.articles_batch import (
    NewArticle,
    insert_feed_items,
    insert_new_articles,
    new_for_sure,
    transient_article,
)
from evwire.store.feeds import (
    CLAIM_LEASE,
    TEXT_MAX,
    FeedJob,
    active_ids,
    changed_values,
    claim_due_feeds,
    feed_state,
    known_items,
    move_feed,
    record_states,
    state_values,
)
from evwire.store.stories import RunGrouping, load_story_index, new_story
from evwire.store.tables import Article, Feed, FeedItem
from evwire.tag.types import Tagging

log = logging.getLogger(__name__)
FULL_TEXT_PER_POLL = 20  # article pages fetched at most per feed poll
BATCH = 200  # polls handed to the writer thread at once
SOURCE_NAME_MAX = cast(String, Article.__table__.c.source_name.type).length or 200


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class FeedPoll:
    """One feed's fetch, ready to store."""

    job: FeedJob
    result: FetchResult
    fetched_at: datetime
    parsed: ParsedFeed | None = None
    parse_error: str | None = None
    full_texts: dict[str, str] = field(default_factory=dict)  # guid -> text of the article page

    @property
    def quiet(self) -> bool:
        """No body to parse: a 304 or an error. A 304 after a 301/308 is not quiet: the move is
        stored on its own (``store_poll``, where ``move_feed`` checks no other feed has the URL)."""
        moved = self.result.permanent_url is not None and self.result.ok
        return self.result.body is None and self.parsed is None and not moved


@dataclass
class PassReport:
    feeds: int = 0
    not_modified: int = 0
    failed: int = 0
    new_articles: int = 0
    updated_articles: int = 0
    backfill_articles: int = 0
    errors: dict[int, str] = field(default_factory=dict)  # feed id -> last error
    seconds: float = 0.0

    def add(self, other: PassReport) -> None:
        for name in (
            "feeds",
            "not_modified",
            "failed",
            "new_articles",
            "updated_articles",
            "backfill_articles",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.update(other.errors)


@dataclass(frozen=True)
class WebSubNeed:
    feed_id: int
    hub: str
    topic: str


Progress = Callable[[int], None]


@dataclass
class _Item:
    """A feed item to store: new, or an edit of the one seen before (``previous``)."""

    guid: str
    fingerprint: str
    previous: tuple[int, str, int | None] | None  # (feed_items.id, fingerprint, article_id)
    article: ParsedArticle

    @cached_property
    def digest(self) -> str:
        return self.article.content_hash()


@dataclass
class _Context:
    """What storing one feed's items shares."""

    feed: Feed
    now: datetime
    backfill: bool
    report: PassReport
    added: list[int]  # article ids put in the story index, forgotten if the transaction rolls back


class Poller:
    """Polls feeds for one process. Holds the story index (rebuilt from the database on first use)."""

    # New items are stored in multi-row statements (docs/decisions/0017); False stores every item
    # on its own, the reference the tests compare the batched path with.
    batch_new_items = True

    def __init__(
        self, services: Services, *, clock: Callable[[], datetime] = utcnow, lease: timedelta = CLAIM_LEASE
    ) -> None:
        self.services = services
        self.settings = services.settings
        self.clock = clock
        self.lease = lease  # how long a claimed feed stays this poller's if it never reports back
        self._index: StoryIndex | None = None
        self._lock = threading.Lock()  # the index and the writer: one feed stored at a time
        self.websub_needs: list[WebSubNeed] = []
        self.observer: Callable[[Sequence[FeedPoll], dict[int, str]], None] | None = None  # metrics

    # ------------------------------------------------------------ the pass

    async def run_pass(
        self,
        *,
        limit: int | None = None,
        feed_ids: Sequence[int] | None = None,
        on_claimed: Callable[[int], None] | None = None,
        on_progress: Progress | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> PassReport:
        """Poll every due feed once (or ``feed_ids``, due or not). Returns what happened."""
        started = time.perf_counter()
        now = self.clock()
        jobs = await asyncio.to_thread(self._claim, now, limit, feed_ids)
        if on_claimed:
            on_claimed(len(jobs))
        report = PassReport()
        if not jobs:
            return report
        await asyncio.to_thread(self.story_index)  # built from the database once, before any write
        queue: asyncio.Queue[FeedPoll | None] = asyncio.Queue()
        writer = asyncio.create_task(self._writer(queue, report, on_progress))
        limits = HostLimiter.from_settings(self.settings)
        http: AnyClient = client if client is not None else make_feed_client(self.settings)
        try:
            await asyncio.gather(*(self._fetch_one(http, limits, job, queue) for job in jobs))
        finally:
            await queue.put(None)
            await writer
            if client is None:
                await http.aclose()
        report.seconds = time.perf_counter() - started
        log.info(
            "poll pass: %d feeds, %d not modified, %d failed, %d new, %d updated",
            report.feeds,
            report.not_modified,
            report.failed,
            report.new_articles,
            report.updated_articles,
            extra={"duration_ms": int(report.seconds * 1000)},
        )
        return report

    def _claim(self, now: datetime, limit: int | None, feed_ids: Sequence[int] | None) -> list[FeedJob]:
        with self.services.db.session() as session:
            return claim_due_feeds(session, now=now, limit=limit, feed_ids=feed_ids, lease=self.lease)

    async def _fetch_one(
        self, http: AnyClient, limits: HostLimiter, job: FeedJob, queue: asyncio.Queue
    ) -> None:
        try:
            result = await fetch_feed(
                http,
                job.url,
                etag=job.etag,
                last_modified=job.last_modified,
                limits=limits,
                settings=self.settings,
            )
            poll = FeedPoll(job, result, self.clock())
            if job.full_text and result.body is not None:
                await self._add_full_texts(http, limits, poll)
        except Exception as exc:  # noqa: BLE001 - one feed's trouble never stops the pass
            log.exception("unexpected error polling feed", extra={"feed_id": job.id})
            error = f"internal error while polling: {type(exc).__name__}: {exc}"
            result = FetchResult(job.url, job.url, None, None, job.etag, job.last_modified, 0.0, error=error)
            poll = FeedPoll(job, result, self.clock())
        await queue.put(poll)

    async def _add_full_texts(self, http: AnyClient, limits: HostLimiter, poll: FeedPoll) -> None:
        """Summary-only items get their text from the article page (trafilatura), same politeness."""
        parsed, error = await asyncio.to_thread(_parse, poll.result, poll.fetched_at)
        poll.parsed, poll.parse_error = parsed, error
        if parsed is None:
            return
        wanted = [i for i in parsed.items if i.link and not i.has_full_text]
        if not wanted:
            return
        known = await asyncio.to_thread(self._known, poll.job.id, [i.guid for i in wanted])
        wanted = [i for i in wanted if i.guid not in known][:FULL_TEXT_PER_POLL]

        async def one(item: ParsedItem) -> None:
            assert item.link
            page = await fetch_feed(http, item.link, limits=limits, settings=self.settings)
            if page.body is None:
                log.info("full text not fetched: %s", page.error, extra={"feed_id": poll.job.id})
                return
            text = await asyncio.to_thread(extract_page_text, page.body, page.final_url)
            if text and len(text) > len(item.text):
                poll.full_texts[item.guid] = text

        await asyncio.gather(*(one(i) for i in wanted))

    def _known(self, feed_id: int, guids: list[str]) -> set[str]:
        with self.services.db.session() as session:
            return set(known_items(session, feed_id, guids))

    async def _writer(self, queue: asyncio.Queue, report: PassReport, on_progress: Progress | None) -> None:
        done = False
        while not done:
            batch: list[FeedPoll] = []
            item = await queue.get()
            while item is not None:
                batch.append(item)
                if len(batch) >= BATCH or queue.empty():
                    break
                item = queue.get_nowait()
            done = item is None
            if batch:
                part = await asyncio.to_thread(self.store_polls, batch)
                report.add(part)
                if self.observer:  # evwire.opsmetrics.PollMetrics.observe
                    self.observer(batch, part.errors)
                if on_progress:
                    on_progress(len(batch))

    # ------------------------------------------------------------ storing (writer thread)

    def store_polls(self, polls: Sequence[FeedPoll]) -> PassReport:
        """Store a batch: quiet polls (304, errors) together, each feed with a body on its own."""
        report = PassReport(feeds=len(polls))
        quiet = [p for p in polls if p.quiet]
        with self._lock:
            if quiet:
                try:
                    self._store_quiet(quiet, report)
                except Exception:  # noqa: BLE001 - fall back to one transaction per feed
                    log.exception("storing a batch of polls failed; storing them one by one")
                    for p in quiet:
                        self._store_guarded(p, report)
            for p in polls:
                if not p.quiet:
                    self._store_guarded(p, report)
        return report

    def _store_quiet(self, polls: Sequence[FeedPoll], report: PassReport) -> None:
        """The schedule is decided from the state the claim read (the claim's lease keeps other
        pollers off these rows) and only changed columns are written, in one executemany per
        column set; rows paused or removed meanwhile are left alone."""
        updates = []
        with self.services.db.session() as session:
            active = active_ids(session, [p.job.id for p in polls])
            for p in polls:
                if p.job.id not in active:  # paused or removed while it was being polled
                    continue
                before = p.job.state
                at, state = next_poll(before, outcome_from(p.result), p.fetched_at)
                values = changed_values(state_values(state, at, p.fetched_at), before)
                if p.result.ok:  # 304: keep (or take) the validators
                    if p.result.etag != p.job.etag:
                        values["etag"] = p.result.etag
                    if p.result.last_modified != p.job.last_modified:
                        values["last_modified"] = p.result.last_modified
                    report.not_modified += 1
                else:
                    report.failed += 1
                    report.errors[p.job.id] = state.last_error or ""
                updates.append((p.job.id, values))
            record_states(session, updates, only_active=True)

    def _store_guarded(self, poll: FeedPoll, report: PassReport) -> None:
        try:
            self.store_poll(poll, report)
        except Exception as exc:  # noqa: BLE001 - recorded on the feed, the pass goes on
            log.exception("storing a poll failed", extra={"feed_id": poll.job.id})
            message = f"evwire could not store this poll ({type(exc).__name__}: {exc}); see the server log"
            failed = replace(poll, result=replace(poll.result, error=message, body=None), parsed=None)
            report.failed += 1
            report.errors[poll.job.id] = message
            with self.services.db.session() as session:
                feed = session.get(Feed, poll.job.id)
                if feed is not None and feed.status == "active":
                    at, state = next_poll(feed_state(feed), outcome_from(failed.result), poll.fetched_at)
                    for key, value in state_values(state, at, poll.fetched_at).items():
                        setattr(feed, key, value)

    def store_poll(self, poll: FeedPoll, report: PassReport | None = None) -> PassReport:
        """Store one feed's poll in one transaction: items, errors, validators, next poll time."""
        report = report or PassReport(feeds=1)
        result, now = poll.result, poll.fetched_at
        parsed, parse_error = poll.parsed, poll.parse_error
        if result.body is not None and parsed is None and parse_error is None:
            parsed, parse_error = _parse(result, now)
        added: list[int] = []
        try:
            with self.services.db.session() as session:
                feed = session.get(Feed, poll.job.id)
                if feed is None or feed.status != "active":
                    return report
                outcome = outcome_from(result, parsed, parse_error)
                at, state = next_poll(feed_state(feed), outcome, now)
                note = None
                if result.permanent_url and result.ok:
                    note = move_feed(session, feed, result.permanent_url)
                if result.ok:
                    feed.etag, feed.last_modified = result.etag, result.last_modified
                if parsed is not None and outcome.ok:
                    self._store_items(session, feed, poll, parsed, report, added)
                    self._note_websub(feed, parsed, result)
                    if parsed.warnings and not note:
                        log.info("feed warnings: %s", "; ".join(parsed.warnings), extra={"feed_id": feed.id})
                elif result.not_modified:
                    report.not_modified += 1
                for key, value in state_values(state, at, now).items():
                    setattr(feed, key, value)
                if note:
                    feed.last_error, feed.last_error_at = note, now
                if state.last_error:
                    report.failed += 1
                    report.errors[feed.id] = state.last_error
        except BaseException:
            for article_id in added:  # the transaction rolled back: forget what it indexed
                self.story_index().remove(article_id)
            raise
        return report

    def _store_items(
        self,
        session,  # noqa: ANN001 - a Session
        feed: Feed,
        poll: FeedPoll,
        parsed: ParsedFeed,
        report: PassReport,
        added: list[int],
    ) -> None:
        now = poll.fetched_at
        feed.title = feed.title or parsed.title[:TEXT_MAX] or None
        feed.site_url = feed.site_url or parsed.site_url
        known = known_items(session, feed.id, [i.guid for i in parsed.items])
        source = (feed.title or parsed.title)[:SOURCE_NAME_MAX] or None
        todo: list[_Item] = []
        for item in parsed.items:
            fingerprint = item.fingerprint()
            previous = known.get(item.guid)
            if previous is not None and previous[1] == fingerprint:
                continue
            article = item.to_article(source_name=source)
            text = poll.full_texts.get(item.guid)
            if text:
                article = replace(article, body=text)
            todo.append(_Item(item.guid, fingerprint, previous, article))
        ctx = _Context(feed, now, not feed.backfilled, report, added)
        run: list[tuple[_Item, Tagging]] = []
        for it, tagging in self._plan(session, todo):
            if tagging is not None:
                run.append((it, tagging))
                continue
            if run:  # items are stored in feed order, so a run ends where an item must go alone
                self._store_new(session, run, ctx)
                run = []
            self._store_one(session, it, ctx)
        if run:
            self._store_new(session, run, ctx)
        feed.backfilled = True

    def _plan(self, session, todo: list[_Item]) -> list[tuple[_Item, Tagging | None]]:  # noqa: ANN001
        """Tag the items that can be stored together (``articles_batch.new_for_sure``); the others
        come back with no tagging and are stored one by one, where updates are decided."""
        if not self.batch_new_items or not todo:
            return [(it, None) for it in todo]
        sure = new_for_sure(
            session, [(it.guid, it.article.url, it.digest, it.previous is not None) for it in todo]
        )
        out: list[tuple[_Item, Tagging | None]] = []
        for it, new in zip(todo, sure, strict=True):
            tagging = None
            if new:
                try:
                    tagging = tag_parsed(it.article, self.services.tagger)
                except Exception:  # noqa: BLE001 - stored alone, where post_article meets the same error
                    tagging = None
            out.append((it, tagging))
        return out

    def _store_new(self, session, run: list[tuple[_Item, Tagging]], ctx: _Context) -> None:  # noqa: ANN001 - a Session
        """Store new articles in a few multi-row statements (docs/decisions/0017). If anything
        fails, the savepoint is rolled back and each item is stored on its own, so one bad item
        costs only itself, exactly as when every item was stored alone."""
        feed, now = ctx.feed, ctx.now
        sigs = [signature(f"{it.article.title}\n\n{it.article.body}") for it, _ in run]
        grouping: RunGrouping | None = None
        try:
            with session.begin_nested():
                grouping = RunGrouping(self.story_index(), sigs)
                story_ids = grouping.story_ids(session, now=now)
                new = [
                    NewArticle(it.article, tagging, it.digest, story_id, feed.id, it.guid, ctx.backfill)
                    for (it, tagging), story_id in zip(run, story_ids, strict=True)
                ]
                ids = insert_new_articles(session, new, now=now)
                if self.services.alerts is not None:
                    found = [
                        (transient_article(i, a, now=now), a.tagging) for i, a in zip(ids, new, strict=True)
                    ]
                    self.services.alerts.match_articles(session, found, now=now)
                rows = zip(run, ids, sigs, strict=True)
                insert_feed_items(
                    session,
                    feed.id,
                    [(it.guid, it.fingerprint, i, sig.to_bytes()) for (it, _), i, sig in rows],
                    now=now,
                )
        except Exception:  # noqa: BLE001 - one by one below, where a bad item is skipped or raises as before
            log.warning("storing %d new items together failed; storing them one by one", len(run),
                        exc_info=True, extra={"feed_id": feed.id})  # fmt: skip
            if grouping is not None:
                grouping.forget()
            for it, tagging in run:
                self._store_one(session, it, ctx, tagging)
            return
        except BaseException:  # interrupted: no stand-in may stay in the index
            if grouping is not None:
                grouping.forget()
            raise
        grouping.settle(ids, story_ids)
        ctx.added.extend(ids)
        for article_id in ids:
            log.info("article stored (created=%s)", True, extra={"article_id": article_id})
        ctx.report.new_articles += len(ids)
        ctx.report.backfill_articles += len(ids) * int(ctx.backfill)
        feed.items_seen = (feed.items_seen or 0) + len(ids)

    def _store_one(self, session, it: _Item, ctx: _Context, tagging: Tagging | None = None) -> None:  # noqa: ANN001
        """Store one item in a savepoint of its own: a new article, or an update of the stored one."""
        feed, now, previous = ctx.feed, ctx.now, it.previous
        try:
            with session.begin_nested():
                posted = post_article(
                    session,
                    it.article,
                    self.services.tagger,
                    now=now,
                    article_id=previous[2] if previous else None,
                    feed_id=feed.id,
                    guid=it.guid,
                    is_backfill=ctx.backfill,
                    alerts=self.services.alerts,
                    tagging=tagging,
                )
                if previous is not None:
                    session.query(FeedItem).filter(FeedItem.id == previous[0]).update(
                        {"fingerprint": it.fingerprint, "updated_at": now, "article_id": posted.article_id}
                    )
                    ctx.report.updated_articles += 1
                    return
                sig = None
                if posted.created:
                    sig = signature(f"{it.article.title}\n\n{it.article.body}")
                    self._group(session, posted.article_id, sig, now, ctx.added)
                    ctx.report.new_articles += 1
                    ctx.report.backfill_articles += int(ctx.backfill)
                    feed.items_seen = (feed.items_seen or 0) + 1
                session.add(
                    FeedItem(
                        feed_id=feed.id,
                        guid=it.guid,
                        fingerprint=it.fingerprint,
                        article_id=posted.article_id,
                        signature=sig.to_bytes() if sig is not None else None,
                        first_seen_at=now,
                        updated_at=now,
                    )
                )
                session.flush()
        except (EvwireError, ValueError) as exc:
            log.warning("feed item skipped: %s", exc, extra={"feed_id": feed.id})

    def _group(self, session, article_id: int, sig, now: datetime, added: list[int]) -> None:  # noqa: ANN001
        """Put a new article in the story of its nearest duplicate, or in a new story."""
        from evwire.store.tables import Article

        index = self.story_index()
        match = index.best_match(sig) if sig.size else None
        story_id = int(match.group_id) if match is not None else new_story(session, now=now)  # type: ignore[call-overload]
        # updated_at given, or the column's onupdate would stamp the wall clock: the article was
        # stored at ``now``, as upsert_article wrote it (and as the batched path writes it)
        session.query(Article).filter(Article.id == article_id).update(
            {"story_id": story_id, "updated_at": now}
        )
        index.add_signature(article_id, sig, story_id)
        added.append(article_id)

    def _note_websub(self, feed: Feed, parsed: ParsedFeed, result: FetchResult) -> None:
        header_hubs, header_self = links_from_header(result.link_header)
        # URLs longer than the websub columns hold are ignored (JSON Feed hubs and Link headers
        # are not read through the feed's link cleaner)
        hubs = [h for h in (list(parsed.hub_urls) or header_hubs) if len(h) <= MAX_URL]
        topic = parsed.self_url or header_self or feed.url
        if not hubs or len(topic) > MAX_URL:
            return
        if feed.websub_hub != hubs[0] or feed.websub_topic != topic:
            feed.websub_hub, feed.websub_topic = hubs[0], topic
            feed.websub_renew_at = None
            feed.websub_lease_until = None
        if feed.websub_renew_at is None or feed.websub_renew_at <= self.clock():
            self.websub_needs.append(WebSubNeed(feed.id, hubs[0], topic))

    # ------------------------------------------------------------ story index

    def story_index(self) -> StoryIndex:
        if self._index is None:
            with self.services.db.session() as session:
                self._index = load_story_index(session, now=self.clock())
        return self._index


def _parse(result: FetchResult, now: datetime) -> tuple[ParsedFeed | None, str | None]:
    assert result.body is not None
    try:
        return parse_feed(
            result.body, url=result.final_url, fetched_at=now, content_type=result.content_type
        ), None
    except IngestError as exc:
        return None, str(exc)


def extract_page_text(body: bytes, url: str) -> str | None:
    """The article text of an HTML page (trafilatura), or None when there is none."""
    from evwire.ingest.files import decode_text
    from evwire.ingest.html import parse_html

    try:
        page = parse_html(decode_text(body, html=True, label=url), url=url)
    except IngestError:
        return None
    return page.body or None
