"""store.subscriptions: subscribe / confirm / preferences / unsubscribe, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from evwire.alerts.mail import AddressError
from evwire.errors import NotFoundError
from evwire.store.companies import sync_catalog
from evwire.store.db import Database
from evwire.store.subscriber_views import pending_confirmation, subscriber_view
from evwire.store.subscriptions import (
    QueryInputError,
    SubscriptionError,
    alerts_version,
    confirm,
    get_subscriber_by_email,
    may_send_confirmation,
    subscribe,
    unsubscribe_all,
    update_preferences,
)
from evwire.store.targets import add_target
from evwire.tag.catalog import Catalog

NOW = datetime(2026, 1, 8, 9, 0, tzinfo=UTC)


@pytest.fixture
def synced(db: Database, catalog: Catalog) -> Database:
    with db.session() as s:
        sync_catalog(s, catalog)
    return db


def test_subscriptions_subscribe_is_idempotent_and_pending(synced: Database) -> None:
    with synced.session() as s:
        a = subscribe(s, "Reader@Example.ORG", ["xiaomi"], now=NOW)
        b = subscribe(s, "reader@example.org", ["xiaomi", "ford"], now=NOW)
        assert a.id == b.id and a.status == "pending" and a.email == "reader@example.org"
        view = subscriber_view(s, a.id)
        assert view is not None
        assert {c.slug for c in view.channels} == {"xiaomi", "ford"}
        assert view.status == "pending"
        pend = pending_confirmation(s, a.id)
        assert pend is not None and "Xiaomi" in " ".join(pend.following)


def test_subscriptions_refuse_bad_address_channel_and_query(synced: Database) -> None:
    with synced.session() as s:
        with pytest.raises(AddressError):
            subscribe(s, "not an address", ["xiaomi"], now=NOW)
        with pytest.raises(NotFoundError):
            subscribe(s, "a@example.org", ["no-such-company"], now=NOW)
        sub = subscribe(s, "b@example.org", ["xiaomi"], now=NOW)
        with pytest.raises(QueryInputError) as info:
            update_preferences(s, sub.id, queries=["xiaomi", 'ford AND "joint'])
        assert info.value.index == 1 and info.value.position is not None
        with pytest.raises(SubscriptionError):
            update_preferences(s, sub.id, timezone="Mars/Olympus")
        with pytest.raises(SubscriptionError):
            update_preferences(s, sub.id, digest_hour=24)


def test_subscriptions_confirm_preferences_and_unsubscribe(synced: Database) -> None:
    with synced.session() as s:
        sub = subscribe(s, "c@example.org", ["xiaomi"], now=NOW)
        v0 = alerts_version(s)
        confirm(s, sub.id, now=NOW)
        assert sub.status == "confirmed" and sub.confirmed_at == NOW
        update_preferences(
            s,
            sub.id,
            digest="daily",
            timezone="Europe/Berlin",
            digest_hour=7,
            include_mentions=True,
            slugs=["ford"],
            queries=["xiaomi  AND  ford", "solid-state"],
            now=NOW,
        )
        view = subscriber_view(s, sub.id)
        assert view is not None
        assert [c.slug for c in view.channels] == ["ford"]
        assert sorted(q.text for q in view.queries) == sorted(['"solid state"', "xiaomi AND ford"])
        assert (view.digest, view.timezone, view.digest_hour, view.include_mentions) == (
            "daily",
            "Europe/Berlin",
            7,
            True,
        )
        assert alerts_version(s) != v0
        unsubscribe_all(s, sub.id, now=NOW)
        view = subscriber_view(s, sub.id)
        assert view is not None and view.status == "unsubscribed" and not view.channels and not view.queries
        again = subscribe(s, "c@example.org", ["xiaomi"], now=NOW + timedelta(days=1))
        assert again.id == sub.id and again.status == "pending" and again.confirmed_at is None
        assert get_subscriber_by_email(s, "C@EXAMPLE.org") is not None


def test_subscriptions_confirmation_rate_limit(synced: Database) -> None:
    with synced.session() as s:
        sub = subscribe(s, "d@example.org", ["xiaomi"], now=NOW)
        assert may_send_confirmation(s, sub, now=NOW)
        assert not may_send_confirmation(s, sub, now=NOW + timedelta(minutes=1))
        sent = 1
        for i in range(1, 20):
            sent += may_send_confirmation(s, sub, now=NOW + timedelta(minutes=10 * i))
        assert sent == 5
        assert may_send_confirmation(s, sub, now=NOW + timedelta(days=1, minutes=1))


def test_subscriptions_add_target(synced: Database) -> None:
    with synced.session() as s:
        t = add_target(s, "json://127.0.0.1:9/hook", channel="xiaomi", label="site", now=NOW)
        assert t.company_id is not None
        everything = add_target(s, "ntfy://topic", now=NOW)
        assert everything.company_id is None
        with pytest.raises(SubscriptionError):
            add_target(s, "not a url", now=NOW)
