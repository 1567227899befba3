"""The channel index and a channel's page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.responses import Response

from evwire.store.channels import channel_index, channel_view
from evwire.web.deps import CountsDep, SessionDep, SettingsDep
from evwire.web.routes.paging import parse_cursor
from evwire.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/channels")
def channels_index(
    request: Request,
    session: SessionDep,
    counts: CountsDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    rows = channel_index(session, filter_text=q, counts=counts)
    return render(request, "channels.html", {"channels": rows, "q": q or ""})


@router.get("/channels/{slug}")
def channel_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    counts: CountsDep,
    slug: str,
    before: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    view = channel_view(session, slug, limit=settings.page_size, before=parse_cursor(before), counts=counts)
    if view is None:
        raise HTTPException(404, f"no channel {slug!r}; see /channels for the list")
    return render(request, "channel.html", {"v": view, "c": view.info, "first_page": before is None})
