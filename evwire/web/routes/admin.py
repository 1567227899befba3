"""Admin pages for feeds: log in with the admin token, then list, add, pause, resume, remove.

The session is a cookie signed with itsdangerous (HttpOnly, SameSite=Lax, Secure on https) that
carries a CSRF token; every form posts it back. The login form has its own CSRF token, a signed
value also set as a short-lived cookie (double submit).
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.responses import RedirectResponse, Response

from evwire.errors import EvwireError
from evwire.feedops import add_feed_url
from evwire.pipeline import utcnow
from evwire.settings import Settings
from evwire.store.feeds import feed_counts, list_feeds, pause_feed, remove_feed, resume_feed
from evwire.web.deps import ServicesDep, SessionDep, SettingsDep
from evwire.web.templating import render

router = APIRouter(include_in_schema=False)
SESSION_COOKIE = "evwire_admin"
LOGIN_COOKIE = "evwire_login_csrf"
SESSION_AGE = 12 * 3600


def _signer(settings: Settings, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.signing_key, salt=f"evwire-admin-{purpose}")


def _secure(settings: Settings) -> bool:
    return settings.base_url.startswith("https://")


def admin_session(request: Request, settings: SettingsDep) -> dict[str, Any] | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw or settings.admin_token is None:
        return None
    try:
        data = _signer(settings, "session").loads(raw, max_age=SESSION_AGE)
    except BadSignature:
        return None
    return data if isinstance(data, dict) and data.get("admin") else None


AdminSession = Annotated[dict[str, Any] | None, Depends(admin_session)]


def _require(session: dict[str, Any] | None, csrf: str | None = None) -> dict[str, Any]:
    if session is None:
        raise HTTPException(401, "log in at /admin/login with the admin token")
    # bytes: compare_digest raises TypeError (a 500) for a str that is not ASCII
    if csrf is not None and not secrets.compare_digest(csrf.encode(), str(session.get("csrf", "")).encode()):
        raise HTTPException(403, "the form's CSRF token is wrong or old; reload the page and try again")
    return session


def _back(message: str | None = None) -> RedirectResponse:
    target = "/admin/feeds" + (f"?{urlencode({'msg': message})}" if message else "")
    return RedirectResponse(target, status_code=303)


@router.get("/admin/login")
def login_page(request: Request, settings: SettingsDep, error: str | None = None) -> Response:
    value = secrets.token_urlsafe(16)
    token = _signer(settings, "login").dumps(value)
    response = render(
        request,
        "admin_login.html",
        {"csrf": token, "error": error, "closed": settings.admin_token is None},
        status_code=400 if error else 200,
    )
    response.set_cookie(LOGIN_COOKIE, value, max_age=3600, httponly=True, samesite="lax",
                        secure=_secure(settings), path="/admin")  # fmt: skip
    return response


@router.post("/admin/login")
def login(
    request: Request,
    settings: SettingsDep,
    token: Annotated[str, Form(max_length=500)],
    csrf: Annotated[str, Form(max_length=500)],
) -> Response:
    try:
        expected_csrf = _signer(settings, "login").loads(csrf, max_age=3600)
    except BadSignature:
        expected_csrf = None
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not expected_csrf or not secrets.compare_digest(str(expected_csrf).encode(), cookie.encode()):
        return login_page(request, settings, error="the form expired; try again")
    if settings.admin_token is None:
        return login_page(request, settings, error="admin is closed: set EVWIRE_ADMIN_TOKEN to open it")
    if not secrets.compare_digest(token.encode(), settings.admin_token.get_secret_value().encode()):
        return login_page(request, settings, error="wrong admin token")
    value = _signer(settings, "session").dumps({"admin": True, "csrf": secrets.token_urlsafe(24)})
    response = _back()
    response.set_cookie(SESSION_COOKIE, value, max_age=SESSION_AGE, httponly=True, samesite="lax",
                        secure=_secure(settings), path="/")  # fmt: skip
    response.delete_cookie(LOGIN_COOKIE, path="/admin")
    return response


@router.post("/admin/logout")
def logout(admin: AdminSession, csrf: Annotated[str, Form(max_length=500)]) -> Response:
    _require(admin, csrf)
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/admin/feeds")
def feeds_page(
    request: Request, admin: AdminSession, session: SessionDep, msg: str | None = None
) -> Response:
    if admin is None:
        return RedirectResponse("/admin/login", status_code=303)
    feeds = list_feeds(session)
    context = {"feeds": feeds, "counts": feed_counts(session), "csrf": admin["csrf"], "msg": msg}
    return render(request, "admin_feeds.html", context)


@router.post("/admin/feeds")
async def add_feed_form(
    services: ServicesDep,
    admin: AdminSession,
    url: Annotated[str, Form(max_length=2000)],
    csrf: Annotated[str, Form(max_length=500)],
    full_text: Annotated[bool, Form()] = False,
) -> Response:
    _require(admin, csrf)
    try:
        added = await add_feed_url(services, url, now=utcnow(), full_text=full_text)
    except EvwireError as exc:
        return _back(f"not added: {exc}")
    found = f" (found on {added.discovered_from})" if added.discovered_from else ""
    return _back(
        f"feed {added.feed_id} {'added' if added.created else 'already followed'}: {added.url}{found}"
    )


@router.post("/admin/feeds/{feed_id}/{action}")
def feed_action(
    session: SessionDep,
    admin: AdminSession,
    feed_id: int,
    action: str,
    csrf: Annotated[str, Form(max_length=500)],
) -> Response:
    _require(admin, csrf)
    now = utcnow()
    if action == "pause":
        feed = pause_feed(session, feed_id, now=now)
    elif action == "resume":
        feed = resume_feed(session, feed_id, now=now)
    elif action == "remove":
        feed = remove_feed(session, feed_id)
    else:
        raise HTTPException(404, f"no action {action!r}; use pause, resume or remove")
    return _back(f"feed {feed.id}: {action}d" if action != "pause" else f"feed {feed.id}: paused")
