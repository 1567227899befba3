"""Figures on the web (SQLite and PostgreSQL): the channel's chart panel with table, CSV and SVG
fallback, chart images, CSV downloads, the compare page, delivery articles, and the JSON API."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from evwire.charts.render import png_size
from evwire.store.figures import load_shipped_figures, replace_extracted_figures
from evwire.store.figures_csv import read_figures_csv
from evwire.store.tables import Article, utcnow
from evwire.tag.types import FactTag
from tests.web.conftest import ADMIN, sample_payload


@pytest.fixture
def fclient(client: TestClient) -> Iterator[TestClient]:
    with client.app.state.services.db.session() as session:  # type: ignore[attr-defined]
        load_shipped_figures(session, now=utcnow())
    yield client


def _spec(html: str, dom_id: str) -> dict:  # type: ignore[type-arg]
    m = re.search(rf'<script type="application/json" id="{dom_id}-spec">(.*?)</script>', html, re.S)
    assert m, f"no spec {dom_id}"
    return json.loads(m.group(1))


def test_figures_channel_page_has_chart_table_csv_and_svg_fallback(fclient: TestClient) -> None:
    html = fclient.get("/channels/xiaomi").text
    assert 'id="charts"' in html
    spec = _spec(html, "fig-yoy")
    assert spec["title"]["text"] == "Xiaomi monthly deliveries 2024 vs 2025"
    pairs = [(v["label"], v["year"]) for v in spec["data"]["values"]]
    assert len(pairs) == len(set(pairs)) == 19  # 8 months of 2024 + 11 of 2025 in the shipped data
    assert '<noscript><img src="/channels/xiaomi/chart.svg?metric=deliveries&amp;chart=yoy"' in html
    assert 'href="/channels/xiaomi/figures.csv"' in html and '<details class="chart-table">' in html
    assert "no figures yet; target 550,000" in html  # the 2026 target in the progress table
    assert 'src="/static/vendor/vega-bundle.js"' in html and "cdn" not in html.lower()
    assert "figures-panel" not in fclient.get("/channels/ford").text  # no data, no chart


def test_figures_vendored_javascript_is_served_locally(fclient: TestClient) -> None:
    r = fclient.get("/static/vendor/vega-bundle.js")
    assert r.status_code == 200 and "window.vegaEmbed" in r.text
    assert fclient.get("/static/figures.js").status_code == 200


def test_figures_chart_images(fclient: TestClient) -> None:
    png = fclient.get("/channels/xiaomi/chart.png?width=640&height=320")
    assert png.headers["content-type"] == "image/png" and png_size(png.content) == (640, 320)
    svg = fclient.get("/channels/tesla/chart.svg?years=2024,2025")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert len(re.findall('aria-roledescription="bar"', svg.text)) == 8  # Tesla: 4 quarters x 2 years
    assert fclient.get("/channels/xiaomi/chart.svg?chart=progress").status_code == 200
    assert fclient.get("/channels/nosuch/chart.svg").status_code == 404
    assert fclient.get("/channels/ford/chart.svg").status_code == 404
    assert fclient.get("/channels/xiaomi/chart.svg?years=24").status_code == 400
    assert fclient.get("/channels/xiaomi/chart.gif").status_code in (400, 404, 422)


def test_figures_csv_downloads_use_the_import_layout(fclient: TestClient, catalog) -> None:  # type: ignore[no-untyped-def]
    r = fclient.get("/channels/xiaomi/figures.csv")
    assert r.headers["content-type"].startswith("text/csv")
    rows = read_figures_csv(r.text, {c.slug for c in catalog})
    assert len(rows) == 33 and {f.company for f in rows} == {"xiaomi"}
    both = read_figures_csv(
        fclient.get("/figures.csv?companies=xiaomi,tesla").text, {c.slug for c in catalog}
    )
    assert len(both) == 43


def test_figures_page_lists_other_sources(fclient: TestClient) -> None:
    html = fclient.get("/channels/xiaomi/figures").text
    assert "Every figure and its sources" in html
    # 2025 target: shown over 400,000; the earlier 350,000 and 300,000 listed as other sources
    assert "350,000 (imported)" in html and "300,000 (imported)" in html
    assert fclient.get("/channels/byd/figures?metric=sales").status_code == 200
    assert fclient.get("/channels/byd/figures?metric=bogus").status_code == 400


def test_figures_compare_page_league_table(fclient: TestClient) -> None:
    html = fclient.get("/figures/compare?companies=byd,tesla,nio&metric=deliveries&month=2025-10").text
    league = html.split('class="figures league"', 1)[1]
    order = re.findall(r'<a href="/channels/([a-z-]+)">', league)
    assert order == ["byd", "nio", "tesla"]  # BYD (sales) 441,706 > NIO 40,397 > Tesla (quarterly: none)
    assert "441,706" in league and "40,397" in league and "no figure" in league
    assert _spec(html, "compare")["data"]["values"]
    assert fclient.get("/figures/compare").status_code == 200
    assert fclient.get("/figures/compare?month=2025-13").status_code == 400
    assert fclient.get("/figures/compare.svg?companies=nio,xpeng").status_code == 200


def test_figures_delivery_article_shows_its_company_chart(fclient: TestClient) -> None:
    created = fclient.post("/api/articles", json=sample_payload(), headers=ADMIN)
    article_id = created.json()["article"]["id"]
    with fclient.app.state.services.db.session() as session:  # type: ignore[attr-defined]
        article = session.get(Article, article_id)
        replace_extracted_figures(
            session, article, [FactTag("xiaomi", "2026", "deliveries", "target", 550000)], now=utcnow()
        )
    html = fclient.get(f"/articles/{article_id}").text
    assert "figures-panel" in html and f'id="art{article_id}-yoy"' in html
    assert "Figures in this article" in html and "550,000" in html
    plain = fclient.post(
        "/api/articles", json={"title": "Ford news", "text": "Ford said hello."}, headers=ADMIN
    )
    assert "figures-panel" not in fclient.get(f"/articles/{plain.json()['article']['id']}").text


def test_figures_api(fclient: TestClient) -> None:
    r = fclient.get("/api/channels/xiaomi/figures")
    assert r.status_code == 200
    body = r.json()
    assert body["main_metric"] == "deliveries" and body["links"]["csv"] == "/channels/xiaomi/figures.csv"
    target = [f for f in body["items"] if f["period"] == "2026" and f["kind"] == "target"]
    assert [(f["value"], f["origin"]) for f in target] == [(550000, "imported")]
    t2025 = next(f for f in body["items"] if f["period"] == "2025" and f["kind"] == "target")
    assert (t2025["value"], t2025["lower_bound"]) == (400000, True)
    assert [o["value"] for o in t2025["other_sources"]] == [350000, 300000]
    one = fclient.get("/api/figures?company=xiaomi&metric=deliveries&period=2025-11").json()["items"]
    assert [(f["company"], f["value"], f["lower_bound"]) for f in one] == [("xiaomi", 46249, False)]
    many = fclient.get("/api/figures?company=byd,tesla&kind=actual").json()["items"]
    assert {f["company"] for f in many} == {"byd", "tesla"}
    assert fclient.get("/api/channels/nosuch/figures").status_code == 404
    assert fclient.get("/api/figures?metric=cars").status_code == 422
    spec = fclient.get("/openapi.json").json()
    assert "/api/channels/{slug}/figures" in spec["paths"] and "/api/figures" in spec["paths"]
    assert {"FigureOut", "FigureSourceOut", "ChannelFiguresOut"} <= set(spec["components"]["schemas"])
