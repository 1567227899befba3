"""The server-rendered pages, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from evwire.web.templating import safe_url
from tests.web.conftest import ADMIN, HOSTILE, SAMPLE_URL, post


def test_pages_home_lists_sample_with_chips(client: TestClient, sample_id: int) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert "text/html" in r.headers["content-type"]
    assert f'href="/articles/{sample_id}"' in r.text
    assert "Ford, Xiaomi has explored joint venture" in r.text
    assert re.search(r'class="chip about" href="/channels/xiaomi"', r.text)
    assert re.search(r'class="chip about" href="/channels/ford"', r.text)
    assert re.search(r'class="chip mentioned" href="/channels/tesla"', r.text)
    assert 'action="/search"' in r.text  # the search box in the header


def test_pages_article_shows_everything(client: TestClient, sample_id: int) -> None:
    r = client.get(f"/articles/{sample_id}")
    assert r.status_code == 200
    html = r.text
    assert "<h1>Ford, Xiaomi has explored joint venture to produce EVs in US, report says</h1>" in html
    assert "Ford CEO Jim Farley is a supporter of Xiaomi EVs" in html  # a key point
    assert "Image credit: CnEVPost" in html
    assert "A Xiaomi SU7 displayed at the Shanghai auto show in April 2025." in html
    assert f'href="{SAMPLE_URL}"' in html
    assert "Jan 8, 2026" in html
    assert html.count("<p>") >= 10  # body paragraphs
    about = html.split("<h2>About</h2>", 1)[1].split("</section>", 1)[0]
    assert "/channels/xiaomi" in about and "/channels/ford" in about
    assert "/channels/tesla" not in about
    mentions = html.split("<h2>Also mentions</h2>", 1)[1].split("</section>", 1)[0]
    assert "/channels/tesla" in mentions and "/channels/nvidia" in mentions
    assert '<a href="/channels/xiaomi" title="Xiaomi">HKG:1810</a>' in html
    assert '<a href="/channels/tesla" title="Tesla">NASDAQ:TSLA</a>' in html
    assert re.search(r"Jim Farley — [^<]*CEO, <a href=\"/channels/ford\">Ford</a>", html)
    assert re.search(r"Jensen Huang — [^<]*<a href=\"/channels/nvidia\">Nvidia</a>", html)


def test_pages_channel_index_counts_and_filter(client: TestClient, sample_id: int) -> None:
    r = client.get("/channels")
    assert r.status_code == 200
    assert 'href="/channels/xiaomi"' in r.text and 'href="/channels/nio"' in r.text
    xiaomi = r.text.split('href="/channels/xiaomi"', 1)[1].split("</li>", 1)[0]
    assert "1 about" in xiaomi
    tesla = r.text.split('href="/channels/tesla"', 1)[1].split("</li>", 1)[0]
    assert "0 about" in tesla and "1 mentioned" in tesla
    assert 'method="get"' in r.text and "/static/filter.js" in r.text
    filtered = client.get("/channels", params={"q": "xiao"})
    assert 'href="/channels/xiaomi"' in filtered.text and 'href="/channels/ford"' not in filtered.text
    by_ticker = client.get("/channels", params={"q": "NASDAQ:TSLA"})
    assert 'href="/channels/tesla"' in by_ticker.text and 'href="/channels/xiaomi"' not in by_ticker.text


def test_pages_channel_page(client: TestClient, sample_id: int) -> None:
    r = client.get("/channels/xiaomi")
    assert r.status_code == 200
    html = r.text
    assert "<h1>Xiaomi</h1>" in html
    assert "HKG:1810" in html and "OTCMKTS:XIACY" in html
    assert "Lei Jun" in html and "SU7" in html
    assert '<link rel="alternate" type="application/rss+xml"' in html
    assert 'href="/channels/xiaomi/feed.atom"' in html
    latest = html.split('id="about"', 1)[1].split('id="mentioned"', 1)[0]
    assert f'href="/articles/{sample_id}"' in latest
    tesla = client.get("/channels/tesla").text
    about = tesla.split('id="about"', 1)[1].split('id="mentioned"', 1)[0]
    assert f"/articles/{sample_id}" not in about
    also = tesla.split('id="mentioned"', 1)[1]
    assert f'href="/articles/{sample_id}"' in also


def test_pages_not_found_and_bad_input_are_4xx_html(client: TestClient) -> None:
    assert client.get("/articles/424242").status_code == 404
    assert client.get("/articles/abc").status_code == 400
    r = client.get("/channels/no-such-company")
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]
    assert client.get("/?before=garbage!!").status_code == 400
    assert client.get("/channels/xiaomi?before=bm9wZQ").status_code == 400
    assert client.get("/search", params={"q": "x", "page": "0"}).status_code == 400


def test_pages_home_pagination_and_empty_state(client: TestClient) -> None:
    assert "No articles yet" in client.get("/").text
    for i in range(client.app.state.settings.page_size + 3):
        post(
            client,
            title=f"Story {i} about NIO",
            text=f"NIO said {i} things.",
            published="2025-05-01T10:00:00Z",
        )
    first = client.get("/")
    nxt = re.search(r'rel="next" href="/\?before=([^"]+)"', first.text)
    assert nxt
    second = client.get(f"/?before={nxt.group(1)}")
    assert second.status_code == 200
    ids1 = set(re.findall(r'href="/articles/(\d+)"', first.text))
    ids2 = set(re.findall(r'href="/articles/(\d+)"', second.text))
    assert len(ids2) == 3 and not ids1 & ids2


def test_pages_hostile_title_escaped_everywhere(client: TestClient) -> None:
    art = post(
        client,
        title=HOSTILE,
        text="Xiaomi delivered more cars. <script>alert(3)</script> Xiaomi grew.\n\nXiaomi again.",
        bullets=["<b onmouseover=alert(4)>Xiaomi</b> point"],
        url="https://example.com/hostile",
        image_url="https://example.com/i.png",
        image_caption='"><svg onload=alert(6)>',
        source_name="<i>src</i>",
    )
    r = client.put(f"/api/articles/{art['id']}/channels/xiaomi", json={"role": "about"}, headers=ADMIN)
    assert r.status_code == 200
    pages = [
        "/",
        f"/articles/{art['id']}",
        "/channels/xiaomi",
        "/search?q=Xiaomi",
        f"/search?q={HOSTILE}",
        "/channels?q=%3Cscript%3E",
    ]
    for path in pages:
        html = client.get(path).text
        assert "<script>alert" not in html, path
        assert "<img src=x" not in html, path
        assert "<svg onload" not in html and "<b onmouseover" not in html, path
    page = client.get(f"/articles/{art['id']}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_pages_javascript_urls_are_refused_and_never_linked(client: TestClient) -> None:
    for field in ("url", "image_url"):
        r = client.post(
            "/api/articles",
            json={"title": "Link test", "text": "BYD text", field: "javascript:alert(1)"},
            headers=ADMIN,
        )
        assert r.status_code == 422, field
        assert field in r.text
    assert safe_url("javascript:alert(1)") is None
    assert safe_url(" JaVaScRiPt:alert(1)") is None
    assert safe_url("data:text/html,x") is None
    assert safe_url("https://cnevpost.com/a") == "https://cnevpost.com/a"


def test_pages_security_headers_and_static(client: TestClient) -> None:
    r = client.get("/")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    css = client.get("/static/style.css")
    assert css.status_code == 200 and ".chip.about" in css.text
    assert client.get("/static/filter.js").status_code == 200
    assert "cdn" not in r.text.lower()
