"""Subscribing from a channel page and the API, confirming, managing and unsubscribing, on SQLite
and PostgreSQL, with the confirmation mails read from the .eml folder the default transport writes."""

from __future__ import annotations

import email
import re
import time
from email import policy
from email.message import EmailMessage
from pathlib import Path

import itsdangerous.timed
from fastapi.testclient import TestClient

from evwire.alerts.config import eml_folder, make_signer
from evwire.pipeline import utcnow
from evwire.settings import Settings
from evwire.store.subscriber_views import subscriber_view
from evwire.store.subscriptions import get_subscriber_by_email
from evwire.web.ratelimit import RateLimiter, Rule
from tests.web.conftest import ADMIN, sample_payload

BOX_TITLE = "Xiaomi News Alert"
BOX_TEXT = "Subscribe to receive email notifications immediately when new articles about Xiaomi are published"


def box_csrf(client: TestClient, slug: str = "xiaomi") -> str:
    page = client.get(f"/channels/{slug}")
    assert page.status_code == 200
    form = page.text.split('class="subscribe"', 1)[1]
    match = re.search(r'name="csrf" value="([^"]+)"', form)
    assert match, form
    return match.group(1)


def subscribe_form(client: TestClient, address: str, slug: str = "xiaomi", **extra: str):
    data = {"email": address, "csrf": box_csrf(client, slug), "website": "", **extra}
    return client.post(f"/channels/{slug}/subscribe", data=data)


def mails(settings: Settings) -> list[EmailMessage]:
    folder = eml_folder(settings)
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns) if folder.is_dir() else []
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in files]


def body_text(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return part.get_content()


def link_in(msg: EmailMessage, path: str) -> str:
    """The site-relative link to ``path`` found in a mail's text."""
    match = re.search(r"https?://[^/\s]+(/alerts/" + path + r"/[A-Za-z0-9._-]+)", body_text(msg))
    assert match, body_text(msg)
    return match.group(1)


def subscriber(client: TestClient, address: str):
    with client.app.state.services.db.session() as session:  # type: ignore[attr-defined]
        sub = get_subscriber_by_email(session, address)
        return None if sub is None else subscriber_view(session, sub.id)


def token_for(settings: Settings, purpose: str, sid: int, address: str, age: float = 0.0) -> str:
    if not age:
        return make_signer(settings).make(purpose, sid, address)  # type: ignore[arg-type]
    real = time.time
    itsdangerous.timed.time.time = lambda: real() - age
    try:
        return make_signer(settings).make(purpose, sid, address)  # type: ignore[arg-type]
    finally:
        itsdangerous.timed.time.time = real


def test_subscribe_confirm_manage_unsubscribe_path(client: TestClient, settings: Settings) -> None:
    r = subscribe_form(client, "Reader@Example.ORG")
    assert r.status_code == 200 and "Check your inbox" in r.text
    (mail,) = mails(settings)
    assert mail["To"] == "reader@example.org" and "Confirm" in mail["Subject"]
    assert "Xiaomi" in body_text(mail)
    assert subscriber(client, "reader@example.org").status == "pending"

    # the same answer for a pending address (and no second mail within the per-address limit)
    again = subscribe_form(client, "Reader@Example.ORG")
    assert (again.status_code, again.text) == (r.status_code, r.text)
    assert len(mails(settings)) == 1

    confirmed = client.get(link_in(mail, "confirm"))
    assert confirmed.status_code == 200 and "Your alerts are on" in confirmed.text
    assert subscriber(client, "reader@example.org").status == "confirmed"
    assert client.get(link_in(mail, "confirm")).status_code == 200  # opening it twice is fine

    # the same answer again for a confirmed address; no mail
    known = subscribe_form(client, "Reader@Example.ORG")
    assert (known.status_code, known.text) == (r.status_code, r.text)
    fresh = subscribe_form(client, "other@example.org")
    assert fresh.status_code == r.status_code
    assert fresh.text.replace("other@example.org", "Reader@Example.ORG") == r.text
    assert len(mails(settings)) == 2

    # manage: channels, keyword alerts, digest, time zone and hour, mentions
    manage = re.search(r'href="(/manage\?token=[^"]+)"', confirmed.text).group(1)  # type: ignore[union-attr]
    page = client.get(manage)
    assert page.status_code == 200 and "reader@example.org" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    form = {
        "csrf": csrf,
        "action": "save",
        "channels": ["xiaomi"],
        "add_channels": "ford, byd",
        "queries": 'Xiaomi AND "joint venture"\n\nticker:TSLA',
        "digest": "daily",
        "timezone": "Europe/Berlin",
        "digest_hour": "7",
        "include_mentions": "true",
    }
    saved = client.post(manage, data=form)
    assert saved.status_code == 200 and "Saved." in saved.text
    view = subscriber(client, "reader@example.org")
    assert {c.slug for c in view.channels} == {"xiaomi", "ford", "byd"}
    assert [q.text for q in view.queries] == ['xiaomi AND "joint venture"', "ticker:TSLA"]
    assert (view.digest, view.timezone, view.digest_hour, view.include_mentions) == (
        "daily",
        "Europe/Berlin",
        7,
        True,
    )
    # unticking a channel drops it; a bad query is shown with its line, position and reason
    bad = client.post(manage, data={**form, "channels": ["ford"], "add_channels": "", "queries": 'ok\n"open'})
    assert bad.status_code == 400
    assert "line 2" in bad.text and "character 1" in bad.text and "unclosed quote" in bad.text
    assert {c.slug for c in subscriber(client, "reader@example.org").channels} == {"xiaomi", "ford", "byd"}
    bad_tz = client.post(manage, data={**form, "timezone": "Mars/Olympus"})
    assert bad_tz.status_code == 400 and "unknown time zone" in bad_tz.text
    assert client.post(manage, data={**form, "csrf": ""}).status_code == 403
    ok = client.post(manage, data={**form, "channels": ["ford"], "add_channels": "", "include_mentions": ""})
    view = subscriber(client, "reader@example.org")
    assert ok.status_code == 200 and [c.slug for c in view.channels] == ["ford"]
    assert view.include_mentions is False

    # unsubscribe: GET changes nothing; the one-click POST (RFC 8058) unsubscribes at once
    sid = view.id
    unsub = f"/unsubscribe?token={token_for(settings, 'unsubscribe', sid, 'reader@example.org')}"
    shown = client.get(unsub)
    assert shown.status_code == 200 and "Unsubscribe from all alerts" in shown.text
    assert subscriber(client, "reader@example.org").status == "confirmed"
    done = client.post(
        f"/alerts/unsubscribe/{unsub.split('=', 1)[1]}",
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200 and "is unsubscribed" in done.text
    view = subscriber(client, "reader@example.org")
    assert view.status == "unsubscribed" and view.channels == ()
    # a confirmation link opened after unsubscribing does not switch alerts back on
    assert client.get(link_in(mail, "confirm")).status_code == 400


def test_subscribe_refuses_forged_expired_and_other_address_links(
    client: TestClient, settings: Settings
) -> None:
    assert subscribe_form(client, "reader@example.org").status_code == 200
    sid = subscriber(client, "reader@example.org").id
    good = token_for(settings, "manage", sid, "reader@example.org")
    assert client.get(f"/manage?token={good}").status_code == 200

    forged = client.get(f"/manage?token={good[:-4]}AAAA")
    assert forged.status_code == 403 and "not valid" in forged.text
    other = client.get(f"/manage?token={token_for(settings, 'manage', sid, 'mallory@example.org')}")
    assert other.status_code == 403 and "another address" in other.text
    purpose = client.get(f"/confirm?token={good}")  # a manage token is no confirm token
    assert purpose.status_code == 403
    old = token_for(settings, "confirm", sid, "reader@example.org", age=3 * 86400)
    expired = client.get(f"/confirm?token={old}")
    assert expired.status_code == 400 and "expired" in expired.text
    assert subscriber(client, "reader@example.org").status == "pending"
    for path in ("/confirm", "/manage", "/unsubscribe"):
        r = client.get(path)
        assert r.status_code == 400 and "no token" in r.text
    assert (
        client.post(f"/unsubscribe?token={good}", data={"List-Unsubscribe": "One-Click"}).status_code == 403
    )
    gone = client.get(f"/unsubscribe?token={token_for(settings, 'unsubscribe', sid + 999, 'x@example.org')}")
    assert gone.status_code == 403


def test_subscribe_box_csrf_honeypot_rate_limits(client: TestClient, settings: Settings) -> None:
    page = client.get("/channels/xiaomi").text
    assert BOX_TITLE in page and BOX_TEXT in page
    assert 'action="/channels/xiaomi/subscribe"' in page
    assert 'type="email" name="email"' in page and 'name="website"' in page and 'name="csrf"' in page
    assert "Ford News Alert" in client.get("/channels/ford").text
    posted = client.post("/api/articles?alert=false", json=sample_payload(), headers=ADMIN).json()
    article = client.get(f"/articles/{posted['article']['id']}").text  # the article's first company
    assert BOX_TITLE in article and 'action="/channels/xiaomi/subscribe"' in article
    no_csrf = client.post("/channels/xiaomi/subscribe", data={"email": "a@example.org"})
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.text
    forged = client.post("/channels/xiaomi/subscribe", data={"email": "a@example.org", "csrf": "x.y.z"})
    assert forged.status_code == 403
    cross = client.post(
        "/channels/xiaomi/subscribe",
        data={"email": "a@example.org", "csrf": box_csrf(client)},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    proxied = client.post(  # behind a proxy that rewrites Host, EVWIRE_BASE_URL's host is ours too
        "/channels/xiaomi/subscribe",
        data={"email": "bot@example.org", "csrf": box_csrf(client), "website": "x"},
        headers={"Origin": "http://127.0.0.1:8000"},
    )
    assert proxied.status_code == 200
    bot = subscribe_form(client, "bot@example.org", website="https://spam.example/")
    assert bot.status_code == 200 and "Check your inbox" in bot.text
    assert subscriber(client, "bot@example.org") is None and mails(settings) == []
    bad = subscribe_form(client, "not-an-address")
    assert bad.status_code == 400 and "not a usable email address" in bad.text
    unknown = {"email": "a@example.org", "csrf": box_csrf(client)}
    assert client.post("/channels/no-such-channel/subscribe", data=unknown).status_code == 404

    limiter = RateLimiter({"subscribe": Rule("subscribe", per_minute=0.01, burst=2)})
    client.app.state.subscribe_limiter = limiter  # type: ignore[attr-defined]
    assert subscribe_form(client, "one@example.org").status_code == 200
    assert subscribe_form(client, "two@example.org").status_code == 200
    limited = subscribe_form(client, "three@example.org")
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    api = client.post("/api/subscriptions", json={"email": "four@example.org", "channels": ["xiaomi"]})
    assert api.status_code == 429
    assert subscriber(client, "three@example.org") is None


def test_subscribe_api_same_answer_errors_and_admin_outbox(client: TestClient, settings: Settings) -> None:
    assert client.get("/admin/outbox", follow_redirects=False).status_code == 303
    body = {
        "email": "api@example.org",
        "channels": ["xiaomi"],
        "queries": ["Xiaomi AND Ford"],
        "digest": "weekly",
    }
    first = client.post("/api/subscriptions", json=body)
    assert first.status_code == 202 and first.json()["status"] == "pending"
    (mail,) = mails(settings)
    assert client.get(link_in(mail, "confirm")).status_code == 200
    second = client.post("/api/subscriptions", json=body)
    assert (second.status_code, second.json()) == (first.status_code, first.json())
    view = subscriber(client, "api@example.org")
    assert view.status == "confirmed" and view.digest == "weekly"
    assert [q.text for q in view.queries] == ["xiaomi AND ford"]

    bad_query = client.post("/api/subscriptions", json={**body, "queries": ["Xiaomi AND"]})
    assert bad_query.status_code == 400 and "expected a term after AND at 7" in bad_query.json()["detail"]
    bad_address = client.post("/api/subscriptions", json={**body, "email": "nobody"})
    assert bad_address.status_code == 400
    assert client.post("/api/subscriptions", json={**body, "channels": ["nope"]}).status_code == 404
    assert client.post("/api/subscriptions", json={**body, "extra": 1}).status_code == 422

    # the admin outbox page lists the confirmation mail the default transport wrote
    page = client.get("/admin/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    client.post("/admin/login", data={"token": "test-admin-token-123", "csrf": csrf})
    outbox = client.get("/admin/outbox")
    assert outbox.status_code == 200 and "0 pending" in outbox.text
    quiet = client.post(
        "/api/articles?alert=false", json={"title": "Xiaomi quiet", "text": "Xiaomi SU7."}, headers=ADMIN
    )
    assert quiet.status_code == 201 and "0 pending" in client.get("/admin/outbox").text
    assert client.post("/api/articles", json=sample_payload(), headers=ADMIN).status_code == 201
    outbox = client.get("/admin/outbox")
    assert "1 pending" in outbox.text and "api@example.org" in outbox.text and "Ford, Xiaomi" in outbox.text
    row = outbox.text.split('id="outbox-', 1)[1].split("</tr>", 1)[0]
    assert "<td>digest</td>" in row and "<td>pending</td>" in row and ":00:00 UTC" in row  # weekly, at 08:00
    (name,) = [p.name for p in Path(eml_folder(settings)).glob("confirm.*.eml")]
    assert name in outbox.text and "Confirm your evwire alerts" in outbox.text
    shown = client.get(f"/admin/outbox/eml/{name}")
    assert shown.status_code == 200 and shown.headers["content-type"].startswith("text/plain")
    assert "sandbox" in shown.headers["content-security-policy"] and "Subject:" in shown.text
    assert client.get("/admin/outbox/eml/..%2Fevwire.db").status_code == 404
    assert client.get("/admin/outbox/eml/secret.key").status_code == 404


def reset_mail_limit(client: TestClient, address: str) -> None:
    """Forget the per-address limit's last send (the tests do not wait 5 minutes)."""
    with client.app.state.services.db.session() as session:  # type: ignore[attr-defined]
        sub = get_subscriber_by_email(session, address)
        assert sub is not None
        sub.last_confirm_sent_at = None


def confirmed_reader(client: TestClient, settings: Settings, address: str) -> None:
    assert subscribe_form(client, address).status_code == 200
    assert client.get(link_in(mails(settings)[-1], "confirm")).status_code == 200
    assert subscriber(client, address).status == "confirmed"
    reset_mail_limit(client, address)


def add_link_in(msg: EmailMessage) -> str:
    match = re.search(r"https?://[^/\s]+(/alerts/manage/[A-Za-z0-9._-]+\?\S+)", body_text(msg))
    assert match, body_text(msg)
    return match.group(1)


def test_stranger_cannot_add_channels_to_a_confirmed_address(client: TestClient, settings: Settings) -> None:
    confirmed_reader(client, settings, "reader@example.org")
    before = len(mails(settings))

    # a stranger asks for Ford for this address: nothing changes, its owner gets a mail
    r = subscribe_form(client, "reader@example.org", slug="ford")
    assert r.status_code == 200 and "Check your inbox" in r.text
    view = subscriber(client, "reader@example.org")
    assert [c.slug for c in view.channels] == ["xiaomi"] and view.status == "confirmed"
    assert len(mails(settings)) == before + 1
    mail = mails(settings)[-1]
    assert mail["To"] == "reader@example.org" and "Add to your evwire alerts" in mail["Subject"]
    assert "Ford" in body_text(mail) and "have not changed" in body_text(mail)

    # the per-address limit holds for these mails too; a request for what it follows sends nothing
    assert subscribe_form(client, "reader@example.org", slug="ford").status_code == 200
    reset_mail_limit(client, "reader@example.org")
    assert subscribe_form(client, "reader@example.org", slug="xiaomi").status_code == 200
    assert len(mails(settings)) == before + 1

    # opening the link shows Ford ticked but not saved; saving adds it
    link = add_link_in(mail)
    page = client.get(link)
    assert page.status_code == 200 and "You asked to follow Ford; save to confirm" in page.text
    assert 'value="ford" checked' in page.text and 'value="xiaomi" checked' in page.text
    assert [c.slug for c in subscriber(client, "reader@example.org").channels] == ["xiaomi"]
    assert client.get(link.replace("add=ford", "add=byd")).status_code == 200  # only the token is signed
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    ticked = re.findall(r'name="channels" value="([^"]+)" checked', page.text)
    token = link.split("/alerts/manage/", 1)[1].split("?", 1)[0]
    form = {
        "csrf": csrf,
        "action": "save",
        "channels": ticked,
        "add_channels": "",
        "queries": "",
        "digest": "immediate",
        "timezone": "UTC",
        "digest_hour": "8",
    }
    saved = client.post(f"/manage?token={token}", data=form)
    assert saved.status_code == 200 and "Saved." in saved.text
    assert {c.slug for c in subscriber(client, "reader@example.org").channels} == {"xiaomi", "ford"}

    # the API cannot add channels or keyword alerts to it either; the link pre-selects both
    reset_mail_limit(client, "reader@example.org")
    body = {
        "email": "reader@example.org",
        "channels": ["byd"],
        "queries": ["recall"],
        "digest": "weekly",
    }
    api = client.post("/api/subscriptions", json=body)
    assert api.status_code == 202
    view = subscriber(client, "reader@example.org")
    assert {c.slug for c in view.channels} == {"xiaomi", "ford"} and view.queries == ()
    assert view.digest == "immediate"
    mail = mails(settings)[-1]
    assert mail["To"] == "reader@example.org" and "recall" in body_text(mail)
    page = client.get(add_link_in(mail))
    assert page.status_code == 200 and 'value="byd" checked' in page.text
    assert "recall" in page.text.split("<textarea", 1)[1].split("</textarea>", 1)[0]
    assert subscriber(client, "reader@example.org").queries == ()

    # operators still add directly (evwire subscribers add uses the store's default)
    from evwire.store.subscriptions import subscribe

    with client.app.state.services.db.session() as session:  # type: ignore[attr-defined]
        subscribe(session, "reader@example.org", ["byd"], now=utcnow())
    assert {c.slug for c in subscriber(client, "reader@example.org").channels} == {"xiaomi", "ford", "byd"}


def test_subscribe_answers_are_identical_for_new_pending_and_confirmed(
    client: TestClient, settings: Settings
) -> None:
    confirmed_reader(client, settings, "conf@example.org")
    assert subscribe_form(client, "pend@example.org").status_code == 200  # pending
    assert subscriber(client, "pend@example.org").status == "pending"

    answers = []
    for address in ("new1@example.org", "pend@example.org", "conf@example.org"):
        r = subscribe_form(client, address, slug="ford")
        answers.append(
            (r.status_code, r.headers["content-type"], r.content.replace(address.encode(), b"ADDR"))
        )
    assert answers[0] == answers[1] == answers[2]
    assert [c.slug for c in subscriber(client, "conf@example.org").channels] == ["xiaomi"]

    reset_mail_limit(client, "conf@example.org")
    api = []
    for address in ("new2@example.org", "pend@example.org", "conf@example.org"):
        r = client.post(
            "/api/subscriptions", json={"email": address, "channels": ["byd"], "queries": ["recall"]}
        )
        api.append((r.status_code, r.headers["content-type"], r.content))
    assert api[0] == api[1] == api[2] and api[0][0] == 202
    view = subscriber(client, "conf@example.org")
    assert [c.slug for c in view.channels] == ["xiaomi"] and view.queries == ()
    # a pending address keeps today's behaviour: the channels wait for its confirmation
    assert {c.slug for c in subscriber(client, "pend@example.org").channels} == {"xiaomi", "ford", "byd"}


def test_manage_page_adds_and_removes_own_targets_with_the_address_guard(
    client: TestClient, settings: Settings
) -> None:
    import sqlalchemy as sa

    from evwire.store.subscriptions import confirm
    from evwire.store.tables import OutboxRow

    assert subscribe_form(client, "owner@example.org").status_code == 200
    sid = subscriber(client, "owner@example.org").id
    with client.app.state.services.db.session() as session:  # type: ignore[attr-defined]
        confirm(session, sid, now=utcnow())
    manage = f"/manage?token={token_for(settings, 'manage', sid, 'owner@example.org')}"
    page = client.get(manage)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    assert "Also post my alerts to" in page.text

    refused = client.post(
        manage, data={"csrf": csrf, "action": "add_target", "target_url": "json://127.0.0.1:9/x"}
    )
    assert refused.status_code == 400 and "127.0.0.1" in refused.text  # loopback: the guard says no
    assert (
        client.post(manage, data={"action": "add_target", "target_url": "tgram://1:A/2"}).status_code == 403
    )
    added = client.post(
        manage, data={"csrf": csrf, "action": "add_target", "target_url": "tgram://123:ABC/456"}
    )
    assert added.status_code == 200 and "Target added" in added.text and "tgram://…" in added.text
    assert "123:ABC" not in added.text  # the URL's token is not shown back

    assert client.post("/api/articles", json=sample_payload(), headers=ADMIN).status_code == 201
    with client.app.state.services.db.session() as session:  # type: ignore[attr-defined]
        rows = session.execute(sa.select(OutboxRow.subscriber_id, OutboxRow.target_id)).all()
    assert sum(1 for r in rows if r.subscriber_id == sid) == 1
    assert sum(1 for r in rows if r.target_id) == 1  # the same alert, to the subscriber's own target

    tid = re.search(r'name="target_id" value="(\d+)"', added.text).group(1)  # type: ignore[union-attr]
    removed = client.post(manage, data={"csrf": csrf, "action": "remove_target", "target_id": tid})
    assert removed.status_code == 200 and "Target removed" in removed.text and "tgram://…" not in removed.text
    other = client.post(manage, data={"csrf": csrf, "action": "remove_target", "target_id": "999999"})
    assert other.status_code == 400


def test_confirm_link_of_a_suspended_address_says_an_operator_must_resume_it(
    client: TestClient, settings: Settings
) -> None:
    """Subscribing again does nothing for a suspended address (a stranger may not lift it), so the
    page must not send the reader there."""
    assert subscribe_form(client, "bouncy@example.org").status_code == 200
    with client.app.state.services.db.session() as session:  # type: ignore[attr-defined]
        sub = get_subscriber_by_email(session, "bouncy@example.org")
        assert sub is not None
        sub.status = "suspended"  # three bounces, or the operator (evwire subscribers set-status)
    page = client.get(link_in(mails(settings)[-1], "confirm"))
    assert page.status_code == 400
    assert "ask the operator to resume it" in page.text and "subscribe again" not in page.text
    assert subscriber(client, "bouncy@example.org").status == "suspended"
