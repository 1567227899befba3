"""`evwire feeds ...` and `evwire poll --once` end to end: the real CLI, a real local feed server,
SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from evwire.cli.main import app
from evwire.settings import Settings
from tests.cli.conftest import Run, _env
from tests.ingest.feeds.conftest import feed_server  # noqa: F401 - fixture reuse
from tests.ingest.poll.conftest import (
    Site,
    site,  # noqa: F401 - fixture reuse
)


@pytest.fixture
def fcli(settings: Settings) -> Run:
    runner = CliRunner()
    env = {**_env(settings.data_dir, settings.database_url), "EVWIRE_ALLOW_PRIVATE_FEEDS": "true",
           "EVWIRE_FEED_HOST_MIN_GAP": "0", "EVWIRE_FEED_READ_TIMEOUT": "1"}  # fmt: skip

    def run(*args: str, input: str | bytes | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, env=env)

    return run


def _lines(result: Result) -> list[dict]:  # type: ignore[type-arg]
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_cli_feeds_import_opml_then_poll_once_files_items_under_channels(
    fcli: Run,
    feed_server,  # noqa: F811
    tmp_path: Path,
) -> None:
    opml = tmp_path / "feeds.opml"
    opml.write_text(
        "<?xml version='1.0'?><opml version='2.0'><head><title>t</title></head><body>"
        "<outline text='EV'>"
        f"<outline type='rss' text='EV Daily' xmlUrl='{feed_server.url('/feeds/rss2/feed.xml')}'/>"
        f"<outline type='rss' text='RDF' xmlUrl='{feed_server.url('/feeds/rss1/feed.xml')}'/>"
        f"<outline type='rss' text='Broken' xmlUrl='{feed_server.url('/status/503?retry=600')}'/>"
        "</outline></body></opml>"
    )
    result = fcli("feeds", "import", str(opml))
    assert result.exit_code == 0 and "3 feeds added" in result.stdout, result.output

    result = fcli("poll", "--once")
    assert result.exit_code == 0, result.output
    assert "3 feeds polled" in result.stdout and "1 failed" in result.stdout
    assert "3/3" in result.stderr  # the progress bar finished
    assert "HTTP 503" in result.stderr

    xiaomi = _lines(fcli("articles", "list", "--json", "--channel", "xiaomi"))
    assert any(r["title"].startswith("Xiaomi delivers 411,837 EVs") for r in xiaomi)

    feeds = {f["title"]: f for f in _lines(fcli("feeds", "list", "--json"))}
    assert feeds["EV Daily"]["items_seen"] == 4 and feeds["EV Daily"]["last_error"] is None
    assert "HTTP 503" in feeds["Broken"]["last_error"] and feeds["Broken"]["status"] == "active"
    table = fcli("feeds", "list")
    assert "HTTP 503" in table.stdout

    exported = fcli("feeds", "export")
    assert exported.exit_code == 0 and "<outline" in exported.stdout and "rss2/feed.xml" in exported.stdout
    assert 'text="EV"' in exported.stdout  # the OPML folder survived the round trip


def test_cli_feeds_add_home_page_discovers_the_feed_pause_resume_remove(
    fcli: Run,
    site: Site,  # noqa: F811
    feed_server,  # noqa: F811
) -> None:
    feed = feed_server.url("/feeds/atom/feed.xml")
    page = f"<html><head><link rel='alternate' type='application/atom+xml' title='Main' href='{feed}'></head>"
    site.docs["/"] = ("text/html", page.encode())
    result = fcli("feeds", "add", site.url("/"))
    assert result.exit_code == 0, result.output
    assert f"added feed 1: {feed}" in result.stdout and "found on" in result.stdout
    assert "already followed" in fcli("feeds", "add", feed).stdout
    bad = fcli("feeds", "add", site.url("/nothing-here"))
    assert bad.exit_code == 1 and "HTTP 404" in bad.stderr
    assert "paused" in fcli("feeds", "pause", "1").stdout
    assert fcli("poll", "--once").stdout.startswith("0 feeds polled")  # paused feeds are not polled
    assert "resumed" in fcli("feeds", "resume", feed).stdout
    assert fcli("poll", "--once").stdout.startswith("1 feeds polled")
    assert "removed" in fcli("feeds", "remove", "1").stdout
    assert len(_lines(fcli("articles", "list", "--json"))) == 2  # the articles stay
    missing = fcli("feeds", "pause", "99")
    assert missing.exit_code == 1 and "no feed '99'" in missing.stderr
