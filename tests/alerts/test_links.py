"""Signed links: bound to purpose, subscriber and address; expire; forgeries refused."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from evwire.alerts.config import make_signer
from evwire.alerts.links import LinkExpired, LinkInvalid, LinkSigner
from evwire.settings import Settings

KEY = "test-signing-key-0123456789"


def test_links_round_trip() -> None:
    signer = LinkSigner(KEY)
    token = signer.make("unsubscribe", 7, "reader@example.com")
    signer.verify("unsubscribe", token, 7, "reader@example.com")
    signer.verify("unsubscribe", token, 7, "reader@EXAMPLE.com")  # the domain is case-insensitive
    claim = signer.read("unsubscribe", token)
    assert claim.subscriber_id == 7 and "reader" not in token
    signer.check_address(claim, "reader@example.com")


def test_links_refuse_other_address_subscriber_or_purpose() -> None:
    signer = LinkSigner(KEY)
    token = signer.make("manage", 7, "reader@example.com")
    with pytest.raises(LinkInvalid, match="another address"):
        signer.verify("manage", token, 7, "someone.else@example.com")
    with pytest.raises(LinkInvalid):
        signer.verify("manage", token, 8, "reader@example.com")
    with pytest.raises(LinkInvalid, match="not valid"):
        signer.verify("unsubscribe", token, 7, "reader@example.com")


def test_links_refuse_forgeries() -> None:
    signer = LinkSigner(KEY)
    token = signer.make("confirm", 7, "reader@example.com")
    other = LinkSigner("another-instance-key-000")
    for bad in (
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "garbage",
        "",
        other.make("confirm", 7, "reader@example.com"),
    ):
        with pytest.raises(LinkInvalid):
            signer.read("confirm", bad)


def test_links_expire() -> None:
    signer = LinkSigner(KEY, max_age={"confirm": timedelta(hours=48)})
    token = signer.make("confirm", 7, "reader@example.com")
    signer.verify("confirm", token, 7, "reader@example.com", now=time.time() + 47 * 3600)
    with pytest.raises(LinkExpired, match=r"expired \(links are valid 2 days\)"):
        signer.verify("confirm", token, 7, "reader@example.com", now=time.time() + 49 * 3600)


def test_links_old_key_still_accepted_after_rotation() -> None:
    token = LinkSigner("old-key-0123456789").make("manage", 7, "reader@example.com")
    LinkSigner(["new-key-0123456789", "old-key-0123456789"]).verify("manage", token, 7, "reader@example.com")


def test_links_signer_from_settings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, secret_key="settings-secret-key-123", confirm_link_hours=1)
    signer = make_signer(settings)
    token = signer.make("confirm", 1, "a@example.com")
    with pytest.raises(LinkExpired, match=r"valid 1 hour\)"):
        signer.read("confirm", token, now=time.time() + 2 * 3600)
    manage = signer.make("manage", 1, "a@example.com")
    with pytest.raises(LinkExpired, match=r"valid 365 days\)"):
        signer.read("manage", manage, now=time.time() + 366 * 86400)
