"""create_app(settings): the web app — server-rendered pages, per-channel feeds and the JSON API.

Services (database, catalog, tagger) are opened once here and kept on ``app.state``; routes get
them through the typed dependencies in ``deps.py``. Nothing is built at import time.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from evwire.errors import EvwireError, NotFoundError
from evwire.logs import configure_logging
from evwire.opsmetrics import PollMetrics, QueueCollector
from evwire.pipeline import Services, open_services
from evwire.settings import Settings
from evwire.web.api import articles as api_articles
from evwire.web.api import channels as api_channels
from evwire.web.api import search as api_search
from evwire.web.counts import CountCache
from evwire.web.metrics import WebMetrics
from evwire.web.middleware import EdgeMiddleware
from evwire.web.pagecache import ContentVersion, PageCache, PageCacheMiddleware
from evwire.web.ratelimit import RateLimiter, RateLimitMiddleware
from evwire.web.routes import admin, articles, channels, docs, feeds, home, ops, search, websub
from evwire.web.routes.figures import install as install_figures
from evwire.web.routes.subscribe import install as install_subscriptions
from evwire.web.templating import STATIC_DIR, make_templates, render

log = logging.getLogger(__name__)
BODY_SLACK = 256 * 1024  # JSON framing and escaping around the article text


def create_app(settings: Settings, *, services: Services | None = None) -> FastAPI:
    """Build the app. Pass ``services`` to share already-open ones (they are then not closed here)."""
    configure_logging(settings)
    owned = services is None
    services = services or open_services(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        version = getattr(_app.state, "content_version", None)
        if version is not None:
            version.close()
        if owned:
            services.close()

    app = FastAPI(
        title="evwire",
        summary="EV-industry news filed under company channels",
        version="0.1.0",
        docs_url=None,  # /docs is our own server-rendered page: no CDN, no JavaScript
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.settings = settings
    app.state.templates = make_templates()
    app.state.metrics = WebMetrics(services)
    app.state.poll_metrics = PollMetrics(app.state.metrics.registry)  # fed by a poller in this process
    app.state.metrics.registry.register(QueueCollector(services))
    app.state.counts = CountCache()

    for module in (home, articles, channels, feeds, search, ops, docs, admin, websub):
        app.include_router(module.router)
    for module in (api_articles, api_channels, api_search):
        app.include_router(module.router, prefix="/api")
    install_figures(app)  # figures pages, chart images, CSV, /api figures, the templates' chart panel
    install_subscriptions(app)  # subscribe box and API, confirm, manage, unsubscribe, admin outbox
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    if settings.page_cache_entries > 0:
        app.state.content_version = ContentVersion(
            settings.db_url, _sqlite_path(services), services.db.engine
        )
        app.state.page_cache = PageCache(settings.page_cache_entries)
        app.add_middleware(PageCacheMiddleware, cache=app.state.page_cache, version=app.state.content_version)
    app.state.rate_limiter = RateLimiter.from_settings(settings)  # per process, per app
    app.add_middleware(RateLimitMiddleware, limiter=app.state.rate_limiter)  # inside Edge: 429s are counted
    app.add_middleware(
        EdgeMiddleware, metrics=app.state.metrics, max_body=settings.max_article_bytes + BODY_SLACK
    )
    _install_error_handlers(app)
    return app


def _sqlite_path(services: Services) -> str | None:
    """The database file when it is one SQLite file (not in memory): the page cache watches it."""
    url = services.db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return url.database


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return (
        path.startswith("/api/") or path == "/api" or path.endswith((".rss", ".atom")) or path == "/healthz"
    )


def _error(request: Request, status: int, detail: object, headers: dict | None = None) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    message = detail if isinstance(detail, str) else "the request is not valid"
    return render(
        request, "error.html", {"status": status, "message": message}, status_code=status, headers=headers
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(request, exc.status_code, exc.detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        if _wants_json(request):
            return JSONResponse({"detail": errors}, status_code=422)
        first = errors[0] if errors else {"loc": [], "msg": "invalid"}
        where = ".".join(str(p) for p in first["loc"][1:]) or "request"
        return _error(request, 400, f"{where}: {first['msg']}")

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> Response:
        return _error(request, 404, str(exc))

    @app.exception_handler(EvwireError)
    async def evwire_error(request: Request, exc: EvwireError) -> Response:
        return _error(request, 400, str(exc))

    @app.exception_handler(DataError)
    @app.exception_handler(OverflowError)
    async def bad_value(request: Request, exc: Exception) -> Response:
        # a value the database can't take: a NUL character (PostgreSQL) or a number past a column's range
        log.info("rejected a value the database can't store on %s: %s", request.url.path, type(exc).__name__)
        return _error(request, 400, "the request has a value that can't be stored or looked up "
                      "(a NUL character, or a number out of range)")  # fmt: skip

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("unhandled error on %s", request.url.path, exc_info=exc)
        return JSONResponse({"detail": "internal error; the server log has the details"}, status_code=500)
