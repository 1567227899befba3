"""Bad API input on SQLite and PostgreSQL: huge bodies, wrong types, unknown fields, invalid UTF-8,
deep nesting, NUL characters, out-of-range ids and hostile HTML. Each gets a 4xx with a message
(never a 5xx), hostile HTML is stored as plain text, and the app keeps answering afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from evwire.settings import Settings
from evwire.web.app import create_app
from tests.web.conftest import ADMIN

JSON = {**ADMIN, "content-type": "application/json"}
OK = {"title": "Nio opens swap stations", "text": "NIO opened 100 battery swap stations in Europe."}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(
        settings.model_copy(update={"max_article_bytes": 1_000_000, "rate_limit_enabled": False})
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _alive(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/").status_code == 200
    assert client.post("/api/articles", json=OK, headers=ADMIN).status_code in (200, 201)


WRONG_SHAPES: list[object] = [
    {"title": 123, "text": ["not", "a", "string"]},  # wrong types
    {"title": "x", "text": "y", "bullets": "not a list"},
    {"title": "x", "text": "y", "published": "yesterday-ish"},
    {"title": "x", "text": "y", "evil": True},  # unknown field
    {"title": "x", "text": "y", "__proto__": {"admin": True}},
    {"title": "", "text": "y"},
    {"title": "x" * 5000, "text": "y"},
    {"title": "x", "text": "y", "url": "javascript:alert(1)"},
    {"title": "x", "text": "y", "image_url": "data:text/html,<script>alert(1)</script>"},
    {"title": "x", "text": "y", "bullets": ["b"] * 500},
    [1, 2, 3],
    "just a string",
    None,
]
UNPARSEABLE = [
    b'{"title": "\xff\xfe bad", "text": "\xc3\x28"}',  # invalid UTF-8
    b'{"title": "x", "text": ',  # truncated
    b"\x00\x01\x02\x03",
    b"[" * 100_000 + b"]" * 100_000,  # deep nesting
    b'{"title": "x", "text": "y", "title": "dup"}' * 1,
    b"\xef\xbb\xbf" + b'{"title": "bom", "text": "y"}',
]


def test_hostile_api_wrong_shapes_get_422_and_unparseable_bodies_4xx(client: TestClient) -> None:
    for body in WRONG_SHAPES:
        r = client.post("/api/articles", json=body, headers=ADMIN)
        assert r.status_code == 422, (body, r.text)
        assert isinstance(r.json()["detail"], list) and r.json()["detail"][0]["msg"]
    for raw in UNPARSEABLE:
        r = client.post("/api/articles", content=raw, headers=JSON)
        assert 400 <= r.status_code < 500 or r.status_code in (200, 201), (raw[:40], r.text[:300])
    _alive(client)


def test_hostile_api_huge_bodies_get_413_without_reading_them(client: TestClient) -> None:
    big = b'{"title": "big", "text": "' + b"a" * 20_000_000 + b'"}'
    r = client.post("/api/articles", content=big, headers=JSON)  # announced by Content-Length
    assert r.status_code == 413 and "larger than" in r.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
        yield b'{"title": "big", "text": "'
        for _ in range(40):
            yield b"a" * 500_000
        yield b'"}'

    r = client.post("/api/articles", content=chunks(), headers=JSON)
    assert r.status_code == 413, r.text[:200]
    r = client.post("/api/articles", json={"title": "x", "text": "é" * 600_000}, headers=ADMIN)
    assert r.status_code == 413 and "EVWIRE_MAX_ARTICLE_BYTES" in r.json()["detail"]
    _alive(client)


def test_hostile_api_nul_and_out_of_range_values_get_400_or_422(client: TestClient) -> None:
    for path in (
        "/api/channels/a%00b",
        "/api/articles?channel=a%00",
        "/api/search?q=a%00b",
        "/api/search?q=x&channel=%00",
        "/channels/a%00b",
        "/search?q=a%00b",
        "/channels/a%00/feed.rss",
        "/articles/99999999999999999999",
        "/websub/99999999999999999999?hub.mode=subscribe",
    ):
        r = client.get(path)
        assert r.status_code in (200, 400, 404, 422), (path, r.status_code, r.text[:200])
    for path in ("/api/articles/9223372036854775808", "/api/articles/-1", "/api/articles/1e3"):
        assert client.get(path).status_code == 422, path
    r = client.post("/api/articles", json={"title": "a\u0000b", "text": "Tesla\u0000 y"}, headers=ADMIN)
    assert r.status_code in (201, 400), r.text  # PostgreSQL can't store NUL: 400, never a 500
    _alive(client)


def test_hostile_api_html_is_stored_as_text(client: TestClient) -> None:
    r = client.post(
        "/api/articles",
        json={
            "title": "Tesla <b>bold</b> <script>alert(1)</script>",
            "text": "<p>Tesla sold cars.</p><script>alert(2)</script><img src=x onerror=alert(3)>"
            "<a href='javascript:alert(4)'>link</a><style>body{}</style>",
            "bullets": ["<img src=x onerror=alert(5)>Deliveries up", "<svg onload=alert(6)>"],
        },
        headers=ADMIN,
    )
    assert r.status_code == 201, r.text
    article = r.json()["article"]
    assert article["body"] == "Tesla sold cars.\n\nlink"
    assert "<" not in "".join(article["bullets"]) and "onerror" not in "".join(article["bullets"])
    page = client.get(f"/articles/{article['id']}").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "onerror=alert" not in page.replace("onerror=alert(5)", "")  # only ever as escaped text
    _alive(client)


def test_hostile_api_query_strings_and_headers(client: TestClient) -> None:
    for path in (
        "/search?q=%FF%FE%FD",
        "/search?q=" + "x" * 600,
        "/api/search?q=%ED%A0%80",
        "/api/articles?limit=-1",
        "/api/articles?limit=abc",
        "/api/articles?cursor=%FF%00garbage",
        "/api/articles?cursor=" + "A" * 150,
        "/channels?q=%3Cscript%3E",
        "/api/channels?q=" + "%00" * 50,
    ):
        r = client.get(path)
        assert r.status_code < 500, (path, r.status_code, r.text[:200])
    r = client.get("/", headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
    assert r.status_code == 200 and "evil.example" not in r.text
    _alive(client)
