"""Operations: `evwire status`, the poll and queue metrics on /metrics, and JSON/text logs with ids."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from evwire.cli.main import app as cli_app
from evwire.logs import configure_logging
from evwire.pipeline import open_services
from evwire.poller import Poller
from evwire.settings import Settings
from evwire.store.feeds import add_feed
from evwire.store.status import Section, collect_status, register_section
from evwire.web.app import create_app
from tests.ingest.feeds.conftest import FeedServer, feed_server  # noqa: F401 - fixture reuse

NOW = datetime.now(UTC)


def _polled(settings: Settings, server: FeedServer) -> Settings:
    settings = settings.model_copy(update={"allow_private_feeds": True, "feed_host_min_gap": 0.0,
                                           "feed_total_timeout": 5.0})  # fmt: skip
    svc = open_services(settings)
    try:
        with svc.db.session() as session:
            add_feed(session, server.url("/feeds/rss2/feed.xml"), now=NOW)
            add_feed(session, server.url("/status/500"), now=NOW)
            add_feed(session, server.url("/invalid"), now=NOW)
        asyncio.run(Poller(svc).run_pass())
    finally:
        svc.close()
    return settings


def test_status_cli_shows_feeds_in_error_articles_and_queue(settings: Settings, feed_server) -> None:  # noqa: F811
    settings = _polled(settings, feed_server)
    env = {"EVWIRE_DATA_DIR": str(settings.data_dir), "EVWIRE_DATABASE_URL": settings.db_url,
           "EVWIRE_CONFIG": None, "EVWIRE_ADMIN_TOKEN": None}  # fmt: skip
    result = CliRunner().invoke(cli_app, ["status"], env=env)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Feeds" in text and "in error" in text and "HTTP 500" in text and "not valid XML" in text
    assert "Articles" in text and "last 24 h" in text
    result = CliRunner().invoke(cli_app, ["status", "--json"], env=env)
    report = json.loads(result.stdout)
    feeds = report["sections"]["feeds"]
    assert feeds["values"]["total"] == 3 and feeds["values"]["in error"] == 2
    assert {r["feed_id"] for r in feeds["rows"]} == {2, 3}
    assert report["sections"]["articles"]["values"]["total"] == 4
    assert report["sections"]["articles"]["values"]["last 24 h"] == 4
    if "outbox" in report["sections"]:  # the alert queue, once its table exists
        outbox = report["sections"]["outbox"]["values"]
        assert outbox["pending"] == 0 and outbox["oldest pending"] is None


def test_status_sections_are_extensible_and_isolated(settings: Settings) -> None:
    svc = open_services(settings)
    try:
        register_section("test-extra", lambda s, now: Section("Extra", {"answer": 42}))
        register_section("test-broken", lambda s, now: 1 / 0)
        with svc.db.session() as session:
            report = collect_status(session, now=NOW)
        assert report.sections["test-extra"].values == {"answer": 42}
        assert "ZeroDivisionError" in report.errors["test-broken"]
        assert "feeds" in report.sections  # the others still there
    finally:
        from evwire.store import status

        status._SECTIONS.pop("test-extra", None)
        status._SECTIONS.pop("test-broken", None)
        svc.close()


def test_metrics_poll_errors_latency_and_queue_gauges(settings: Settings, feed_server) -> None:  # noqa: F811
    settings = settings.model_copy(update={"allow_private_feeds": True, "feed_host_min_gap": 0.0})
    svc = open_services(settings)
    try:
        web = create_app(settings, services=svc)
        poller = Poller(svc)
        poller.observer = web.state.poll_metrics.observe  # as `evwire serve` wires it
        with svc.db.session() as session:
            add_feed(session, feed_server.url("/feeds/atom/feed.xml"), now=NOW)
            add_feed(session, feed_server.url("/status/404"), now=NOW)
        asyncio.run(poller.run_pass())
        with TestClient(web) as client:
            text = client.get("/metrics").text
        assert "evwire_feed_poll_errors_total 1.0" in text
        assert 'evwire_feed_polls_total{outcome="ok"} 1.0' in text
        assert "evwire_feed_poll_duration_seconds_count 2.0" in text
        assert "evwire_feeds_in_error 1.0" in text
        if "outbox" in {t for t in __import__("sqlalchemy").inspect(svc.db.engine).get_table_names()}:
            assert "evwire_outbox_pending 0.0" in text and "evwire_outbox_oldest_pending_seconds" in text
    finally:
        svc.close()


def test_logs_json_and_text_carry_ids(tmp_path) -> None:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    try:
        stream = io.StringIO()
        configure_logging(Settings(data_dir=tmp_path, log_format="json", log_level="DEBUG"), stream=stream)
        log = logging.getLogger("evwire.test")
        log.info("feed polled", extra={"feed_id": 7, "duration_ms": 12})
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("storing failed", extra={"article_id": 3})
        first, second = (json.loads(line) for line in stream.getvalue().splitlines()[:2])
        assert first["msg"] == "feed polled" and first["feed_id"] == 7 and first["duration_ms"] == 12
        assert (
            first["level"] == "INFO" and first["logger"] == "evwire.test" and first["ts"].endswith("+00:00")
        )
        assert second["article_id"] == 3 and "ValueError: boom" in second["exc"]

        stream = io.StringIO()
        configure_logging(Settings(data_dir=tmp_path, log_format="text", log_level="WARNING"), stream=stream)
        assert len([h for h in root.handlers if getattr(h, "_evwire_handler", False)]) == 1  # replaced
        log.info("not shown", extra={"feed_id": 1})
        log.warning("slow feed", extra={"feed_id": 9, "duration_ms": 2500})
        assert stream.getvalue().strip().endswith("evwire.test: slow feed feed_id=9 duration_ms=2500")
        assert "not shown" not in stream.getvalue()
        quiet = Settings(data_dir=tmp_path)  # EVWIRE_LOG_LEVEL not set: one-shot commands log warnings
        configure_logging(quiet, stream=io.StringIO(), quiet_default="WARNING")
        assert root.level == logging.WARNING
    finally:
        for h in [h for h in root.handlers if getattr(h, "_evwire_handler", False)]:
            root.removeHandler(h)
        root.setLevel(saved[0])
        for h in saved[1]:
            if h not in root.handlers:
                root.addHandler(h)
