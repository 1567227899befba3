"""Reading the opaque ``before`` cursor of list pages."""

from __future__ import annotations

from fastapi import HTTPException

from evwire.store.queries import Cursor, decode_cursor


def parse_cursor(token: str | None) -> Cursor | None:
    if not token:
        return None
    try:
        return decode_cursor(token)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
