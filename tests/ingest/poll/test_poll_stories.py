"""One story, many sources: near-duplicate items from different feeds become one story; the home
page shows it once with "also reported by", the article page lists the other sources."""

from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient
from sqlalchemy import select

from evwire.pipeline import Services
from evwire.poller import Poller
from evwire.store.feeds import add_feed
from evwire.store.tables import Article
from evwire.web.app import create_app
from tests.ingest.poll.conftest import NOW, Site, rss

STORY = (
    "Xiaomi said on Thursday that it delivered more than 40,000 SU7 sedans in December, its best month "
    "since the electric car went on sale, and that the YU7 SUV will reach stores across China in the "
    "second quarter. The company repeated its target of 550,000 deliveries for 2026 and said a second "
    "factory phase in Beijing is ready to start production next month."
)
RETOLD = STORY.replace("said on Thursday", "announced Thursday").replace("best month", "strongest month")
OTHER = (
    "BYD cut prices of its Seal and Dolphin models in Europe by up to ten percent on Monday, as the "
    "Chinese maker tries to keep sales growing after new tariffs, its European chief told reporters "
    "at a press event in Amsterdam where the company also showed a new plug-in hybrid."
)


def test_poll_near_duplicates_from_two_feeds_are_one_story_shown_once(
    svc: Services, poller: Poller, site: Site
) -> None:
    site.docs["/a"] = ("application/rss+xml", rss("Wire A", [
        {"guid": "a-1", "title": "Xiaomi delivers over 40,000 SU7 in December", "text": STORY},
        {"guid": "a-2", "title": "BYD cuts prices in Europe", "text": OTHER},
    ]))  # fmt: skip
    site.docs["/b"] = ("application/rss+xml", rss("Wire B", [
        {"guid": "b-1", "title": "Xiaomi SU7 deliveries top 40,000 in December", "text": RETOLD},
    ]))  # fmt: skip
    with svc.db.session() as session:
        add_feed(session, site.url("/a"), now=NOW)
    asyncio.run(poller.run_pass())
    with svc.db.session() as session:
        add_feed(session, site.url("/b"), now=NOW)
    asyncio.run(poller.run_pass())
    with svc.db.session() as session:
        rows = {a.guid: a for a in session.scalars(select(Article))}
    assert rows["a-1"].story_id == rows["b-1"].story_id is not None
    assert rows["a-2"].story_id != rows["a-1"].story_id

    # a fresh poller rebuilds the index from stored signatures and still groups a third source
    site.docs["/c"] = ("application/rss+xml", rss("Wire C", [
        {"guid": "c-1", "title": "Xiaomi: 40,000 SU7 delivered in December", "text": STORY + " Shares rose."},
    ]))  # fmt: skip
    with svc.db.session() as session:
        add_feed(session, site.url("/c"), now=NOW)
    asyncio.run(Poller(svc, clock=poller.clock).run_pass())
    with svc.db.session() as session:
        third = session.scalar(select(Article).where(Article.guid == "c-1"))
        assert third is not None and third.story_id == rows["a-1"].story_id

    with TestClient(create_app(svc.settings, services=svc)) as client:
        home = client.get("/").text
        assert (
            home.count("SU7 delivered in December")
            + home.count("SU7 deliveries top")
            + home.count("over 40,000 SU7")
            == 1
        )  # the story once
        assert "Also reported by" in home and "Wire B" in home and "Wire C" in home
        assert "BYD cuts prices in Europe" in home
        page = client.get(f"/articles/{rows['b-1'].id}").text
        assert "Also reported by" in page and "Wire A" in page
