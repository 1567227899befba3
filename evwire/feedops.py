"""Operator actions on feeds that need the network: add by URL (with discovery), OPML in and out.

``add_feed_url`` fetches the address once: a feed is added as it is; an HTML page is searched for
``<link rel="alternate">`` feed links and the first (the site's main feed) is added. The CLI and the
admin pages both call these; they open their own transactions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from evwire.errors import EvwireError
from evwire.ingest.client import make_client
from evwire.ingest.discover import find_feed_links, looks_like_feed
from evwire.ingest.fetch import fetch_feed
from evwire.ingest.hostlimits import HostLimiter
from evwire.ingest.opml import parse_opml, write_opml
from evwire.pipeline import Services
from evwire.store.feeds import add_feed, export_feeds


@dataclass(frozen=True)
class Added:
    feed_id: int
    url: str
    created: bool
    discovered_from: str | None = None  # the page the feed link was found on
    title: str | None = None


async def discover_feed_url(services: Services, url: str) -> tuple[str, str | None, str | None]:
    """(feed URL, title, page it was found on or None) for a feed or a site's home page."""
    settings = services.settings
    async with make_client(settings) as client:
        result = await fetch_feed(client, url, limits=HostLimiter.from_settings(settings), settings=settings)
    if result.error or result.body is None:
        raise EvwireError(f"could not fetch {url}: {result.error or 'no content'}")
    final = result.permanent_url or url
    if looks_like_feed(result.body, result.content_type):
        return final, None, None
    links = find_feed_links(result.body, result.final_url)
    if not links:
        raise EvwireError(
            f'{url} is neither a feed nor a page that links one (no <link rel="alternate" '
            'type="application/rss+xml">); find the feed address on the site'
        )
    return links[0].url, links[0].title, result.final_url


async def add_feed_url(
    services: Services, url: str, *, now: datetime, full_text: bool = False, title: str | None = None
) -> Added:
    feed_url, found_title, page = await discover_feed_url(services, url)
    with services.db.session() as session:
        row, created = add_feed(
            session, feed_url, now=now, title=title or found_title, site_url=page, full_text=full_text
        )
        return Added(row.id, row.url, created, page, row.title)


@dataclass(frozen=True)
class OpmlImport:
    added: int
    known: int  # already followed
    skipped: tuple[str, ...] = ()  # "URL: why" for each entry that could not be followed


def import_opml(services: Services, data: bytes, *, now: datetime, full_text: bool = False) -> OpmlImport:
    """Follow every feed of an OPML file (no network: they are polled later). An entry that cannot be
    followed (not http(s), too long) is skipped and reported; the others are added."""
    entries = parse_opml(data)
    added = known = 0
    skipped: list[str] = []
    with services.db.session() as session:
        for entry in entries:
            try:
                with session.begin_nested():
                    _row, created = add_feed(
                        session,
                        entry.xml_url,
                        now=now,
                        title=entry.title,
                        site_url=entry.html_url,
                        category="/".join(entry.category) or None,
                        full_text=full_text,
                    )
            except EvwireError as exc:
                skipped.append(f"{entry.xml_url[:200]}: {exc}")
                continue
            added += int(created)
            known += int(not created)
    return OpmlImport(added, known, tuple(skipped))


def export_opml(services: Services, *, now: datetime) -> bytes:
    with services.db.session() as session:
        return write_opml(export_feeds(session), now=now)
