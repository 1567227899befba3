"""Typed dependencies for routes: the app's Services, a session per request (one transaction), admin auth."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from evwire.pipeline import Services
from evwire.settings import Settings
from evwire.web.counts import Counts


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_settings(services: ServicesDep) -> Settings:
    return services.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def get_session(request: Request, services: ServicesDep) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent (scope="function").
    After a committed write the app's cached channel counts are dropped."""
    with services.db.session() as session:
        # template helpers (chart panels) reuse it: a page holds one pooled connection, not two
        request.state.db_session = session
        try:
            yield session
        finally:
            request.state.db_session = None
    if request.method in WRITE_METHODS:
        request.app.state.counts.invalidate()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_counts(request: Request, session: SessionDep) -> Counts:
    """Every channel's (about, mentioned) counts, at most CountCache.ttl seconds old."""
    return request.app.state.counts.get(session)


CountsDep = Annotated[Counts, Depends(get_counts)]

_bearer = HTTPBearer(auto_error=False, description="EVWIRE_ADMIN_TOKEN")


def require_admin(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """401 without a bearer token, 403 with a wrong one; closed (403) when no admin token is configured."""
    if credentials is None or not credentials.credentials:
        raise HTTPException(
            401,
            "admin token required: send 'Authorization: Bearer <EVWIRE_ADMIN_TOKEN>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if settings.admin_token is None:
        raise HTTPException(403, "the admin API is closed: set EVWIRE_ADMIN_TOKEN to open it")
    expected = settings.admin_token.get_secret_value().encode()
    if not secrets.compare_digest(credentials.credentials.encode(), expected):
        raise HTTPException(403, "wrong admin token")


AdminDep = Annotated[None, Depends(require_admin)]
