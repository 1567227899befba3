"""WebSub against a tiny hub on 127.0.0.1: the poller finds the hub in the feed, subscribes with a
callback on the live app, the hub verifies the challenge, then pushes signed content (ingested) and
content with a bad signature (ignored); the feed is then polled only daily."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import uvicorn
from sqlalchemy import select

from evwire.ingest.websub import sign
from evwire.pipeline import Services
from evwire.poller import Poller
from evwire.store.feeds import add_feed, get_feed
from evwire.store.tables import Article
from evwire.web.app import create_app
from evwire.worker import PollWorker
from tests.ingest.poll.conftest import NOW, Clock, Site


class Hub(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), HubHandler)
        self.requests: list[dict[str, str]] = []
        self.verified = threading.Event()
        self.echoed: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def verify(self, form: dict[str, str]) -> None:
        params = {"hub.mode": "subscribe", "hub.topic": form["hub.topic"]}
        params.update({"hub.challenge": "challenge-123", "hub.lease_seconds": "86400"})
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{form['hub.callback']}?{query}", timeout=5) as r:  # noqa: S310
            self.echoed = r.read().decode()
        self.verified.set()

    def push(self, form: dict[str, str], body: bytes, *, good: bool = True) -> int:
        signature = sign(body, form["hub.secret"] if good else "not-the-secret")
        headers = {"Content-Type": "application/atom+xml", "X-Hub-Signature": signature}
        req = urllib.request.Request(form["hub.callback"], data=body, method="POST", headers=headers)
        with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310
            return r.status


class HubHandler(BaseHTTPRequestHandler):
    server: Hub

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_POST(self) -> None:
        data = self.rfile.read(int(self.headers["Content-Length"]))
        form = {k: v[-1] for k, v in urllib.parse.parse_qs(data.decode()).items()}
        self.server.requests.append(form)
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()
        threading.Thread(target=self.server.verify, args=(form,), daemon=True).start()


def atom(hub: str, self_url: str, entries: list[tuple[str, str, str]]) -> bytes:
    body = "".join(
        f"<entry><id>{i}</id><title>{t}</title><link href='https://pushed.example/{i}'/>"
        f"<updated>2026-01-08T09:00:00Z</updated><content type='text'>{c}</content></entry>"
        for i, t, c in entries
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
        f"<title>Pushed News</title><id>urn:pushed</id><updated>2026-01-08T09:00:00Z</updated>"
        f"<link rel='hub' href='{hub}'/><link rel='self' href='{self_url}'/>{body}</feed>"
    ).encode()


@pytest.fixture
def hub() -> Iterator[Hub]:
    server = Hub()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def live(svc: Services) -> Iterator[str]:
    """The real app on 127.0.0.1 (port 0) so the hub can call the callback; base_url points at it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    svc.settings = svc.settings.model_copy(update={"base_url": base})
    app = create_app(svc.settings, services=svc)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    app.state.base = base
    yield base
    server.should_exit = True
    thread.join(5)
    sock.close()


def test_poll_websub_subscribe_verify_push_and_rare_polls(
    svc: Services, site: Site, hub: Hub, live: str
) -> None:
    clock = Clock()
    self_url = site.url("/pushed.atom")
    site.docs["/pushed.atom"] = ("application/atom+xml", atom(hub.url, self_url, [
        ("p-1", "Li Auto opens 500th store", "Li Auto opened its 500th store in China."),
    ]))  # fmt: skip
    with svc.db.session() as session:
        fid = add_feed(session, self_url, now=NOW)[0].id
    poller = Poller(svc, clock=clock)
    asyncio.run(poller.run_pass())
    assert asyncio.run(PollWorker(svc, poller).websub_step(clock())) == 1
    assert hub.verified.wait(10) and hub.echoed == "challenge-123"
    form = hub.requests[0]
    assert form["hub.mode"] == "subscribe" and form["hub.topic"] == self_url
    assert form["hub.callback"] == f"{live}/websub/{fid}"
    with svc.db.session() as session:
        feed = get_feed(session, fid)
        assert feed.websub_lease_until is not None and feed.websub_secret == form["hub.secret"]

    pushed = atom(
        hub.url, self_url, [("p-2", "Zeekr 9X deliveries begin", "Zeekr began deliveries of the 9X.")]
    )
    assert hub.push(form, pushed) == 202
    forged = atom(hub.url, self_url, [("p-3", "Forged item", "This push is not signed by the hub.")])
    assert hub.push(form, forged, good=False) == 202
    with svc.db.session() as session:
        guids = set(session.scalars(select(Article.guid)))
    assert guids == {"p-1", "p-2"}  # the forged push was ignored

    clock.advance(hours=2)
    asyncio.run(poller.run_pass(feed_ids=[fid]))
    with svc.db.session() as session:
        assert get_feed(session, fid).next_poll_at == clock.now + timedelta(hours=24)
