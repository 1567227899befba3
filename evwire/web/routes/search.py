"""Full-text search page; also the target of the header's search box."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from evwire.store.channels import channel_refs
from evwire.store.search import search_articles
from evwire.web.deps import SessionDep
from evwire.web.templating import render

router = APIRouter(include_in_schema=False)
PER_PAGE = 20


@router.get("/search")
def search_page(
    request: Request,
    session: SessionDep,
    q: Annotated[str, Query(max_length=500)] = "",
    channel: Annotated[str | None, Query(max_length=80)] = None,
    page: Annotated[int, Query(ge=1, le=500)] = 1,
) -> Response:
    channel = channel or None
    result = (
        search_articles(session, q, channel=channel, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
        if q.strip()
        else None
    )
    return render(
        request,
        "search.html",
        {"q": q, "channel": channel, "page": page, "result": result, "channels": channel_refs(session)},
    )
