"""Edge cases of the subscribe, confirm, manage and unsubscribe pages a reader can hit."""

from __future__ import annotations

from fastapi.testclient import TestClient

from evwire.settings import Settings
from tests.web.test_subscribe import link_in, mails, subscribe_form, subscriber


def test_subscribe_with_an_internationalised_mailbox_name(client: TestClient, settings: Settings) -> None:
    """The address validator accepts a non-ASCII mailbox name (RFC 6531): the box must answer as for
    any address and mail the confirmation, not 400 "not an address" after storing it."""
    r = subscribe_form(client, "José@Example.org")
    assert r.status_code == 200 and "Check your inbox" in r.text, r.text[-400:]
    (mail,) = mails(settings)
    assert mail["To"] == "josé@example.org"
    assert client.get(link_in(mail, "confirm")).status_code == 200
    view = subscriber(client, "josé@example.org")
    assert view is not None and view.status == "confirmed"
