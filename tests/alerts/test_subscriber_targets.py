"""A subscriber's own Apprise targets get what their mail gets: posted to a real local JSON webhook.

Runs on SQLite and PostgreSQL; the webhook is an http.server on 127.0.0.1, port 0, which the
address guard refuses unless the test's policy lets that one address through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from evwire.alerts.sender import Sender
from evwire.ingest.guard import AddressPolicy
from evwire.ingest.types import ParsedArticle
from evwire.pipeline import Services, post_article
from evwire.store.subscriptions import (
    SubscriptionError,
    confirm,
    subscribe,
    unsubscribe_all,
    update_preferences,
)
from evwire.store.tables import OutboxRow
from evwire.store.targets import add_target, remove_target
from tests.alerts.conftest import sample

T0 = datetime(2026, 1, 8, 6, 0, tzinfo=UTC)
T1 = datetime(2026, 1, 8, 9, 30, tzinfo=UTC)
LOCAL = AddressPolicy(allow_networks=(ipaddress.ip_network("127.0.0.1/32"),))


class Hook(BaseHTTPRequestHandler):
    received: list[dict[str, str]]

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, str]]]]:
    received: list[dict[str, str]] = []
    handler = type("OwnHook", (Hook,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"json://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _local_webhook_allowed(svc: Services) -> None:
    """The sender re-checks a subscriber's target before each post, with the instance's settings: let
    the test webhook's one address through, as LOCAL does when the targets are added."""
    svc.settings.feed_allow_networks = "127.0.0.1/32"


def reader(svc: Services, email: str, slugs: list[str], *, confirmed: bool = True, **prefs: object) -> int:
    with svc.db.session() as s:
        sub = subscribe(s, email, slugs, now=T0)
        if confirmed:
            confirm(s, sub.id, now=T0)
        if prefs:
            update_preferences(s, sub.id, now=T0, **prefs)  # type: ignore[arg-type]
        return sub.id


def own_target(svc: Services, sid: int, url: str) -> int:
    with svc.db.session() as s:
        return add_target(s, url, subscriber_id=sid, policy=LOCAL, now=T0).id


def post(svc: Services, parsed: ParsedArticle) -> int:
    with svc.db.session() as s:
        return post_article(s, parsed, svc.tagger, now=T1, alerts=svc.alerts, any_date=True).article_id


def send(svc: Services) -> None:
    sender = Sender(svc, clock=lambda: T1)

    async def go() -> None:
        try:
            await sender.run_once()
        finally:
            await sender.close()

    asyncio.run(go())


def outbox(svc: Services) -> list[OutboxRow]:
    with svc.db.session() as s:
        return list(s.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def test_subscriber_target_gets_the_sample_article_once(
    svc: Services, webhook: tuple[str, list[dict[str, str]]]
) -> None:
    url, received = webhook
    sid = reader(svc, "x@example.org", ["xiaomi"])
    tid = own_target(svc, sid, url)
    article_id = post(svc, sample())
    post(svc, sample())  # the same article again: an update, no alert
    rows = outbox(svc)
    assert [(r.subscriber_id, r.target_id) for r in rows] == [(sid, None), (None, tid)]
    target_row = next(r for r in rows if r.target_id == tid)
    assert target_row.article_id == article_id and target_row.reasons["channels"] == ["xiaomi"]
    send(svc)
    send(svc)
    assert len(received) == 1
    assert received[0]["title"] == sample().title
    assert "Xiaomi" in received[0]["title"] + received[0]["message"]
    assert {r.status for r in outbox(svc)} == {"sent"}


def test_subscriber_target_refused_at_send_time_when_its_address_is_no_longer_allowed(
    svc: Services, webhook: tuple[str, list[dict[str, str]]]
) -> None:
    """Checked when added, and again before each post: a host name that now resolves into the operator's
    network (DNS rebinding) gets nothing; the row is a permanent failure that says why."""
    url, received = webhook
    sid = reader(svc, "x@example.org", ["xiaomi"])
    tid = own_target(svc, sid, url)  # allowed when added
    post(svc, sample())
    svc.settings.feed_allow_networks = ""  # as if the name now pointed at a private address
    send(svc)
    assert received == []
    row = next(r for r in outbox(svc) if r.target_id == tid)
    assert row.status == "failed"
    assert "target refused at send time" in (row.last_error or "")
    assert "not a public address" in (row.last_error or "")
    assert {r.status for r in outbox(svc) if r.target_id is None} == {"sent"}  # the mail still went


def test_subscriber_target_of_an_unconfirmed_subscriber_gets_nothing(
    svc: Services, webhook: tuple[str, list[dict[str, str]]]
) -> None:
    url, received = webhook
    sid = reader(svc, "pending@example.org", ["xiaomi"], confirmed=False)
    own_target(svc, sid, url)
    post(svc, sample())
    send(svc)
    assert outbox(svc) == [] and received == []


def test_subscriber_target_removed_or_unsubscribed_stops_posts(
    svc: Services, webhook: tuple[str, list[dict[str, str]]]
) -> None:
    url, received = webhook
    removed = reader(svc, "removed@example.org", ["xiaomi"])
    with svc.db.session() as s:
        remove_target(s, add_target(s, url, subscriber_id=removed, policy=LOCAL, now=T0).id)
    left = reader(svc, "left@example.org", ["xiaomi"])
    own_target(svc, left, url)
    with svc.db.session() as s:
        unsubscribe_all(s, left, now=T0)
    post(svc, sample())
    send(svc)
    assert [r.subscriber_id for r in outbox(svc)] == [removed]
    assert received == []


def test_coming_back_after_unsubscribing_from_everything_resumes_mail_not_the_old_target(
    svc: Services, webhook: tuple[str, list[dict[str, str]]]
) -> None:
    """A chat should not start receiving posts again unasked: confirming anew brings the mail back,
    the target stays off until the reader adds one again."""
    url, received = webhook
    sid = reader(svc, "back@example.org", ["xiaomi"])
    own_target(svc, sid, url)
    with svc.db.session() as s:
        unsubscribe_all(s, sid, now=T0)
    assert reader(svc, "back@example.org", ["xiaomi"]) == sid  # subscribes and confirms again
    post(svc, sample())
    send(svc)
    assert [(r.subscriber_id, r.target_id) for r in outbox(svc)] == [(sid, None)]
    assert received == []


def test_subscriber_target_follows_mail_rules_keywords_mentions_and_digests(
    svc: Services, webhook: tuple[str, list[dict[str, str]]]
) -> None:
    url, received = webhook
    keyword = reader(svc, "k@example.org", [], queries=['"joint venture"'])
    no_mentions = reader(svc, "byd@example.org", ["byd"])  # BYD is only mentioned in the sample
    digest = reader(svc, "d@example.org", ["ford"], digest="daily", timezone="Asia/Shanghai", digest_hour=8)
    keyword_t, _mention_t, digest_t = (own_target(svc, sid, url) for sid in (keyword, no_mentions, digest))
    post(svc, sample())
    by_target = {r.target_id: r for r in outbox(svc) if r.target_id}
    assert set(by_target) == {keyword_t, digest_t}
    assert by_target[keyword_t].reasons["queries"]
    # the digest reader's mail waits for 08:00 in Shanghai; their target is posted at once
    assert by_target[digest_t].kind == "immediate" and by_target[digest_t].next_attempt_at == T1
    send(svc)
    assert len(received) == 2


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("json://127.0.0.1:8080/hook", "not a public address"),
        ("jsons://10.1.2.3/hook", "not a public address"),
        ("ntfy://[::1]:8080/topic", "not a public address"),
        ("mailto://user:pw@example.org", "not offered"),
        ("windows://", "not offered"),
    ],
)
def test_subscriber_target_url_refused_by_the_address_guard(svc: Services, url: str, why: str) -> None:
    sid = reader(svc, "guard@example.org", ["xiaomi"])
    with svc.db.session() as s, pytest.raises(SubscriptionError, match=why):
        add_target(s, url, subscriber_id=sid, now=T0)


def test_subscriber_target_service_urls_accepted_without_a_lookup(svc: Services) -> None:
    sid = reader(svc, "ok@example.org", ["xiaomi"])
    with svc.db.session() as s:
        for url in ("tgram://123456789:abcdefg/987654", "ntfy://evwire-topic", "discord://1234/abcd"):
            add_target(s, url, subscriber_id=sid, now=T0)
        with pytest.raises(SubscriptionError, match="no channel"):
            add_target(s, "ntfy://other-topic", subscriber_id=sid, channel="xiaomi", now=T0)


def test_subscriber_targets_same_rows_when_read_all_at_once(
    svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Past _BY_ID_LIMIT matched subscribers, own targets are read in one pass, not by id.
    from evwire.alerts import matching

    monkeypatch.setattr(matching, "_BY_ID_LIMIT", 0)
    sids = [reader(svc, f"r{i}@example.org", ["xiaomi"]) for i in range(3)]
    other = reader(svc, "nio@example.org", ["nio"])
    tids = [own_target(svc, sid, f"ntfy://evwire-{sid}") for sid in [*sids, other]]
    post(svc, sample())
    assert sorted(r.target_id for r in outbox(svc) if r.target_id) == tids[:3]


def test_a_subscriber_keeps_at_most_five_own_targets(svc: Services) -> None:
    """Each article a reader gets is posted to every target of theirs: one confirmed address must not
    turn evwire into a fan-out to hundreds of webhooks."""
    sid = reader(svc, "many@example.org", ["xiaomi"])
    for k in range(5):
        own_target(svc, sid, f"json://127.0.0.1:9/hook{k}")
    with svc.db.session() as s, pytest.raises(SubscriptionError, match="remove one first"):
        add_target(s, "json://127.0.0.1:9/hook5", subscriber_id=sid, policy=LOCAL, now=T0)
    assert own_target(svc, sid, "json://127.0.0.1:9/hook0")  # the same one again is no new target
    other = reader(svc, "other@example.org", ["xiaomi"])
    assert own_target(svc, other, "json://127.0.0.1:9/hook5")  # the cap is per subscriber
