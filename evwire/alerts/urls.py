"""The links in mails: confirm, manage and unsubscribe pages under ``EVWIRE_BASE_URL``.

``manage_add_url`` is the manage link with additions someone asked for pre-selected
(``?add=ford,byd&q=...``): the page shows them ticked; nothing is saved until the owner presses Save.

The web pages serve ``/alerts/confirm/{token}``, ``/alerts/manage/{token}`` and
``/alerts/unsubscribe/{token}`` (GET shows a confirm button, POST unsubscribes at once, RFC 8058).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import urlencode

from evwire.alerts.config import mail_from
from evwire.alerts.links import LinkSigner
from evwire.alerts.mail import URL_MAX
from evwire.settings import Settings

CONFIRM_PATH = "/alerts/confirm/"
MANAGE_PATH = "/alerts/manage/"
UNSUBSCRIBE_PATH = "/alerts/unsubscribe/"


@dataclass(frozen=True)
class SubscriberLinks:
    manage_url: str
    unsubscribe_url: str
    unsubscribe_mailto: str | None


class LinkMaker:
    """Signed links for one instance (base URL, key), made once and passed down."""

    def __init__(self, settings: Settings, signer: LinkSigner) -> None:
        self.base = settings.base_url.rstrip("/")
        self.signer = signer
        sender = parseaddr(mail_from(settings))[1]
        self.mailbox = sender if sender and sender.isascii() else None

    def confirm_url(self, subscriber_id: int, email: str) -> str:
        return self.base + CONFIRM_PATH + self.signer.make("confirm", subscriber_id, email)

    def for_subscriber(self, subscriber_id: int, email: str) -> SubscriberLinks:
        digest = self.signer.digest(email)
        manage = self.signer.make("manage", subscriber_id, email, digest)
        unsub = self.signer.make("unsubscribe", subscriber_id, email, digest)
        mailto = f"mailto:{self.mailbox}?subject=unsubscribe%20{unsub}" if self.mailbox else None
        return SubscriberLinks(self.base + MANAGE_PATH + manage, self.base + UNSUBSCRIBE_PATH + unsub, mailto)

    def manage_add_url(
        self, subscriber_id: int, email: str, slugs: Sequence[str], queries: Sequence[str] = ()
    ) -> str:
        """The manage link with ``slugs`` and keyword ``queries`` pre-selected. Additions that would
        make it longer than a mail link may be are left out (the mail names them all)."""
        url = self.base + MANAGE_PATH + self.signer.make("manage", subscriber_id, email)
        add: list[str] = []
        qs: list[str] = []

        def with_params(a: list[str], q: list[str]) -> str:
            params = ([("add", ",".join(a))] if a else []) + [("q", t) for t in q]
            return url + ("?" + urlencode(params) if params else "")

        for slug in slugs:
            if len(with_params([*add, slug], qs)) <= URL_MAX:
                add.append(slug)
        for text in queries:
            if len(with_params(add, [*qs, text])) <= URL_MAX:
                qs.append(text)
        return with_params(add, qs)
