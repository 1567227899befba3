"""Web fixtures: the real app over the ``settings`` fixture (SQLite and PostgreSQL), a TestClient,
and the sample article as an API payload."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from evwire.ingest.plaintext import parse_plain_text
from evwire.settings import Settings
from evwire.web.app import create_app
from tests.conftest import SAMPLE_ARTICLE

ADMIN = {"Authorization": "Bearer test-admin-token-123"}
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
SAMPLE_URL = "https://cnevpost.com/2026/01/08/ford-xiaomi-explored-jv/"


def sample_payload() -> dict[str, Any]:
    parsed = parse_plain_text(SAMPLE_ARTICLE.read_text(encoding="utf-8"))
    return {
        "title": parsed.title,
        "text": parsed.body,
        "bullets": list(parsed.bullets),
        "url": SAMPLE_URL,
        "published": parsed.published_at.isoformat() if parsed.published_at else None,
        "image_caption": parsed.image_caption,
        "image_credit": parsed.image_credit,
        "source_name": parsed.source_name,
    }


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def sample_id(client: TestClient) -> int:
    r = client.post("/api/articles", json=sample_payload(), headers=ADMIN)
    assert r.status_code == 201, r.text
    return int(r.json()["article"]["id"])


def post(client: TestClient, **fields: Any) -> dict[str, Any]:
    r = client.post("/api/articles", json=fields, headers=ADMIN)
    assert r.status_code in (200, 201), r.text
    return r.json()["article"]
