"""Edge cases of the subscribe, confirm, manage and unsubscribe pages a reader can hit."""

from __future__ import annotations

import re

import sqlalchemy as sa
from fastapi.testclient import TestClient
from lxml import etree

from evwire.pipeline import utcnow
from evwire.settings import Settings
from evwire.store.subscriptions import confirm
from evwire.store.tables import OutboxRow
from evwire.web.app import create_app
from tests.web.conftest import ADMIN, sample_payload
from tests.web.test_subscribe import link_in, mails, subscribe_form, subscriber, token_for


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


def test_a_double_submitted_target_posts_each_alert_once(client: TestClient, settings: Settings) -> None:
    """A double click (or a reload that re-posts the form) on "add target" must not store the same
    URL twice: each alert would then be posted twice to the same chat."""
    assert subscribe_form(client, "owner@example.org").status_code == 200
    sid = subscriber(client, "owner@example.org").id
    with client.app.state.services.db.session() as session:  # type: ignore[attr-defined]
        confirm(session, sid, now=utcnow())
    manage = f"/manage?token={token_for(settings, 'manage', sid, 'owner@example.org')}"
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get(manage).text).group(1)  # type: ignore[union-attr]
    form = {"csrf": csrf, "action": "add_target", "target_url": "tgram://123:ABC/456"}
    first, second = client.post(manage, data=form), client.post(manage, data=form)
    assert first.status_code == second.status_code == 200
    assert second.text.count('name="target_id"') == 1
    assert client.post("/api/articles", json=sample_payload(), headers=ADMIN).status_code == 201
    with client.app.state.services.db.session() as session:  # type: ignore[attr-defined]
        targets = session.scalars(sa.select(OutboxRow.target_id).where(OutboxRow.target_id.is_not(None)))
        assert len(list(targets)) == 1


def test_feeds_survive_a_title_with_characters_xml_cannot_carry(client: TestClient) -> None:
    """U+FFFE and U+FFFF are valid in JSON, text and HTML but not in XML 1.0: one such title must not
    turn a channel's RSS and Atom feeds into 500s for every reader."""
    payload = {**sample_payload(), "title": "Xiaomi and Ford \ufffe explore a \uffff joint venture"}
    assert client.post("/api/articles", json=payload, headers=ADMIN).status_code == 201
    for kind in ("rss", "atom"):
        feed = client.get(f"/channels/xiaomi/feed.{kind}")
        assert feed.status_code == 200, kind
        root = etree.fromstring(feed.content)
        assert "Xiaomi and Ford  explore a  joint venture" in etree.tostring(root, encoding="unicode")


def test_admin_forms_refuse_non_ascii_csrf_values_with_4xx(settings: Settings) -> None:
    """``secrets.compare_digest`` raises TypeError for a str that is not ASCII: a login form sent
    with such a cookie (no login needed) or a logout with such a token must be refused, not a 500."""
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/admin/login").text).group(1)  # type: ignore[union-attr]
        cookie = {"cookie": "evwire_login_csrf=\xe9t\xe9".encode("latin-1")}
        assert c.post("/admin/login", data={"token": "x", "csrf": csrf}, headers=cookie).status_code == 400
        csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/admin/login").text).group(1)  # type: ignore[union-attr]
        login = {"token": ADMIN["Authorization"].removeprefix("Bearer "), "csrf": csrf}
        assert c.post("/admin/login", data=login, follow_redirects=False).status_code == 303
        assert c.post("/admin/logout", data={"csrf": "\xe9t\xe9"}).status_code == 403
