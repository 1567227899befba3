"""The article page."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from evwire.store.queries import article_view
from evwire.web.deps import SessionDep
from evwire.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/articles/{article_id}")
def article_page(request: Request, session: SessionDep, article_id: int) -> Response:
    view = article_view(session, article_id)
    if view is None:
        raise HTTPException(404, f"no article with id {article_id}")
    return render(request, "article.html", {"a": view})
