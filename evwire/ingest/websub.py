"""WebSub (PubSubHubbub 0.4), the pure parts: what to send a hub, and how to check what comes back.

The poller/web layer does the I/O: POST ``subscribe_form(...)`` to the hub; answer the hub's
verification GET on the callback with ``verify_challenge(...)``; check each pushed body with
``check_signature(...)`` before parsing it; renew at ``renewal_time(...)``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_LEASE = 10 * 24 * 3600  # ten days, a common hub default
_ALGORITHMS = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}


@dataclass(frozen=True)
class Subscription:
    hub: str
    topic: str  # the feed URL as the hub knows it (the feed's rel=self)
    callback: str  # our URL the hub calls; unguessable per feed
    secret: str  # HMAC key for pushed content; 1..199 bytes per the spec
    mode: str = "subscribe"  # subscribe | unsubscribe
    lease_seconds: int | None = DEFAULT_LEASE


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def subscribe_form(sub: Subscription) -> dict[str, str]:
    """Form fields to POST (application/x-www-form-urlencoded) to the hub."""
    if sub.mode not in ("subscribe", "unsubscribe"):
        raise ValueError("mode is subscribe or unsubscribe")
    if not 0 < len(sub.secret.encode()) < 200:
        raise ValueError("a WebSub secret is 1 to 199 bytes")
    form = {"hub.mode": sub.mode, "hub.topic": sub.topic, "hub.callback": sub.callback}
    if sub.mode == "subscribe":
        form["hub.secret"] = sub.secret
        if sub.lease_seconds:
            form["hub.lease_seconds"] = str(int(sub.lease_seconds))
    return form


@dataclass(frozen=True)
class Verification:
    ok: bool
    body: str  # what the callback answers: the challenge when ok, else a reason
    status: int  # 200 when ok, 404 when not (the spec's "not confirmed")
    lease_seconds: int | None = None


def verify_challenge(params: Mapping[str, str], expected: Subscription | None) -> Verification:
    """Answer a hub's verification GET: echo the challenge only for what we asked for."""
    if expected is None:
        return Verification(False, "no such subscription", 404)
    mode = params.get("hub.mode", "")
    if mode == "denied":
        reason = params.get("hub.reason") or "no reason given"
        return Verification(False, f"the hub denied the subscription: {reason}", 200)
    topic, challenge = params.get("hub.topic", ""), params.get("hub.challenge", "")
    if mode != expected.mode:
        return Verification(False, f"unexpected hub.mode {mode!r} (we asked to {expected.mode})", 404)
    if topic != expected.topic:
        return Verification(False, f"hub.topic {topic!r} is not the topic we asked for", 404)
    if not challenge:
        return Verification(False, "the hub sent no hub.challenge", 404)
    lease = params.get("hub.lease_seconds")
    lease_seconds = int(lease) if lease and lease.isdigit() else None
    if mode == "subscribe" and lease_seconds is None:
        return Verification(False, "a subscribe verification must carry hub.lease_seconds", 404)
    return Verification(True, challenge, 200, lease_seconds)


_SIG = re.compile(r"^\s*(sha1|sha256|sha384|sha512)=([0-9a-fA-F]+)\s*$")


def check_signature(header: str | None, body: bytes, secret: str) -> bool:
    """True when ``X-Hub-Signature: method=hexdigest`` is the HMAC of the body with our secret.

    Constant-time comparison. A missing or malformed header, or an unknown method, is False: the
    spec says to acknowledge such a push (2xx) but ignore its content.
    """
    if not header:
        return False
    m = _SIG.match(header)
    if not m:
        return False
    digest = hmac.new(secret.encode("utf-8"), body, _ALGORITHMS[m.group(1)]).hexdigest()
    return hmac.compare_digest(digest, m.group(2).lower())


def sign(body: bytes, secret: str, method: str = "sha256") -> str:
    """The header value a hub would send (tests and a local hub use it)."""
    return f"{method}={hmac.new(secret.encode('utf-8'), body, _ALGORITHMS[method]).hexdigest()}"


def renewal_time(verified_at: datetime, lease_seconds: int | None) -> datetime:
    """When to re-subscribe: 80% into the lease, and at least an hour before it ends."""
    lease = timedelta(seconds=lease_seconds or DEFAULT_LEASE)
    return verified_at + max(timedelta(0), min(lease * 0.8, lease - timedelta(hours=1)))


def lease_end(verified_at: datetime, lease_seconds: int | None) -> datetime:
    return verified_at + timedelta(seconds=lease_seconds or DEFAULT_LEASE)


_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")


def links_from_header(link_header: str | None) -> tuple[list[str], str | None]:
    """(hub URLs, self URL) from an HTTP ``Link`` header, the other place hubs are advertised."""
    hubs: list[str] = []
    self_url: str | None = None
    for m in _LINK.finditer(link_header or ""):
        rels = re.search(r'rel\s*=\s*"?([^";]+)"?', m.group(2) or "", re.I)
        names = rels.group(1).lower().split() if rels else []
        if "hub" in names:
            hubs.append(m.group(1).strip())
        if "self" in names and self_url is None:
            self_url = m.group(1).strip()
    return hubs, self_url
