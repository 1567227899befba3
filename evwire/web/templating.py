"""The Jinja2 environment: autoescaping on, filters for dates, paragraphs and untrusted URLs."""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from evwire.store.queries import encode_cursor

TEMPLATES_DIR = Path(str(resources.files("evwire.web") / "templates"))
STATIC_DIR = Path(str(resources.files("evwire.web") / "static"))


def safe_url(value: str | None) -> str | None:
    """An article-supplied URL, only if it is plain http(s); anything else (javascript:, data:) is dropped."""
    if not value:
        return None
    value = value.strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return value
    return None


def paragraphs(text: str | None) -> list[str]:
    """Body text to paragraphs: blank lines separate them; each is escaped by the template."""
    if not text:
        return []
    blocks = [" ".join(b.split()) for b in text.replace("\r\n", "\n").split("\n\n")]
    return [b for b in blocks if b]


def human_date(value: datetime | None) -> str:
    return value.strftime("%b %-d, %Y") if value else ""


def iso_date(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.autoescape = True
    # Templates ship inside the package: no stat() of every template file on every render.
    env.auto_reload = False
    env.filters.update(
        safe_url=safe_url,
        paragraphs=paragraphs,
        human_date=human_date,
        iso_date=iso_date,
        cursor=lambda c: encode_cursor(c) if c else None,
    )
    return templates


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict | None = None,
) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, context, status_code=status_code, headers=headers)
