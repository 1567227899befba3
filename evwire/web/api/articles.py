"""/api/articles: list (cursor pages), one article, post (admin), editor corrections (admin)."""

from __future__ import annotations

import html
import re
from datetime import UTC
from typing import Annotated, Any, Literal

import nh3
from fastapi import APIRouter, HTTPException, Path, Query, Response
from fastapi.exceptions import RequestValidationError

from evwire.errors import EvwireError
from evwire.ingest.types import ParsedArticle
from evwire.pipeline import post_article, untag_article, utcnow
from evwire.store.articles import set_editor_mention
from evwire.store.queries import article_view, articles_page, encode_cursor
from evwire.web.api.models import (
    ArticleIn,
    ArticleOut,
    ArticlePageOut,
    ArticleSummaryOut,
    ErrorOut,
    MentionIn,
    PostedArticleOut,
)
from evwire.web.deps import AdminDep, ServicesDep, SessionDep, SettingsDep
from evwire.web.routes.paging import parse_cursor

router = APIRouter(tags=["articles"])
ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}, 400: {"model": ErrorOut}}
ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut},  # a body that is not JSON
    401: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
}
ArticleId = Annotated[int, Path(ge=1, le=2**31 - 1)]  # past an INTEGER key: 422, not a DB error
TAG_RE = re.compile(r"<[a-zA-Z/!][^>]*>")
BLOCK_END_RE = re.compile(r"(?i)</(?:p|div|h[1-6]|li|blockquote|section|article)\s*>|<br\s*/?>")


def plain_text(value: str) -> str:
    """Article text as plain text: HTML, if any, is reduced to its text by nh3 (no scripts/styles)."""
    if not TAG_RE.search(value):
        return value
    value = BLOCK_END_RE.sub("\n\n", value)
    return html.unescape(nh3.clean(value, tags=set())).strip()


def _parsed(item: ArticleIn) -> ParsedArticle:
    published = item.published
    if published is not None:
        published = published.replace(tzinfo=UTC) if published.tzinfo is None else published.astimezone(UTC)
    return ParsedArticle(
        title=" ".join(item.title.split()),
        body=plain_text(item.content),
        bullets=tuple(" ".join(plain_text(b).split()) for b in item.bullets if b.strip()),
        url=item.url,
        image_url=item.image_url,
        image_caption=item.image_caption,
        image_credit=item.image_credit,
        published_at=published,
        source_name=item.source_name,
    )


def _article_out(session: SessionDep, article_id: int) -> ArticleOut:
    view = article_view(session, article_id)
    if view is None:
        raise HTTPException(404, f"no article with id {article_id}")
    return ArticleOut.of_view(view)


@router.get("/articles", response_model=ArticlePageOut, responses=ERRORS)
def list_articles(
    session: SessionDep,
    settings: SettingsDep,
    channel: Annotated[str | None, Query(max_length=80, description="a channel slug, e.g. xiaomi")] = None,
    role: Annotated[
        Literal["about", "mentioned"], Query(description="with channel: about or mentioned")
    ] = "about",
    limit: Annotated[int | None, Query(ge=1, le=200)] = None,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page")
    ] = None,
) -> ArticlePageOut:
    """Articles newest first; with ``channel`` only those filed under it with ``role``."""
    page = articles_page(
        session, channel=channel, role=role, limit=limit or settings.page_size, before=parse_cursor(cursor)
    )
    if page is None:
        raise HTTPException(404, f"no channel {channel!r}")
    return ArticlePageOut(
        items=[ArticleSummaryOut.of(c) for c in page.items],
        next_cursor=encode_cursor(page.next_before) if page.next_before else None,
    )


@router.get("/articles/{article_id}", response_model=ArticleOut, responses=ERRORS)
def get_article(session: SessionDep, article_id: ArticleId) -> ArticleOut:
    """One article with its channels, tickers and people."""
    return _article_out(session, article_id)


@router.post(
    "/articles",
    response_model=PostedArticleOut,
    status_code=201,
    responses={
        200: {
            "model": PostedArticleOut,
            "description": "an article with the same URL or content was updated",
        },
        409: {"model": ErrorOut},
        413: {"model": ErrorOut},
        **ADMIN_ERRORS,
    },
)
def create_article(
    _admin: AdminDep,
    item: ArticleIn,
    response: Response,
    session: SessionDep,
    services: ServicesDep,
    alert: Annotated[bool, Query(description="false: store without alerting subscribers")] = True,
) -> PostedArticleOut:
    """Post an article (admin): 201 when new; 200 when the same URL or content was stored and is updated.
    A new article alerts its subscribers whatever its date (``?alert=false`` to skip)."""
    limit = services.settings.max_article_bytes
    size = len(item.content.encode("utf-8")) + sum(len(b.encode("utf-8")) for b in item.bullets)
    if size > limit:
        raise HTTPException(
            413, f"the article text is {size} bytes; the limit is {limit} (EVWIRE_MAX_ARTICLE_BYTES)"
        )
    parsed = _parsed(item)
    if not parsed.body and not parsed.bullets:
        msg = "the article has no text left after removing HTML"
        raise RequestValidationError([{"loc": ("body", "text"), "msg": msg, "type": "value_error"}])
    try:
        result = post_article(
            session, parsed, services.tagger, now=utcnow(), alerts=services.alerts, alert=alert, any_date=True
        )
    except EvwireError as exc:
        raise HTTPException(409, str(exc)) from exc
    response.status_code = 201 if result.created else 200
    return PostedArticleOut(created=result.created, article=_article_out(session, result.article_id))


@router.put("/articles/{article_id}/channels/{slug}", response_model=ArticleOut, responses=ADMIN_ERRORS)
def set_article_channel(
    _admin: AdminDep, article_id: ArticleId, slug: str, body: MentionIn, session: SessionDep
) -> ArticleOut:
    """An editor's correction (admin): file the article under ``slug`` as about or mentioned, or exclude it.
    Corrections survive re-tagging."""
    set_editor_mention(session, article_id, slug, body.role)
    return _article_out(session, article_id)


@router.delete("/articles/{article_id}/channels/{slug}", response_model=ArticleOut, responses=ADMIN_ERRORS)
def clear_article_channel(
    _admin: AdminDep, article_id: ArticleId, slug: str, session: SessionDep, services: ServicesDep
) -> ArticleOut:
    """Remove an editor's correction (admin); the automatic tags for the article come back."""
    untag_article(session, article_id, slug, services.tagger)
    return _article_out(session, article_id)
