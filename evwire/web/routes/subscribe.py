"""Subscribing without an account: the box on every channel page, the confirmation link.

The answer to a subscribe request is the same page, with the same status, whether the address was
new, pending or already confirmed (no enumeration), and whether or not a mail went out (the
per-address limit). Only a malformed address, a missing CSRF token (403) or too many requests from
one IP (429) answer differently. Anonymous forms carry a signed, expiring token (the admin
pages' signer) and are refused when the browser says they come from another site (Origin).
"""

from __future__ import annotations

import logging
import math
import secrets
from datetime import datetime
from email.message import EmailMessage
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Form, HTTPException, Path, Query, Request
from itsdangerous import BadSignature
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.responses import Response

from evwire.alerts.config import instance_host, mail_from, make_signer, make_transport
from evwire.alerts.links import LinkError, LinkExpired, Purpose
from evwire.alerts.mail import build_addition, build_confirmation
from evwire.alerts.urls import LinkMaker
from evwire.errors import EvwireError
from evwire.pipeline import Services, utcnow
from evwire.settings import Settings
from evwire.store.companies import get_company
from evwire.store.subscriber_views import pending_confirmation, requested_additions
from evwire.store.subscriptions import (
    confirm,
    get_subscriber,
    may_send_confirmation,
    subscribe,
)
from evwire.store.tables import Subscriber
from evwire.web.deps import ServicesDep, SessionDep, SettingsDep
from evwire.web.ratelimit import RateLimiter, Rule
from evwire.web.routes.admin import _signer
from evwire.web.templating import render

log = logging.getLogger(__name__)
PathToken = Annotated[str, Path(max_length=1000)]
CONFIRM_PATH = "/alerts/confirm/"
router = APIRouter(include_in_schema=False)
FORM_AGE = 24 * 3600  # a channel page may stay open a while


# -- anonymous-form CSRF ------------------------------------------------------------------------


def form_token(settings: Settings, scope: str) -> str:
    """A signed, expiring token for a form; ``scope`` binds it (``subscribe``, ``manage-42``)."""
    return str(_signer(settings, f"form-{scope}").dumps(secrets.token_urlsafe(9)))


def check_form(request: Request, settings: Settings, scope: str, token: str | None) -> None:
    """403 unless ``token`` is a live token of ``scope`` and the browser does not say it is cross-site."""
    origin = request.headers.get("origin")
    ours = {request.headers.get("host", ""), urlsplit(settings.base_url).netloc}  # a proxy may rewrite Host
    if origin is not None and urlsplit(origin).netloc not in ours:
        raise HTTPException(403, "this form was sent from another site; open the page here and try again")
    try:
        _signer(settings, f"form-{scope}").loads(token or "", max_age=FORM_AGE)
    except BadSignature:
        raise HTTPException(
            403, "the form's CSRF token is missing, wrong or old; reload the page and try again"
        ) from None


def subscribe_token(request: Request) -> str:
    """Jinja global for the channel page's subscribe box."""
    return form_token(request.app.state.services.settings, "subscribe")


# -- per-IP limit -------------------------------------------------------------------------------

# Subscribe requests per client address (form and API together): a burst, then one a minute.
SUBSCRIBE_RULE = Rule("subscribe", per_minute=1.0, burst=10)


def make_subscribe_limiter(settings: Settings) -> RateLimiter:
    return RateLimiter({"subscribe": SUBSCRIBE_RULE}, enabled=settings.rate_limit_enabled)


def limit_ip(request: Request) -> None:
    """429 with Retry-After when this client asked too often (``app.state.subscribe_limiter``)."""
    limiter: RateLimiter = request.app.state.subscribe_limiter
    wait = limiter.take("subscribe", request.client.host if request.client else "unknown")
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise HTTPException(
            429,
            f"too many subscribe requests from your address; try again in {seconds} s",
            headers={"Retry-After": str(seconds)},
        )


# -- the shared steps ---------------------------------------------------------------------------


def start_subscription(
    services: Services, session: Session, email: str, slugs: list[str], **prefs: Any
) -> EmailMessage | None:
    """Record the request; the mail to send, when its per-address limit allows: the confirmation
    mail for a pending address; for a confirmed one, whose alerts a stranger must not change, a
    manage link with the requested additions pre-selected (nothing is stored). The caller answers
    the same in every case and sends the mail after the answer (so the time taken does not tell
    either). AddressError, an unknown channel or a bad query propagate: those say nothing about
    who is subscribed.
    """
    now = utcnow()
    subscriber = subscribe(session, email, slugs, now=now, hold_confirmed=True, **prefs)
    if subscriber.status == "confirmed":
        return addition_mail(
            session, services.settings, subscriber, slugs, prefs.get("queries") or (), now=now
        )
    if subscriber.status != "pending" or not may_send_confirmation(session, subscriber, now=now):
        return None
    return confirmation_mail(session, services.settings, subscriber.id, now=now)


def addition_mail(
    session: Session,
    settings: Settings,
    subscriber: Subscriber,
    slugs: list[str],
    queries: list[str] | tuple[str, ...],
    *,
    now: datetime,
) -> EmailMessage | None:
    """The mail asking a confirmed address's owner to add what someone requested (None when it
    follows all of it already or its limit says no)."""
    channels, texts = requested_additions(session, subscriber.id, slugs, queries)
    if not (channels or texts) or not may_send_confirmation(session, subscriber, now=now):
        return None
    url = LinkMaker(settings, make_signer(settings)).manage_add_url(
        subscriber.id, subscriber.email, [c.slug for c in channels], texts
    )
    return build_addition(
        to=subscriber.email,
        sender=mail_from(settings),
        host=instance_host(settings),
        manage_url=url,
        channels=[c.name for c in channels],
        queries=texts,
        request_id=f"{subscriber.id}.{int(now.timestamp())}",
        now=now,
    )


def confirmation_mail(
    session: Session, settings: Settings, subscriber_id: int, *, now: datetime
) -> EmailMessage | None:
    pending = pending_confirmation(session, subscriber_id)
    if pending is None:
        return None
    token = make_signer(settings).make("confirm", pending.subscriber_id, pending.email)
    return build_confirmation(
        to=pending.email,
        sender=mail_from(settings),
        host=instance_host(settings),
        confirm_url=f"{settings.base_url.rstrip('/')}{CONFIRM_PATH}{token}",  # as alerts.urls makes them
        following=pending.following,
        request_id=f"{pending.subscriber_id}.{int(now.timestamp())}",
        now=now,
    )


async def send_mail(settings: Settings, msg: EmailMessage | None) -> None:
    if msg is None:
        return
    transport = make_transport(settings)
    try:
        result = await transport.send(msg)
    finally:
        await transport.close()
    if not result.accepted:
        log.warning("confirmation mail not sent (%s): %s", result.outcome, result.detail)


class LinkRefused(Exception):
    def __init__(self, status: int, message: str, *, resubscribe_helps: bool = True) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.resubscribe_helps = resubscribe_helps  # False: a new link would not help (suspended)


def link_subscriber(settings: Settings, session: Session, purpose: Purpose, token: str | None) -> Subscriber:
    """The subscriber a signed link is for; LinkRefused (400 expired or malformed, 403 forged)."""
    if not token:
        raise LinkRefused(400, f"this {purpose} link has no token; open the full link from the mail")
    signer = make_signer(settings)
    try:
        claim = signer.read(purpose, token)
        subscriber = get_subscriber(session, claim.subscriber_id)
        if subscriber is None:
            raise LinkRefused(403, f"this {purpose} link is for a subscription that no longer exists")
        signer.check_address(claim, subscriber.email)
    except LinkExpired as exc:
        raise LinkRefused(400, str(exc)) from None
    except LinkError as exc:
        raise LinkRefused(403, str(exc)) from None
    return subscriber


def link_url(settings: Settings, purpose: Purpose, subscriber: Subscriber, path: str | None = None) -> str:
    token = make_signer(settings).make(purpose, subscriber.id, subscriber.email)
    return f"/{path or purpose}?token={token}"


# -- routes -------------------------------------------------------------------------------------


@router.post("/channels/{slug}/subscribe")
def subscribe_form(
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    slug: str,
    email: Annotated[str, Form(max_length=320)] = "",
    csrf: Annotated[str | None, Form(max_length=500)] = None,
    website: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    check_form(request, services.settings, "subscribe", csrf)
    limit_ip(request)
    company = get_company(session, slug)
    if company is None:
        raise HTTPException(404, f"no channel {slug!r}; see /channels for the list")
    context = {
        "email": email.strip(),
        "what": company.name,
        "slug": slug,
        "hours": services.settings.confirm_link_hours,
    }
    if website:  # the honeypot: a bot filled the hidden field; answer as usual, do nothing
        return render(request, "subscribe_sent.html", context)
    try:
        mail = start_subscription(services, session, email, [slug])
    except EvwireError as exc:  # a malformed address
        return render(request, "subscribe_error.html", {"message": str(exc), "slug": slug}, status_code=400)
    response = render(request, "subscribe_sent.html", context)
    response.background = BackgroundTask(send_mail, services.settings, mail)
    return response


@router.get("/confirm")
def confirm_page(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    token: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response:
    subscriber = link_subscriber(settings, session, "confirm", token)
    if subscriber.status == "pending":
        confirm(session, subscriber.id, now=utcnow())
    elif subscriber.status == "suspended":  # bounces or an operator; only an operator lifts it
        raise LinkRefused(
            400,
            "evwire stopped sending to this address (its mail bounced, or the site's operator "
            "suspended it); ask the operator to resume it",
            resubscribe_helps=False,
        )
    elif subscriber.status != "confirmed":  # unsubscribed since the link was sent
        raise LinkRefused(400, f"this address is {subscriber.status}; subscribe again from a channel page")
    context = {
        "email": subscriber.email,
        "following": [s.company.name for s in subscriber.subscriptions],
        "manage_url": link_url(settings, "manage", subscriber),
    }
    return render(request, "subscribe_confirmed.html", context)


@router.get("/alerts/confirm/{token}")
def confirm_link(request: Request, settings: SettingsDep, session: SessionDep, token: PathToken) -> Response:
    """The form the mails carry (``alerts.urls``): the token in the path."""
    return confirm_page(request, settings, session, token)


def install(app: FastAPI) -> None:
    """Routes, the channel page's box helper, the per-IP limiter and the refused-link page."""
    from evwire.web.api import subscriptions as api_subscriptions
    from evwire.web.routes import admin_outbox, manage

    app.state.subscribe_limiter = make_subscribe_limiter(app.state.settings)
    for module in (router, manage.router, admin_outbox.router):
        app.include_router(module)
    app.include_router(api_subscriptions.router, prefix="/api")
    app.state.templates.env.globals.update(subscribe_token=subscribe_token)

    @app.exception_handler(LinkRefused)
    async def link_refused(request: Request, exc: LinkRefused) -> Response:
        context = {"message": exc.message, "resubscribe_helps": exc.resubscribe_helps}
        return render(request, "subscribe_link_error.html", context, status_code=exc.status)
