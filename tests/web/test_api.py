"""The JSON API: typed responses, cursor pagination, admin auth, posting, editor corrections, errors."""

from __future__ import annotations

from fastapi.testclient import TestClient

from evwire.settings import Settings
from evwire.web.app import create_app
from tests.web.conftest import ADMIN, post, sample_payload


def test_api_post_sample_files_it_under_xiaomi_and_ford(client: TestClient) -> None:
    r = client.post("/api/articles", json=sample_payload(), headers=ADMIN)
    assert r.status_code == 201
    body = r.json()
    assert body["created"] is True
    art = body["article"]
    assert {c["slug"] for c in art["about"]} == {"xiaomi", "ford"}
    assert {"tesla", "nvidia"} <= {c["slug"] for c in art["mentioned"]}
    assert {"exchange": "HKG", "symbol": "1810", "company": "xiaomi"} in art["tickers"]
    assert ("Jim Farley", "ford") in {(p["name"], p["company"]) for p in art["people"]}
    assert art["published"].startswith("2026-01-08")
    again = client.post("/api/articles", json=sample_payload(), headers=ADMIN)
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["article"]["id"] == art["id"]
    same_text_new_url = {**sample_payload(), "url": None}
    assert client.post("/api/articles", json=same_text_new_url, headers=ADMIN).status_code == 200
    assert len(client.get("/api/articles").json()["items"]) == 1


def test_api_get_article_channel_and_lists(client: TestClient, sample_id: int) -> None:
    art = client.get(f"/api/articles/{sample_id}").json()
    assert art["title"].startswith("Ford, Xiaomi")
    assert art["image_credit"] == "CnEVPost" and len(art["bullets"]) == 2
    channels = client.get("/api/channels").json()
    xiaomi = next(c for c in channels if c["slug"] == "xiaomi")
    assert xiaomi["about_count"] == 1
    ch = client.get("/api/channels/xiaomi").json()
    assert "HKG:1810" in ch["tickers"] and ch["links"]["rss"] == "/channels/xiaomi/feed.rss"
    assert "Lei Jun" in {p["name"] for p in ch["people"]}
    items = client.get("/api/channels/xiaomi/articles").json()["items"]
    assert [i["id"] for i in items] == [sample_id]
    assert client.get("/api/channels/tesla/articles").json()["items"] == []
    assert [i["id"] for i in client.get("/api/channels/tesla/articles?role=mentioned").json()["items"]] == [
        sample_id
    ]
    assert [i["id"] for i in client.get("/api/articles?channel=ford").json()["items"]] == [sample_id]


def test_api_pagination_covers_every_row_exactly_once(client: TestClient) -> None:
    ids: set[int] = set()
    filed: set[int] = set()
    for i in range(23):  # many share a timestamp: the id breaks ties
        stamp = f"2025-03-{1 + i % 4:02d}T08:00:00Z"
        art = post(client, title=f"Industry update {i}", text=f"Charging news item {i}.", published=stamp)
        ids.add(art["id"])
        if i % 2:
            filed.add(art["id"])
            r = client.put(f"/api/articles/{art['id']}/channels/nio", json={"role": "about"}, headers=ADMIN)
            assert r.status_code == 200
    for path, expected in (
        ("/api/articles", ids),
        ("/api/channels/nio/articles", {i for i in ids if (i - 1) % 2}),
    ):
        seen: list[int] = []
        stamps: list[str] = []
        cursor = None
        for _ in range(50):
            params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
            page = client.get(path, params=params).json()
            seen += [a["id"] for a in page["items"]]
            stamps += [a["published"] for a in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert len(seen) == len(set(seen)), path
        assert set(seen) == expected, path
        assert stamps == sorted(stamps, reverse=True)


def test_api_admin_auth(client: TestClient, settings: Settings) -> None:
    payload = {"title": "BYD sales", "text": "BYD sold cars."}
    assert client.post("/api/articles", json=payload).status_code == 401
    r = client.post("/api/articles", json=payload, headers={"Authorization": "Bearer wrong-token-xyz"})
    assert r.status_code == 403 and r.json()["detail"] == "wrong admin token"
    assert client.put("/api/articles/1/channels/byd", json={"role": "about"}).status_code == 401
    assert (
        client.delete("/api/articles/1/channels/byd", headers={"Authorization": "Bearer nope"}).status_code
        == 403
    )
    closed = settings.model_copy(update={"admin_token": None})
    with TestClient(create_app(closed)) as c:
        r = c.post("/api/articles", json=payload, headers=ADMIN)
        assert r.status_code == 403 and "closed" in r.json()["detail"]


def test_api_bad_input_is_a_clear_4xx(client: TestClient, settings: Settings) -> None:
    r = client.post("/api/articles", json={"title": "x", "text": "y", "colour": "red"}, headers=ADMIN)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "colour"] and "Extra" in r.json()["detail"][0]["msg"]
    assert client.post("/api/articles", json={"title": "x"}, headers=ADMIN).status_code == 422
    assert client.post("/api/articles", json={"title": "", "text": "y"}, headers=ADMIN).status_code == 422
    r = client.post(
        "/api/articles", content=b"{not json", headers={**ADMIN, "content-type": "application/json"}
    )
    assert r.status_code == 422 and "detail" in r.json()
    big = "BYD " * (settings.max_article_bytes // 4 + 10)
    r = client.post("/api/articles", json={"title": "big", "text": big}, headers=ADMIN)
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    huge = b'{"title": "x", "text": "' + b"a" * (settings.max_article_bytes + 400_000) + b'"}'
    r = client.post("/api/articles", content=huge, headers={**ADMIN, "content-type": "application/json"})
    assert r.status_code == 413
    r = client.post("/api/articles", json={"title": "x", "text": "<script>alert(1)</script>"}, headers=ADMIN)
    assert r.status_code == 422  # nothing left once the HTML is removed
    assert client.get("/api/articles/999999").json() == {"detail": "no article with id 999999"}
    assert client.get("/api/articles?cursor=zzz").status_code == 400
    assert client.get("/api/articles?channel=nope").status_code == 404
    assert client.get("/api/articles?limit=0").status_code == 422
    assert client.get("/api/channels/nope").status_code == 404
    assert client.get("/api/nothing-here").status_code == 404
    assert (
        client.put("/api/articles/1/channels/nope", json={"role": "about"}, headers=ADMIN).status_code == 404
    )


def test_api_html_is_reduced_to_text(client: TestClient) -> None:
    art = post(
        client,
        title="HTML post",
        text="<p>BYD <b>sold</b> cars.</p><script>alert(1)</script><p>More &amp; more.</p>",
    )
    assert "<" not in art["body"] and "alert" not in art["body"]
    assert "BYD sold cars." in art["body"] and "More & more." in art["body"]


def test_api_editor_corrections(client: TestClient, sample_id: int) -> None:
    url = f"/api/articles/{sample_id}/channels"
    r = client.put(f"{url}/tesla", json={"role": "about"}, headers=ADMIN)
    assert r.status_code == 200 and "tesla" in {c["slug"] for c in r.json()["about"]}
    r = client.put(f"{url}/ford", json={"role": "excluded"}, headers=ADMIN)
    assert "ford" not in {c["slug"] for c in r.json()["about"] + r.json()["mentioned"]}
    assert client.get("/api/channels/ford/articles").json()["items"] == []
    assert client.put(f"{url}/ford", json={"role": "bogus"}, headers=ADMIN).status_code == 422
    assert client.put(f"{url}/ford", json={"role": "about", "x": 1}, headers=ADMIN).status_code == 422
    r = client.delete(f"{url}/ford", headers=ADMIN)
    assert r.status_code == 200 and "ford" in {c["slug"] for c in r.json()["about"]}
    r = client.delete(f"{url}/tesla", headers=ADMIN)
    assert "tesla" in {c["slug"] for c in r.json()["mentioned"]}


def test_api_openapi_and_docs(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {
        "/api/articles",
        "/api/articles/{article_id}",
        "/api/channels",
        "/api/channels/{slug}",
        "/api/channels/{slug}/articles",
        "/api/search",
        "/api/articles/{article_id}/channels/{slug}",
    } <= set(spec["paths"])
    assert "ArticlePageOut" in spec["components"]["schemas"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/api/channels/{slug}/articles" in docs.text
    assert "cdn" not in docs.text.lower() and "<script" not in docs.text
