"""One poll pass over real feeds from a real local server, on SQLite and PostgreSQL: what an
operator checks — the article list, each feed's recorded error and next poll time, and that a
misbehaving feed never stopped the others."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from evwire.pipeline import Services
from evwire.poller import Poller
from evwire.store.feeds import add_feed, get_feed
from evwire.store.tables import Article, Feed
from tests.ingest.poll.conftest import NOW, Clock, Site, rss

MISBEHAVING = {
    "ok": "/feeds/rss2/feed.xml",
    "atom": "/feeds/atom/feed.xml",
    "429": "/status/429?retry=7200",
    "reset": "/reset",
    "invalid": "/invalid",
    "loop": "/loop/a",
    "big": "/big",
    "slow": "/slow-body",
    "html": "/html-page",
    "moved": "/moved-away",
}


def _add(svc: Services, url: str, **kw: object) -> int:
    with svc.db.session() as session:
        return add_feed(session, url, now=NOW, **kw)[0].id  # type: ignore[arg-type]


def _feed(svc: Services, feed_id: int) -> Feed:
    with svc.db.session() as session:
        return get_feed(session, feed_id)


def _articles(svc: Services) -> list[Article]:
    with svc.db.session() as session:
        return list(session.scalars(select(Article).order_by(Article.id)))


def test_poll_misbehaving_feeds_record_errors_and_others_are_polled(
    svc: Services, poller: Poller, clock: Clock, feed_server
) -> None:
    ids = {k: _add(svc, feed_server.url(p)) for k, p in MISBEHAVING.items() if k != "moved"}
    before = {p.split("?")[0]: feed_server.hits[p.split("?")[0]] for p in MISBEHAVING.values()}
    report = asyncio.run(poller.run_pass())
    assert report.feeds == len(ids)
    for key, path in MISBEHAVING.items():
        if key != "moved":
            assert feed_server.hits[path.split("?")[0]] > before[path.split("?")[0]], key  # all polled
    ok = _feed(svc, ids["ok"])
    assert ok.last_error is None and ok.last_success_at == NOW and ok.items_seen == 4 and ok.etag
    assert ok.title == "EV Daily & Co" and ok.next_poll_at > NOW
    expect = {
        "429": ("asked evwire to slow down", NOW + timedelta(hours=2)),
        "reset": ("closed the connection", NOW + timedelta(minutes=10)),
        "invalid": ("not valid XML", NOW + timedelta(minutes=10)),
        "loop": ("redirect loop", NOW + timedelta(minutes=10)),
        "big": ("larger than the 0.2 MB limit", NOW + timedelta(minutes=10)),
        "slow": ("read timeout", NOW + timedelta(minutes=10)),
        "html": ("HTML page, not a feed", NOW + timedelta(minutes=10)),
    }
    for key, (words, next_at) in expect.items():
        feed = _feed(svc, ids[key])
        assert feed.last_error and words in feed.last_error, (key, feed.last_error)
        assert feed.next_poll_at == next_at, key
        assert feed.error_count == 1 and feed.status == "active" and feed.last_error_at == NOW
        assert report.errors[feed.id] == feed.last_error
    titles = {a.title for a in _articles(svc)}
    assert "Xiaomi delivers 411,837 EVs in 2025, targets 550,000 in 2026" in titles
    assert "Volkswagen and Xpeng widen partnership" in titles

    # the next pass: only due feeds; errors back off, good feeds are asked conditionally (304)
    clock.advance(minutes=11)
    report = asyncio.run(poller.run_pass())
    assert report.feeds == 6 and report.new_articles == 0
    assert _feed(svc, ids["reset"]).next_poll_at == clock.now + timedelta(minutes=20)
    assert _feed(svc, ids["reset"]).error_count == 2
    clock.advance(hours=3)
    conditional = feed_server.conditional["/feeds/rss2/feed.xml"]
    asyncio.run(poller.run_pass(feed_ids=[ids["ok"]]))
    assert feed_server.conditional["/feeds/rss2/feed.xml"] == conditional + 1
    assert _feed(svc, ids["ok"]).last_success_at == clock.now


def test_poll_failing_for_seven_days_marks_dead_not_deleted(
    svc: Services, poller: Poller, clock: Clock, feed_server
) -> None:
    fid = _add(svc, feed_server.url("/status/500"))
    good = _add(svc, feed_server.url("/feeds/rss1/feed.xml"))
    asyncio.run(poller.run_pass())
    clock.advance(days=7, minutes=1)
    asyncio.run(poller.run_pass())
    feed = _feed(svc, fid)
    assert feed.status == "dead" and feed.next_poll_at is None
    assert "marked dead because it failed for 7 days" in (feed.last_error or "")
    assert _feed(svc, good).status == "active"
    clock.advance(days=1)
    assert asyncio.run(poller.run_pass(feed_ids=[fid])).feeds == 0  # dead feeds are not claimed


def test_poll_permanent_redirect_updates_the_stored_url(svc: Services, poller: Poller, feed_server) -> None:
    fid = _add(svc, feed_server.url("/moved"))
    asyncio.run(poller.run_pass())
    feed = _feed(svc, fid)
    assert feed.url == feed_server.url("/feeds/rss2/feed.xml") and feed.last_error is None


def test_poll_first_poll_is_backfill_later_items_are_news(
    svc: Services, poller: Poller, site: Site, clock
) -> None:
    items = [
        {
            "guid": "a1",
            "title": "Xiaomi SU7 orders pass 200,000",
            "text": "Xiaomi said SU7 orders passed 200,000.",
        },
        {"guid": "a2", "title": "BYD cuts Seal prices", "text": "BYD cut prices of the Seal in China."},
    ]
    site.docs["/feed"] = ("application/rss+xml", rss("Backfill News", items))
    fid = _add(svc, site.url("/feed"))
    report = asyncio.run(poller.run_pass())
    assert report.new_articles == 2 and report.backfill_articles == 2
    assert all(a.is_backfill and a.feed_id == fid for a in _articles(svc))
    items.insert(
        0,
        {
            "guid": "a3",
            "title": "Nio opens swap station 3,000",
            "text": "Nio opened its 3,000th swap station.",
        },
    )
    site.docs["/feed"] = ("application/rss+xml", rss("Backfill News", items))
    clock.advance(days=1)
    report = asyncio.run(poller.run_pass())
    assert report.new_articles == 1 and report.backfill_articles == 0
    new = [a for a in _articles(svc) if a.guid == "a3"]
    assert len(new) == 1 and not new[0].is_backfill
    assert _feed(svc, fid).items_seen == 3


def test_poll_edited_item_updates_its_article_not_news(
    svc: Services, poller: Poller, site: Site, clock
) -> None:
    item = {"guid": "x1", "title": "Xpeng G7 launch date set", "text": "Xpeng sets G7 launch."}
    site.docs["/feed"] = ("application/rss+xml", rss("Edits", [item]))
    _add(svc, site.url("/feed"))
    asyncio.run(poller.run_pass())
    [first] = _articles(svc)
    item.update(
        title="Xpeng G7 launch date set (updated)", text="Xpeng will launch the G7 on July 3, Xpeng said."
    )
    site.docs["/feed"] = ("application/rss+xml", rss("Edits", [item]))
    clock.advance(days=1)
    report = asyncio.run(poller.run_pass())
    assert report.new_articles == 0 and report.updated_articles == 1
    [after] = _articles(svc)
    assert after.id == first.id and after.created_at == first.created_at == NOW
    assert after.title.endswith("(updated)") and "July 3" in after.body and after.updated_at == clock.now
    clock.advance(days=1)
    assert asyncio.run(poller.run_pass()).updated_articles == 0  # 304 now: nothing happens


PAGE = """<html><head><title>Leapmotor</title></head><body><nav>Home | News</nav><article>
<h1>Leapmotor exports triple</h1>
<p>Leapmotor said its exports tripled in December as the C10 and B10 reached more markets in Europe,
helped by its partner Stellantis, which sells the cars through its own dealers in twelve countries.</p>
<p>The company expects overseas sales to keep growing this year after it starts assembling the B10 in
Spain, and it plans to add right-hand-drive versions for the United Kingdom and Australia.</p>
<p>Leapmotor delivered a record number of vehicles in December and raised its target for 2026.</p>
</article><footer>Copyright</footer></body></html>"""


def test_poll_full_text_switch_fetches_article_pages(svc: Services, poller: Poller, site: Site) -> None:
    site.docs["/article"] = ("text/html; charset=utf-8", PAGE.encode())
    item = {
        "guid": "l1",
        "title": "Leapmotor exports triple",
        "text": "Exports tripled.",
        "link": site.url("/article"),
    }
    site.docs["/summary"] = ("application/rss+xml", rss("Summaries", [item]))
    site.docs["/summary2"] = (
        "application/rss+xml",
        rss("Summaries 2", [{**item, "guid": "l2", "link": site.url("/other")}]),
    )
    _add(svc, site.url("/summary"), full_text=True)
    _add(svc, site.url("/summary2"))  # switch off: the summary is kept
    asyncio.run(poller.run_pass())
    body = {a.guid: a.body for a in _articles(svc)}
    assert "right-hand-drive versions" in body["l1"] and "Copyright" not in body["l1"]
    assert site.hits["/article"] == 1
    assert body["l2"] == "Exports tripled."
