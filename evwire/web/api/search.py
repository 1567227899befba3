"""/api/search: full-text search over articles, optionally within one channel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from evwire.store.search import search_articles
from evwire.web.api.models import ErrorOut, SearchHitOut, SearchOut
from evwire.web.deps import SessionDep

router = APIRouter(tags=["search"])


@router.get("/search", response_model=SearchOut, responses={400: {"model": ErrorOut}})
def search(
    session: SessionDep,
    q: Annotated[str, Query(max_length=500, description="words to find; any text is safe")],
    channel: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> SearchOut:
    """Articles containing every word of ``q``, best match first."""
    result = search_articles(session, q, channel=channel or None, limit=limit, offset=offset)
    return SearchOut(
        query=result.query,
        items=[SearchHitOut.of_hit(h) for h in result.hits],
        next_offset=offset + limit if result.has_more else None,
    )
