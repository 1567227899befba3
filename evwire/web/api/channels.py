"""/api/channels: the channel index, one channel, and a channel's articles (cursor pages)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query

from evwire.store.channels import channel_index, channel_info
from evwire.store.queries import channel_articles, encode_cursor
from evwire.web.api.models import ArticlePageOut, ArticleSummaryOut, ChannelOut, ChannelSummaryOut, ErrorOut
from evwire.web.deps import CountsDep, SessionDep, SettingsDep
from evwire.web.routes.paging import parse_cursor

router = APIRouter(tags=["channels"])
ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}, 400: {"model": ErrorOut}}


@router.get("/channels", response_model=list[ChannelSummaryOut])
def list_channels(
    session: SessionDep,
    counts: CountsDep,
    q: Annotated[str | None, Query(max_length=100, description="filter text")] = None,
) -> list[ChannelSummaryOut]:
    """Every company channel with how many articles are about it and how many mention it
    (counts may be up to 30 s old)."""
    return [ChannelSummaryOut.of(c) for c in channel_index(session, filter_text=q, counts=counts)]


@router.get("/channels/{slug}", response_model=ChannelOut, responses=ERRORS)
def get_channel(session: SessionDep, counts: CountsDep, slug: str) -> ChannelOut:
    """A channel: the company's tickers, people, models, parent and sub-brands, counts and feed links."""
    info = channel_info(session, slug, counts=counts)
    if info is None:
        raise HTTPException(404, f"no channel {slug!r}")
    return ChannelOut.of(info)


@router.get("/channels/{slug}/articles", response_model=ArticlePageOut, responses=ERRORS)
def get_channel_articles(
    session: SessionDep,
    settings: SettingsDep,
    slug: str,
    role: Annotated[Literal["about", "mentioned"], Query()] = "about",
    limit: Annotated[int | None, Query(ge=1, le=200)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ArticlePageOut:
    """The channel's articles, newest first: those about it (default) or those that only mention it."""
    page = channel_articles(
        session, slug, role=role, limit=limit or settings.page_size, before=parse_cursor(cursor)
    )
    if page is None:
        raise HTTPException(404, f"no channel {slug!r}")
    return ArticlePageOut(
        items=[ArticleSummaryOut.of(c) for c in page.items],
        next_cursor=encode_cursor(page.next_before) if page.next_before else None,
    )
