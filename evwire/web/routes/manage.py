"""The manage page and unsubscribe, reached by signed links from every mail.

The token in the URL is the authority. The manage form also carries a CSRF token bound to the
subscriber. ``GET /unsubscribe`` changes nothing (mail scanners follow links): it shows a button.
``POST /unsubscribe`` with the body ``List-Unsubscribe=One-Click`` (RFC 8058, sent by mail
clients, so no CSRF token) unsubscribes at once; the page's button posts a CSRF token instead.
``GET /manage`` also takes ``add`` and ``q``: additions someone asked for, shown ticked and saved
only by the owner's Save.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Form, HTTPException, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from evwire.errors import EvwireError
from evwire.ingest.guard import AddressPolicy
from evwire.pipeline import utcnow
from evwire.settings import Settings
from evwire.store.subscriber_views import requested_additions, subscriber_view
from evwire.store.subscriptions import (
    MAX_KEYWORD_ALERTS,
    QueryInputError,
    unsubscribe_all,
    update_preferences,
)
from evwire.store.tables import Subscriber
from evwire.store.targets import add_target, remove_subscriber_target, subscriber_targets
from evwire.web.deps import SessionDep, SettingsDep
from evwire.web.routes.subscribe import (
    LinkRefused,
    PathToken,
    check_form,
    form_token,
    link_subscriber,
    link_url,
)
from evwire.web.templating import render

router = APIRouter(include_in_schema=False)
Token = Annotated[str | None, Query(max_length=1000)]
SLUG_SPLIT = re.compile(r"[\s,;]+")


@cache
def timezones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def _scope(subscriber: Subscriber) -> str:
    return f"manage-{subscriber.id}"


def _context(settings: Settings, session: Session, subscriber: Subscriber, token: str) -> dict[str, Any]:
    view = subscriber_view(session, subscriber.id)
    if view is None:  # deleted since link_subscriber found it
        raise LinkRefused(403, "this manage link is for a subscription that no longer exists")
    return {
        "token": token,
        "csrf": form_token(settings, _scope(subscriber)),
        "email": view.email,
        "status": view.status,
        "channels": view.channels,
        "queries_text": "\n".join(q.text for q in view.queries),
        "add_channels": "",
        "digest": view.digest,
        "timezone": view.timezone,
        "digest_hour": view.digest_hour,
        "include_mentions": view.include_mentions,
        "timezones": timezones(),
        "targets": [
            (t.id, t.url.split("://", 1)[0] + "://…", t.active)
            for t in subscriber_targets(session, subscriber.id)
        ],
        "target_url": "",
        "errors": [],
        "msg": None,
    }


Add = Annotated[str, Query(max_length=1000)]
AddQueries = Annotated[list[str] | None, Query(max_length=1000)]


def _preselect(
    session: Session, subscriber: Subscriber, context: dict[str, Any], add: str, q: list[str]
) -> None:
    """Show what someone asked to add (``?add=ford,byd&q=...``, from the mail a subscribe request
    for a confirmed address sends) ticked but not saved: only the owner's Save adds it."""
    slugs = [s for s in SLUG_SPLIT.split(add) if s]
    try:
        channels, texts = requested_additions(session, subscriber.id, slugs, q[:MAX_KEYWORD_ALERTS])
    except EvwireError:  # an altered link: show the channels, ignore the queries
        channels, texts = requested_additions(session, subscriber.id, slugs)
    if not (channels or texts):
        return
    context["channels"] = tuple(sorted((*context["channels"], *channels), key=lambda c: c.name))
    if texts:
        context["queries_text"] = "\n".join(t for t in (context["queries_text"], *texts) if t)
    what = ", ".join([c.name for c in channels] + [f'the keyword alert "{t}"' for t in texts])
    context["msg"] = f"You asked to follow {what}; save to confirm. Nothing has changed yet."


@router.get("/manage")
def manage_page(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    token: Token = None,
    add: Add = "",
    q: AddQueries = None,
) -> Response:
    subscriber = link_subscriber(settings, session, "manage", token)
    context = _context(settings, session, subscriber, token or "")
    if add or q:
        _preselect(session, subscriber, context, add, q or [])
    return render(request, "manage.html", context)


@router.get("/alerts/manage/{token}")
def manage_link(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    token: PathToken,
    add: Add = "",
    q: AddQueries = None,
) -> Response:
    """The form the mails carry (``alerts.urls``); the page's forms post to ``/manage?token=``."""
    return manage_page(request, settings, session, token, add, q)


@router.post("/manage")
def manage_save(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    token: Token = None,
    csrf: Annotated[str | None, Form(max_length=500)] = None,
    action: Annotated[str, Form(max_length=20)] = "save",
    channels: Annotated[list[str] | None, Form(max_length=80)] = None,
    add_channels: Annotated[str, Form(max_length=1000)] = "",
    queries: Annotated[str, Form(max_length=20000)] = "",
    digest: Annotated[str, Form(max_length=10)] = "immediate",
    timezone: Annotated[str, Form(max_length=64)] = "UTC",
    digest_hour: Annotated[int, Form(ge=0, le=23)] = 8,
    include_mentions: Annotated[bool, Form()] = False,
    target_url: Annotated[str, Form(max_length=2000)] = "",
    target_id: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
) -> Response:
    subscriber = link_subscriber(settings, session, "manage", token)
    check_form(request, settings, _scope(subscriber), csrf)
    if action == "unsubscribe":
        unsubscribe_all(session, subscriber.id, now=utcnow())
        return render(request, "unsubscribe.html", {"done": True, "email": subscriber.email})
    if action in ("add_target", "remove_target"):
        return _change_target(
            request, settings, session, subscriber, token or "", action, target_url, target_id
        )
    if action != "save":
        raise HTTPException(400, f"unknown action {action!r}")
    slugs = list(dict.fromkeys([*(channels or []), *(s for s in SLUG_SPLIT.split(add_channels) if s)]))
    lines = [q.strip() for q in queries.splitlines()]  # blank lines kept: errors name the line
    try:  # update_preferences checks every value before it writes anything
        update_preferences(
            session,
            subscriber.id,
            digest=digest,
            timezone=timezone.strip(),
            digest_hour=digest_hour,
            include_mentions=include_mentions,
            slugs=slugs,
            queries=lines,
            now=utcnow(),
        )
    except EvwireError as exc:
        context = _context(settings, session, subscriber, token or "")
        context.update(
            errors=_messages(exc, lines),
            queries_text=queries,
            add_channels=add_channels,
            digest=digest,
            timezone=timezone,
            digest_hour=digest_hour,
            include_mentions=include_mentions,
        )
        return render(request, "manage.html", context, status_code=400)
    context = _context(settings, session, subscriber, token or "")
    context["msg"] = "Saved."
    return render(request, "manage.html", context)


def _change_target(
    request: Request,
    settings: Settings,
    session: Session,
    subscriber: Subscriber,
    token: str,
    action: str,
    url: str,
    target_id: int | None,
) -> Response:
    """Add or remove one of the subscriber's own Apprise targets (Telegram, Slack, Discord, ntfy, a JSON
    webhook): it gets what their mail gets. Its host must pass the private-address guard."""
    try:
        if action == "add_target":
            policy = AddressPolicy.from_settings(settings)
            add_target(session, url, subscriber_id=subscriber.id, policy=policy, now=utcnow())
            msg = "Target added: new alerts are posted there too."
        else:
            remove_subscriber_target(session, subscriber.id, target_id or 0)
            msg = "Target removed."
    except EvwireError as exc:
        context = _context(settings, session, subscriber, token)
        context.update(errors=[str(exc)], target_url=url)
        return render(request, "manage.html", context, status_code=400)
    context = _context(settings, session, subscriber, token)
    context["msg"] = msg
    return render(request, "manage.html", context)


def _messages(exc: EvwireError, lines: list[str]) -> list[str]:
    """A bad keyword alert is named by its line, the character it goes wrong at and why."""
    if isinstance(exc, QueryInputError) and 0 <= exc.index < len(lines):
        where = f", character {exc.position + 1}" if exc.position is not None else ""
        reason = getattr(exc.__cause__, "reason", exc.reason)
        return [f"keyword alert on line {exc.index + 1} ({lines[exc.index]!r}){where}: {reason}"]
    return [str(exc)]


@router.get("/unsubscribe")
def unsubscribe_page(
    request: Request, settings: SettingsDep, session: SessionDep, token: Token = None
) -> Response:
    subscriber = link_subscriber(settings, session, "unsubscribe", token)
    context = {
        "done": subscriber.status == "unsubscribed",
        "email": subscriber.email,
        "token": token,
        "csrf": form_token(settings, f"unsubscribe-{subscriber.id}"),
        "manage_url": link_url(settings, "manage", subscriber),
    }
    return render(request, "unsubscribe.html", context)


@router.post("/unsubscribe")
async def unsubscribe_post(
    request: Request, settings: SettingsDep, session: SessionDep, token: Token = None
) -> Response:
    subscriber = link_subscriber(settings, session, "unsubscribe", token)
    form = await request.form()
    if form.get("List-Unsubscribe") != "One-Click":
        csrf = form.get("csrf")
        check_form(request, settings, f"unsubscribe-{subscriber.id}", csrf if isinstance(csrf, str) else None)
    unsubscribe_all(session, subscriber.id, now=utcnow())
    return render(request, "unsubscribe.html", {"done": True, "email": subscriber.email})


@router.get("/alerts/unsubscribe/{token}")
def unsubscribe_link(
    request: Request, settings: SettingsDep, session: SessionDep, token: PathToken
) -> Response:
    return unsubscribe_page(request, settings, session, token)


@router.post("/alerts/unsubscribe/{token}")
async def unsubscribe_link_post(
    request: Request, settings: SettingsDep, session: SessionDep, token: PathToken
) -> Response:
    """The ``List-Unsubscribe`` URL of every mail: mail clients POST ``List-Unsubscribe=One-Click`` here."""
    return await unsubscribe_post(request, settings, session, token)
