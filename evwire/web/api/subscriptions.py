"""POST /api/subscriptions: ask for alerts by JSON; double opt-in like the channel page's box.

The answer is 202 with the same body whether the address was new, pending or already subscribed,
and whether or not a confirmation mail went out. An already confirmed address is not changed: its
owner is mailed a manage link with the requested channels and queries pre-selected. A JSON body
cannot be sent cross-site without a CORS preflight (which this app does not grant), so no CSRF
token is needed here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask
from starlette.responses import JSONResponse

from evwire.web.api.models import ErrorOut
from evwire.web.deps import ServicesDep, SessionDep
from evwire.web.routes.subscribe import limit_ip, send_mail, start_subscription

router = APIRouter(tags=["subscriptions"])
ERRORS: dict[int | str, dict[str, Any]] = {400: {"model": ErrorOut}, 429: {"model": ErrorOut}}
ACCEPTED = (
    "if the address can receive mail, a confirmation link was sent to it; "
    "nothing is sent until the link is opened"
)


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: str = Field(min_length=3, max_length=320)
    channels: list[Annotated[str, Field(max_length=80)]] = Field(default_factory=list, max_length=100)
    queries: list[Annotated[str, Field(max_length=1000)]] = Field(default_factory=list, max_length=50)
    digest: Literal["immediate", "daily", "weekly"] | None = None


class SubscriptionAcceptedOut(BaseModel):
    status: Literal["pending"] = "pending"
    detail: str = ACCEPTED


@router.post(
    "/subscriptions",
    status_code=202,
    response_model=SubscriptionAcceptedOut,
    responses=ERRORS,
    dependencies=[Depends(limit_ip)],
)
def create_subscription(item: SubscriptionIn, services: ServicesDep, session: SessionDep) -> JSONResponse:
    """Ask for alerts on channels (slugs) and keyword queries; a confirmation mail follows.

    400 for a malformed address, an unknown channel or a bad query (with its position); 429 when
    one client sends too many requests. The answer does not say whether the address was known."""
    mail = start_subscription(
        services, session, item.email, item.channels, queries=item.queries, digest=item.digest
    )
    return JSONResponse(
        SubscriptionAcceptedOut().model_dump(),
        status_code=202,
        background=BackgroundTask(send_mail, services.settings, mail),
    )
