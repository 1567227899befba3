"""The links in mails: confirm, manage and unsubscribe pages under ``EVWIRE_BASE_URL``.

The web pages serve ``/alerts/confirm/{token}``, ``/alerts/manage/{token}`` and
``/alerts/unsubscribe/{token}`` (GET shows a confirm button, POST unsubscribes at once, RFC 8058).
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr

from evwire.alerts.config import mail_from
from evwire.alerts.links import LinkSigner
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
        manage = self.signer.make("manage", subscriber_id, email)
        unsub = self.signer.make("unsubscribe", subscriber_id, email)
        mailto = f"mailto:{self.mailbox}?subject=unsubscribe%20{unsub}" if self.mailbox else None
        return SubscriberLinks(self.base + MANAGE_PATH + manage, self.base + UNSUBSCRIBE_PATH + unsub, mailto)
