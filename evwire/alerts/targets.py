"""Apprise targets (Telegram, Slack, Discord, ntfy, a JSON webhook, ...) with SMTP's result classes."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from evwire.alerts.outcome import Outcome, SendResult

_HTTP_CODE_RE = re.compile(r"error=(\d{3})|\b(?:HTTP|status|code)[^\d]{0,12}(\d{3})\b", re.IGNORECASE)


class ApprisePoster:
    """Posts to Apprise URLs (json:// webhook, tgram://, slack://, discord://, ntfy://, ...).

    Apprise reports success as a bool and the reason in its log; the log is read for an HTTP
    status: 4xx (but 408 and 429) is ``permanent``, anything else failed is ``temporary``, an
    unusable URL is ``permanent``. Posts run one at a time (Apprise's log is process-wide).
    Subscriber-supplied URLs must pass the address guard before they get here.
    """

    def __init__(self, schemes: Iterable[str] | None = None) -> None:
        self.schemes = {s.lower() for s in schemes} if schemes is not None else None
        self._lock = asyncio.Lock()

    async def post(self, url: str, title: str, body: str) -> SendResult:
        import apprise

        scheme = urlsplit(url).scheme.lower()
        if self.schemes is not None and scheme not in self.schemes:
            return SendResult(Outcome.PERMANENT, None, f"target scheme {scheme}:// is not allowed here")
        app = apprise.Apprise()
        if not app.add(url):
            return SendResult(Outcome.PERMANENT, None, f"not a usable Apprise URL ({scheme}://...)")
        async with self._lock:
            with apprise.LogCapture(level=logging.INFO) as logs:
                ok = await asyncio.to_thread(app.notify, body=body, title=title)
            text = logs.getvalue()
        if ok:
            return SendResult(Outcome.ACCEPTED, None, f"posted to {scheme}://")
        m = _HTTP_CODE_RE.search(text)
        code = int(m.group(1) or m.group(2)) if m else None
        last = text.strip().splitlines()[-1][-200:] if text.strip() else "no detail"
        if code is not None and 400 <= code < 500 and code not in (408, 429):
            return SendResult(Outcome.PERMANENT, code, last)
        return SendResult(Outcome.TEMPORARY, code, last)
