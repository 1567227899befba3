"""The home page: the latest articles of every channel, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from evwire.store.queries import latest_articles
from evwire.web.deps import SessionDep, SettingsDep
from evwire.web.routes.paging import parse_cursor
from evwire.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    before: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    page = latest_articles(session, limit=settings.page_size, before=parse_cursor(before))
    return render(request, "home.html", {"page": page, "first_page": before is None})
