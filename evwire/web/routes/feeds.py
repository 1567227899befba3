"""Per-channel feeds: RSS 2.0 and Atom (feedgen), the latest articles about a company."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request
from feedgen.feed import FeedGenerator
from starlette.responses import Response

from evwire.store.channels import ChannelInfo, FeedEntry, channel_feed_entries, channel_info
from evwire.web.counts import Counts
from evwire.web.deps import CountsDep, SessionDep, SettingsDep
from evwire.web.templating import paragraphs

router = APIRouter(include_in_schema=False)
FEED_SIZE = 30
# What XML 1.0 cannot carry: most C0 controls, surrogates, U+FFFE and U+FFFF (lxml refuses them all)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(value: str) -> str:
    """XML 1.0 cannot carry some characters (most controls, U+FFFE); untrusted text may contain them."""
    return _NOT_XML.sub("", value)


def _summary(entry: FeedEntry) -> str:
    parts = list(entry.bullets)
    body = paragraphs(entry.body)
    if body:
        parts.append(body[0])
    return _xml_text("\n".join(parts))[:2000]


def build_feed(info: ChannelInfo, entries: list[FeedEntry], base_url: str, kind: str) -> bytes:
    base = base_url.rstrip("/")
    channel_url = f"{base}/channels/{info.slug}"
    fg = FeedGenerator()
    fg.id(channel_url)
    fg.title(_xml_text(f"{info.name} — evwire"))
    fg.description(_xml_text(f"The latest EV-industry news about {info.name}"))
    fg.link(href=f"{channel_url}/feed.{kind}", rel="self")
    fg.link(href=channel_url, rel="alternate")  # last: RSS <channel><link> takes the last one
    fg.language("en")
    if entries:
        fg.updated(max(e.updated_at for e in entries))
    else:
        fg.updated(datetime(2000, 1, 1, tzinfo=UTC))
    for e in reversed(entries):  # feedgen prepends: add oldest first so the newest leads
        page = f"{base}/articles/{e.id}"
        fe = fg.add_entry()
        fe.id(page)
        fe.guid(page, permalink=True)
        fe.title(_xml_text(e.title))
        fe.link(href=page, rel="alternate")
        fe.published(e.published_at)
        fe.updated(e.updated_at)
        fe.description(_summary(e) or _xml_text(e.title), isSummary=True)
    return fg.atom_str(pretty=False) if kind == "atom" else fg.rss_str(pretty=False)


def _feed(session: SessionDep, settings: SettingsDep, counts: Counts, slug: str, kind: str) -> Response:
    info = channel_info(session, slug, extras=False, counts=counts)
    if info is None:
        raise HTTPException(404, f"no channel {slug!r}")
    # a recent count lets a big channel skip counting to choose its query plan
    entries = channel_feed_entries(session, info.id, limit=FEED_SIZE, known_count=info.about_count)
    media = "application/atom+xml" if kind == "atom" else "application/rss+xml"
    return Response(build_feed(info, entries, settings.base_url, kind), media_type=f"{media}; charset=utf-8")


@router.get("/channels/{slug}/feed.rss")
def channel_rss(
    request: Request, session: SessionDep, settings: SettingsDep, counts: CountsDep, slug: str
) -> Response:
    return _feed(session, settings, counts, slug, "rss")


@router.get("/channels/{slug}/feed.atom")
def channel_atom(
    request: Request, session: SessionDep, settings: SettingsDep, counts: CountsDep, slug: str
) -> Response:
    return _feed(session, settings, counts, slug, "atom")
