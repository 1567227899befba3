"""/healthz and /metrics (a registry per app)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from evwire.settings import Settings
from evwire.web.app import create_app


def test_ops_healthz(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok", "database": "ok"}


def test_ops_metrics_counts_requests_and_rows(client: TestClient, sample_id: int) -> None:
    client.get("/channels/xiaomi")
    client.get("/channels/ford")
    client.get("/articles/999999")
    text = client.get("/metrics").text
    assert 'evwire_http_requests_total{method="GET",route="/channels/{slug}",status="200"} 2.0' in text
    assert 'route="/articles/{article_id}",status="404"' in text
    assert "evwire_http_request_duration_seconds_bucket" in text
    assert "evwire_articles 1.0" in text
    assert "evwire_companies " in text


def test_ops_metrics_registry_is_per_app(settings: Settings) -> None:
    with TestClient(create_app(settings)) as a, TestClient(create_app(settings)) as b:
        a.get("/healthz")
        a.get("/healthz")
        assert 'route="/healthz",status="200"} 2.0' in a.get("/metrics").text
        assert 'route="/healthz",status="200"} 2.0' not in b.get("/metrics").text
