"""Alert, digest and confirmation mails, built from plain values.

Everything an article or a subscriber supplies is untrusted: header values are stripped of
control characters (a title with CR/LF stays one line) and built by the ``email`` package; the
HTML part is escaped and then sanitised with nh3; links must be http(s) or mailto. Each mail has
``List-Unsubscribe`` (https and mailto) and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``
(RFC 8058). The Message-ID derives from the outbox (or digest) id and the instance host, so a
resend of the same row carries the same id.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy as email_policy
from email.headerregistry import Address, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import quote, urlsplit

import nh3
from email_validator import EmailNotValidError, validate_email

from evwire.errors import EvwireError

SUBJECT_MAX = 200
URL_MAX = 900
_ALLOWED_TAGS = {"html", "body", "div", "h1", "h2", "h3", "p", "ul", "li", "a", "hr", "small", "strong", "br"}


class AddressError(EvwireError):
    """An email address that cannot be used."""


class _ListHeader(UnstructuredHeader):
    """List-Unsubscribe and friends: URLs in angle brackets, folded only after commas, never encoded."""

    def fold(self, *, policy: email_policy.Policy) -> str:
        sep = "," + policy.linesep + " "
        name = self.name  # type: ignore[attr-defined]
        return f"{name}: " + sep.join(str(self).split(", ")) + policy.linesep


def _policy(utf8: bool) -> email_policy.EmailPolicy[EmailMessage]:
    registry = HeaderRegistry()
    for name in ("list-unsubscribe", "list-unsubscribe-post", "list-id", "list-help"):
        registry.map_to_type(name, _ListHeader)  # type: ignore[arg-type]
    return email_policy.SMTP.clone(header_factory=registry, utf8=utf8)


POLICY = _policy(utf8=False)
POLICY_UTF8 = _policy(utf8=True)  # for internationalised addresses (needs SMTPUTF8)


def clean_header(value: str, limit: int = SUBJECT_MAX) -> str:
    """One line of printable text: control and separator characters become spaces, runs collapse."""
    out = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in str(value))
    out = re.sub(r" {2,}", " ", out).strip()
    return out if len(out) <= limit else out[: limit - 1].rstrip() + "…"


def safe_url(url: str, schemes: tuple[str, ...] = ("https", "http")) -> str:
    """A URL safe in a header and an href: allowed scheme, no spaces or control characters."""
    url = str(url).strip()
    if not url or len(url) > URL_MAX:
        raise ValueError(f"link is empty or longer than {URL_MAX} characters")
    if urlsplit(url).scheme.lower() not in schemes:
        raise ValueError(f"link {url[:60]!r} must start with {' or '.join(s + ':' for s in schemes)}")
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~-._")


def validate_address(address: str) -> str:
    """Check an address's syntax (no DNS); return its normal form or raise AddressError."""
    try:
        return str(validate_email(address, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise AddressError(f"{clean_header(address, 80)!r} is not a usable email address: {exc}") from exc


def message_id(kind: str, ident: object, host: str) -> str:
    """``<alert.123@news.example.org>``: the same for every send of one outbox row."""
    host = re.sub(r"[^A-Za-z0-9.-]", "", host).strip(".-") or "evwire.invalid"
    ident = re.sub(r"[^A-Za-z0-9._-]", "-", str(ident))
    return f"<{kind}.{ident}@{host}>"


def why_line(channels: Sequence[str], queries: Sequence[str] = ()) -> str:
    """``you follow Xiaomi, Ford and the alert "solid-state"``."""
    parts = []
    if channels:
        parts.append(", ".join(channels))
    if queries:
        label = "the alert" if len(queries) == 1 else "the alerts"
        parts.append(f"{label} " + ", ".join(f'"{q}"' for q in queries))
    return "you follow " + " and ".join(parts) if parts else ""


@dataclass(frozen=True)
class Recipient:
    """Who a mail goes to and the instance values around it."""

    to: str  # the subscriber's address
    sender: str  # "evwire <alerts@news.example.org>"
    host: str  # instance host for Message-IDs
    manage_url: str
    unsubscribe_url: str  # https; GET shows a confirm button, POST unsubscribes at once (RFC 8058)
    unsubscribe_mailto: str | None = None  # "mailto:unsubscribe@host?subject=unsubscribe-TOKEN"
    site_name: str = "evwire"


@dataclass(frozen=True)
class ArticleItem:
    title: str
    url: str
    bullets: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()  # channel names, the ones the subscriber follows first
    source: str | None = None
    published: datetime | None = None


def _address(value: str) -> Address:
    name, addr = parseaddr(value)
    if not addr or "@" not in addr:
        raise AddressError(f"{clean_header(value, 80)!r} is not an address")
    local, _, domain = addr.rpartition("@")
    try:
        if not local.isascii():  # RFC 6531 mailbox: the email package's parser refuses it, so pass it split
            if not local or any(unicodedata.category(ch)[0] in "CZ" or ch in '"\\' for ch in local):
                raise ValueError("mailbox name has spaces, quotes or control characters")
            return Address(display_name=clean_header(name, 80), username=local, domain=domain)
        return Address(display_name=clean_header(name, 80), addr_spec=addr)
    except (ValueError, IndexError) as exc:
        raise AddressError(f"{clean_header(value, 80)!r} is not an address: {exc}") from exc


def _new_message(rcpt: Recipient, subject: str, mid: str, now: datetime | None) -> EmailMessage:
    sender, to = _address(rcpt.sender), _address(rcpt.to)
    utf8 = not (sender.addr_spec.isascii() and to.addr_spec.isascii())
    msg = EmailMessage(policy=POLICY_UTF8 if utf8 else POLICY)
    msg["Subject"] = clean_header(subject)
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    msg["Message-ID"] = mid
    msg["Auto-Submitted"] = "auto-generated"
    return msg


def _list_headers(msg: EmailMessage, rcpt: Recipient) -> None:
    links = [f"<{safe_url(rcpt.unsubscribe_url)}>"]
    if rcpt.unsubscribe_mailto:
        links.append(f"<{safe_url(rcpt.unsubscribe_mailto, ('mailto',))}>")
    msg["List-Unsubscribe"] = ", ".join(links)
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    host = re.sub(r"[^A-Za-z0-9.-]", "", rcpt.host) or "evwire.invalid"
    label = clean_header(rcpt.site_name, 60).encode("ascii", "ignore").decode() or "evwire"
    msg["List-Id"] = f"{label} alerts <alerts.{host}>"


def _set_body(msg: EmailMessage, text: str, body_html: str) -> None:
    msg.set_content(text, charset="utf-8", cte="quoted-printable")
    clean = nh3.clean(
        body_html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
    )
    page = f'<!doctype html>\n<html><head><meta charset="utf-8"></head><body>\n{clean}\n</body></html>\n'
    msg.add_alternative(page, subtype="html", charset="utf-8", cte="quoted-printable")


def _e(text: str) -> str:
    return html.escape(clean_header(text, 2000), quote=True)


def _link(url: str, label: str) -> str:
    return f'<a href="{html.escape(safe_url(url), quote=True)}">{_e(label)}</a>'


def _item_text(item: ArticleItem) -> list[str]:
    lines = [clean_header(item.title, 500)]
    lines += [f"- {clean_header(b, 1000)}" for b in item.bullets]
    if item.channels:
        lines.append("Channels: " + ", ".join(clean_header(c, 80) for c in item.channels))
    lines.append(safe_url(item.url))
    return lines


def _item_html(item: ArticleItem, level: str = "h1") -> str:
    parts = [f"<{level}>{_link(item.url, item.title)}</{level}>"]
    if item.bullets:
        parts.append("<ul>" + "".join(f"<li>{_e(b)}</li>" for b in item.bullets) + "</ul>")
    if item.channels:
        parts.append("<p><small>Channels: " + ", ".join(_e(c) for c in item.channels) + "</small></p>")
    return "\n".join(parts)


def _footer(rcpt: Recipient, why: str) -> tuple[list[str], str]:
    text = ["", "-- "]
    if why:
        text.append(f"You get this mail because {why}.")
    text += [
        f"Manage your alerts: {safe_url(rcpt.manage_url)}",
        f"Unsubscribe: {safe_url(rcpt.unsubscribe_url)}",
    ]
    why_html = f"<p><small>You get this mail because {_e(why)}.</small></p>" if why else ""
    manage, leave = _link(rcpt.manage_url, "Manage your alerts"), _link(rcpt.unsubscribe_url, "Unsubscribe")
    links = f"<p><small>{manage} · {leave}</small></p>"
    return text, f"<hr>{why_html}{links}"


def build_alert(
    item: ArticleItem,
    rcpt: Recipient,
    outbox_id: object,
    why: str = "",
    now: datetime | None = None,
) -> EmailMessage:
    """One article to one subscriber; ``why`` from ``why_line`` ("you follow Xiaomi, Ford")."""
    msg = _new_message(rcpt, item.title, message_id("alert", outbox_id, rcpt.host), now)
    _list_headers(msg, rcpt)
    foot_text, foot_html = _footer(rcpt, why)
    _set_body(msg, "\n".join(_item_text(item) + foot_text) + "\n", _item_html(item) + foot_html)
    return msg


def build_digest(
    items: Sequence[ArticleItem],
    rcpt: Recipient,
    digest_id: object,
    period: str = "daily",
    why: str = "",
    now: datetime | None = None,
) -> EmailMessage:
    """Articles grouped by channel, each once (under its first channel); refuses an empty digest."""
    if not items:
        raise ValueError("an empty digest is not sent")
    sections: dict[str, list[ArticleItem]] = {}
    seen: set[tuple[str, str]] = set()
    for item in items:
        if (item.url, item.title) in seen:
            continue
        seen.add((item.url, item.title))
        sections.setdefault(item.channels[0] if item.channels else "Other news", []).append(item)
    n = len(seen)
    site = clean_header(rcpt.site_name, 60)
    subject = f"Your {period} {site} digest: {n} article{'s' if n != 1 else ''}"
    msg = _new_message(rcpt, subject, message_id("digest", digest_id, rcpt.host), now)
    _list_headers(msg, rcpt)
    text: list[str] = [subject, ""]
    parts: list[str] = [f"<h1>{_e(subject)}</h1>"]
    for channel, group in sections.items():
        text += [clean_header(channel, 80), "=" * min(len(clean_header(channel, 80)), 80), ""]
        parts.append(f"<h2>{_e(channel)}</h2>")
        for item in group:
            text += [*_item_text(item), ""]
            parts.append(_item_html(item, "h3"))
    foot_text, foot_html = _footer(rcpt, why)
    _set_body(msg, "\n".join(text + foot_text) + "\n", "\n".join(parts) + foot_html)
    return msg


def build_confirmation(
    to: str,
    sender: str,
    host: str,
    confirm_url: str,
    following: Sequence[str],
    request_id: object,
    site_name: str = "evwire",
    now: datetime | None = None,
) -> EmailMessage:
    """The double opt-in mail: one signed link; nothing is sent to the address until it is followed."""
    rcpt = Recipient(to=to, sender=sender, host=host, manage_url=confirm_url, unsubscribe_url=confirm_url)
    site = clean_header(site_name, 60)
    msg = _new_message(rcpt, f"Confirm your {site} alerts", message_id("confirm", request_id, host), now)
    what = ", ".join(clean_header(f, 120) for f in following) or "news alerts"
    text = (
        f"Someone, probably you, asked for {site} alerts for: {what}.\n\n"
        f"To confirm, open this link:\n{safe_url(confirm_url)}\n\n"
        "If it was not you, ignore this mail: nothing more will be sent.\n"
    )
    body = (
        f"<p>Someone, probably you, asked for {_e(site)} alerts for: <strong>{_e(what)}</strong>.</p>"
        f"<p>{_link(confirm_url, 'Confirm my alerts')}</p>"
        "<p><small>If it was not you, ignore this mail: nothing more will be sent.</small></p>"
    )
    _set_body(msg, text, body)
    return msg


def build_addition(
    to: str,
    sender: str,
    host: str,
    manage_url: str,
    channels: Sequence[str],
    queries: Sequence[str],
    request_id: object,
    site_name: str = "evwire",
    now: datetime | None = None,
) -> EmailMessage:
    """A confirmed address was asked, by whoever typed it into a public form, to follow more.

    Nothing was changed: the signed manage link shows the additions ticked, and only the owner's
    Save adds them (ADR 0011)."""
    rcpt = Recipient(to=to, sender=sender, host=host, manage_url=manage_url, unsubscribe_url=manage_url)
    site = clean_header(site_name, 60)
    msg = _new_message(rcpt, f"Add to your {site} alerts?", message_id("add", request_id, host), now)
    parts = [clean_header(c, 120) for c in channels]
    parts += [f'the keyword alert "{clean_header(q, 200)}"' for q in queries]
    what = ", ".join(parts) or "news alerts"
    text = (
        f"Someone, probably you, asked to add to your {site} alerts: {what}.\n\n"
        "Your alerts have not changed. To add them, open this link, check the selection and press Save:\n"
        f"{safe_url(manage_url)}\n\n"
        "If it was not you, ignore this mail: nothing changes.\n"
    )
    body = (
        f"<p>Someone, probably you, asked to add to your {_e(site)} alerts: <strong>{_e(what)}</strong>.</p>"
        "<p>Your alerts have not changed. To add them, open the link, check the selection and press Save.</p>"
        f"<p>{_link(manage_url, 'Review and add')}</p>"
        "<p><small>If it was not you, ignore this mail: nothing changes.</small></p>"
    )
    _set_body(msg, text, body)
    return msg
