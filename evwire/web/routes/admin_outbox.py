"""Admin outbox page: counts by status, the latest rows (attempts, last error, next attempt), and the
.eml files the default transport wrote (listed, and shown as plain text).

Behind the admin login of ``routes/admin.py``. A mail file is served only by a name that matches
what ``EmlTransport`` writes, resolved inside the folder, as ``text/plain`` with control characters
removed and a sandboxing CSP: a hostile mail cannot run anything in the admin's browser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from evwire.alerts.config import eml_folder
from evwire.alerts.mail import clean_header
from evwire.store.outbox import list_outbox, outbox_counts
from evwire.web.deps import SessionDep, SettingsDep
from evwire.web.routes.admin import AdminSession
from evwire.web.templating import render

router = APIRouter(include_in_schema=False)
EML_NAME = re.compile(r"^[A-Za-z0-9@._-]{1,250}\.eml$")
EML_LIST_MAX = 200
EML_VIEW_MAX = 2_000_000
ROWS_MAX = 100
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class EmlFile:
    name: str
    subject: str
    to: str
    written: datetime
    size: int


def _eml_header(path: Path) -> tuple[str, str]:
    try:
        with path.open("rb") as fh:
            head = fh.read(32_000).split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        msg = BytesHeaderParser(policy=policy.default).parsebytes(head)
        return clean_header(str(msg.get("Subject", "")), 200), clean_header(str(msg.get("To", "")), 200)
    except (OSError, ValueError, TypeError, IndexError):
        return "(unreadable)", ""


def list_eml(folder: Path) -> tuple[list[EmlFile], int]:
    """The newest .eml files first (at most EML_LIST_MAX) and how many more there are."""
    if not folder.is_dir():
        return [], 0
    found = []
    for path in folder.iterdir():
        if EML_NAME.match(path.name) and path.is_file():
            try:
                stat = path.stat()
            except OSError:
                continue
            found.append((stat.st_mtime, stat.st_size, path))
    found.sort(reverse=True)
    files = []
    for mtime, size, path in found[:EML_LIST_MAX]:
        subject, to = _eml_header(path)
        files.append(EmlFile(path.name, subject, to, datetime.fromtimestamp(mtime, UTC), size))
    return files, max(0, len(found) - EML_LIST_MAX)


@router.get("/admin/outbox")
def outbox_page(
    request: Request, admin: AdminSession, settings: SettingsDep, session: SessionDep
) -> Response:
    if admin is None:
        return RedirectResponse("/admin/login", status_code=303)
    folder = eml_folder(settings)
    files, more = list_eml(folder)
    context = {
        "counts": outbox_counts(session),
        "rows": list_outbox(session, limit=ROWS_MAX),
        "eml_folder": str(folder),
        "eml_files": files,
        "eml_more": more,
        "smtp": settings.smtp_url is not None,
        "csrf": admin["csrf"],
    }
    return render(request, "admin_outbox.html", context)


@router.get("/admin/outbox/eml/{name}")
def eml_file(admin: AdminSession, settings: SettingsDep, name: str) -> Response:
    if admin is None:
        raise HTTPException(401, "log in at /admin/login with the admin token")
    folder = eml_folder(settings).resolve()
    if not EML_NAME.match(name):
        raise HTTPException(404, "no such mail file")
    path = (folder / name).resolve()
    if path.parent != folder or not path.is_file():
        raise HTTPException(404, "no such mail file")
    with path.open("rb") as fh:
        data = fh.read(EML_VIEW_MAX + 1)
    text = _CONTROL.sub("\ufffd", data[:EML_VIEW_MAX].decode("utf-8", errors="replace"))
    if len(data) > EML_VIEW_MAX:
        text += f"\n[cut at {EML_VIEW_MAX} bytes]\n"
    headers = {"Content-Security-Policy": "sandbox; default-src 'none'", "Content-Disposition": "inline"}
    return PlainTextResponse(text, headers=headers)
