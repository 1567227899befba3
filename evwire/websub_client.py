"""WebSub, the subscriber's I/O: subscribe feeds to their hub, answer verifications, take pushes.

The pure parts (forms, challenge checks, HMAC, lease times) are ``ingest.websub``. Here:
``subscribe`` POSTs to the hub (through the guarded client) with the callback
``{base_url}/websub/{feed_id}`` and a fresh secret stored on the feed first (hubs may verify before
answering); ``verify`` answers the hub's GET and records the lease (the schedule then polls the feed
only every 24 h); ``receive_push`` checks the HMAC signature and ingests the pushed document like a
poll. ``renew_due`` re-subscribes before leases end.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

import httpx
from sqlalchemy import select

from evwire.ingest.fetch import FetchResult
from evwire.ingest.websub import (
    Subscription,
    Verification,
    check_signature,
    lease_end,
    new_secret,
    renewal_time,
    subscribe_form,
    verify_challenge,
)
from evwire.pipeline import Services
from evwire.poller import FeedPoll, Poller, WebSubNeed
from evwire.store.feeds import job_of
from evwire.store.tables import Feed

log = logging.getLogger(__name__)


def callback_url(base_url: str, feed_id: int) -> str:
    return f"{base_url.rstrip('/')}/websub/{feed_id}"


def _expected(feed: Feed, base_url: str) -> Subscription | None:
    if not (feed.websub_hub and feed.websub_topic and feed.websub_secret):
        return None
    return Subscription(
        feed.websub_hub, feed.websub_topic, callback_url(base_url, feed.id), feed.websub_secret
    )


async def subscribe(
    services: Services, need: WebSubNeed, client: httpx.AsyncClient, *, now: datetime
) -> str | None:
    """Ask the hub for pushes of one feed. Returns an error in words, or None when the hub accepted."""
    secret = new_secret()
    with services.db.session() as session:
        feed = session.get(Feed, need.feed_id)
        if feed is None:
            return "the feed was removed"
        feed.websub_hub, feed.websub_topic, feed.websub_secret = need.hub, need.topic, secret
        feed.websub_renew_at = None
    sub = Subscription(need.hub, need.topic, callback_url(services.settings.base_url, need.feed_id), secret)
    try:
        response = await client.post(need.hub, data=subscribe_form(sub))
    except httpx.HTTPError as exc:
        return f"the WebSub hub {need.hub} could not be reached ({type(exc).__name__}); polling continues"
    except Exception as exc:  # noqa: BLE001 - the address guard refuses private hubs
        return f"the WebSub hub {need.hub} was refused: {exc}"
    if response.status_code not in (202, 204, 200):
        status = response.status_code
        return f"the WebSub hub {need.hub} refused the subscription (HTTP {status}); polling continues"
    log.info("websub subscription requested", extra={"feed_id": need.feed_id})
    return None


async def subscribe_all(
    services: Services, needs: list[WebSubNeed], client: httpx.AsyncClient, *, now: datetime
) -> int:
    done = 0
    for need in dict.fromkeys(needs):
        error = await subscribe(services, need, client, now=now)
        if error:
            log.warning("websub: %s", error, extra={"feed_id": need.feed_id})
        else:
            done += 1
    return done


def renewals_due(services: Services, *, now: datetime) -> list[WebSubNeed]:
    with services.db.session() as session:
        rows = session.execute(
            select(Feed.id, Feed.websub_hub, Feed.websub_topic, Feed.url).where(
                Feed.status == "active",
                Feed.websub_hub.is_not(None),
                Feed.websub_renew_at.is_not(None),
                Feed.websub_renew_at <= now,
            )
        )
        return [WebSubNeed(fid, hub, topic or url) for fid, hub, topic, url in rows if hub]


def verify(services: Services, feed_id: int, params: Mapping[str, str], *, now: datetime) -> Verification:
    """Answer the hub's verification GET; on success record the lease (polls slow to daily)."""
    with services.db.session() as session:
        feed = session.get(Feed, feed_id)
        expected = _expected(feed, services.settings.base_url) if feed is not None else None
        if expected is not None and params.get("hub.mode") == "unsubscribe":
            expected = Subscription(
                expected.hub, expected.topic, expected.callback, expected.secret, "unsubscribe"
            )
        answer = verify_challenge(params, expected)
        if feed is not None and answer.ok and params.get("hub.mode") == "subscribe":
            feed.websub_lease_until = lease_end(now, answer.lease_seconds)
            feed.websub_renew_at = renewal_time(now, answer.lease_seconds)
            log.info("websub subscription verified", extra={"feed_id": feed_id})
        elif feed is not None and not answer.ok and params.get("hub.mode") == "denied":
            feed.websub_lease_until = None
            feed.last_error = answer.body
    return answer


def receive_push(
    poller: Poller,
    feed_id: int,
    body: bytes,
    signature_header: str | None,
    content_type: str | None,
    *,
    now: datetime,
) -> bool:
    """Ingest pushed content if its HMAC signature is right. Returns whether it was taken."""
    with poller.services.db.session() as session:
        feed = session.get(Feed, feed_id)
        if feed is None or not feed.websub_secret or feed.status != "active":
            return False
        if not check_signature(signature_header, body, feed.websub_secret):
            log.warning("websub push with a bad signature ignored", extra={"feed_id": feed_id})
            return False
        job = job_of(feed)
    result = FetchResult(
        job.url, job.url, 200, body, job.etag, job.last_modified, 0.0, content_type=content_type
    )
    poller.store_polls([FeedPoll(job, result, now)])
    return True
