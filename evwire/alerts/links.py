"""Signed, expiring links for subscribers: confirm, manage, unsubscribe.

A token carries the subscriber id and a digest of the address it was made for, signed with the
instance key and a salt per purpose (itsdangerous). It cannot be used for another purpose, and
``verify`` refuses it for another address: a link mailed before an address change, or made for
someone else, does not work. The address itself is not in the token (links end up in logs).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from evwire.errors import EvwireError

Purpose = Literal["confirm", "manage", "unsubscribe"]
PURPOSES: tuple[Purpose, ...] = ("confirm", "manage", "unsubscribe")


class LinkError(EvwireError):
    """A link that cannot be used; the message says why and what to do."""


class LinkExpired(LinkError):
    pass


class LinkInvalid(LinkError):
    pass


def normalize_address(address: str) -> str:
    """The form an address is compared in: trimmed, domain lower-cased."""
    local, _, domain = address.strip().rpartition("@")
    return f"{local}@{domain.lower()}" if local else address.strip().lower()


def address_digest(address: str, key: str) -> str:
    return hmac.new(key.encode(), normalize_address(address).encode(), hashlib.sha256).hexdigest()[:24]


@dataclass(frozen=True)
class LinkClaim:
    """What a valid token says: the subscriber, and a digest of the address it was made for."""

    purpose: Purpose
    subscriber_id: int
    address_digest: str


class LinkSigner:
    """Makes and checks tokens. ``keys``: the current key first, then older ones still accepted."""

    def __init__(self, keys: str | Sequence[str], max_age: dict[Purpose, timedelta] | None = None) -> None:
        self._keys = [keys] if isinstance(keys, str) else list(keys)
        if not self._keys or not all(self._keys):
            raise ValueError("LinkSigner needs a non-empty signing key")
        self.max_age: dict[Purpose, timedelta] = {
            "confirm": timedelta(days=2),
            "manage": timedelta(days=365),
            "unsubscribe": timedelta(days=365),
            **(max_age or {}),
        }
        # built once: a fan-out signs two links per mail, and a serializer costs more to make than to use
        self._serializers = {p: URLSafeTimedSerializer(self._keys, salt=f"evwire.link.{p}") for p in PURPOSES}

    def _serializer(self, purpose: Purpose) -> URLSafeTimedSerializer:
        if purpose not in PURPOSES:
            raise ValueError(f"unknown link purpose {purpose!r}")
        return self._serializers[purpose]

    def make(self, purpose: Purpose, subscriber_id: int, address: str, digest: str | None = None) -> str:
        """``digest``: ``address_digest(address, current key)`` when the caller has it already."""
        payload = [int(subscriber_id), digest or address_digest(address, self._keys[0])]
        return str(self._serializer(purpose).dumps(payload))

    def digest(self, address: str) -> str:
        """The address digest links made now carry (for callers making several links per address)."""
        return address_digest(address, self._keys[0])

    def read(self, purpose: Purpose, token: str, now: float | None = None) -> LinkClaim:
        """Check signature, purpose and age; raise LinkExpired / LinkInvalid.

        ``now`` (seconds since the epoch) is for tests; by default the clock.
        """
        serializer = self._serializer(purpose)
        max_age = int(self.max_age[purpose].total_seconds())
        try:
            if now is None:
                payload = serializer.loads(token, max_age=max_age)
            else:
                payload, signed_at = serializer.loads(token, return_timestamp=True)
                if now - signed_at.timestamp() > max_age:
                    raise SignatureExpired("expired", payload=payload, date_signed=signed_at)
        except SignatureExpired as exc:
            raise LinkExpired(
                f"this {purpose} link has expired (links are valid {_span(self.max_age[purpose])}); "
                "ask for a new one"
            ) from exc
        except BadSignature as exc:
            raise LinkInvalid(
                f"this {purpose} link is not valid: it was altered or made for something else"
            ) from exc
        if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], int)):
            raise LinkInvalid(f"this {purpose} link is not valid")
        return LinkClaim(purpose, payload[0], str(payload[1]))

    def verify(
        self, purpose: Purpose, token: str, subscriber_id: int, address: str, now: float | None = None
    ) -> None:
        """Raise LinkError unless ``token`` is a live ``purpose`` link for this subscriber and address."""
        claim = self.read(purpose, token, now)
        digests = {address_digest(address, k) for k in self._keys}
        if claim.subscriber_id != subscriber_id or claim.address_digest not in digests:
            raise LinkInvalid(f"this {purpose} link was made for another address; ask for a new one")

    def check_address(self, claim: LinkClaim, address: str) -> None:
        """For callers that looked the subscriber up by ``claim.subscriber_id``."""
        if claim.address_digest not in {address_digest(address, k) for k in self._keys}:
            raise LinkInvalid(f"this {claim.purpose} link was made for another address; ask for a new one")


def _span(age: timedelta) -> str:
    """'365 days', '1 day', '48 hours', '1 hour': how long a link lasts, in words."""
    if age >= timedelta(days=2) or age == timedelta(days=1):
        days = age.days
        return f"{days} day" + ("s" if days != 1 else "")
    hours = max(1, round(age.total_seconds() / 3600))
    return f"{hours} hour" + ("s" if hours != 1 else "")
