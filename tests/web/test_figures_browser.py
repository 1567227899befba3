"""A real browser (Playwright + Debian chromium) draws the Xiaomi channel's chart from the shipped CSV
with the vendored Vega-Lite: one bar per month and year with data; without JavaScript the page shows
the server-rendered SVG instead."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import httpx
import pytest

from evwire.settings import Settings
from evwire.store.db import Database
from evwire.store.figures import load_shipped_figures, shipped_figures_path
from evwire.store.tables import utcnow
from tests.web import test_browser as browser_tests
from tests.web.conftest import ADMIN, sample_payload

live_app = browser_tests.live_app  # the uvicorn-on-port-0 fixture, reused
pytestmark = browser_tests.pytestmark


def _expected_bars() -> set[tuple[str, str]]:
    """(month label, year) of every company-wide monthly actual of Xiaomi 2024-2025 in the shipped CSV."""
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    with shipped_figures_path().open(encoding="utf-8") as fh:
        return {
            (months[int(r["period"][5:7]) - 1], r["period"][:4])
            for r in csv.DictReader(fh)
            if r["company"] == "xiaomi"
            and r["metric"] == "deliveries"
            and r["kind"] == "actual"
            and not r["scope"]
            and re.fullmatch(r"202[45]-\d\d", r["period"])
        }


def _load_figures(tmp_path: Path) -> None:
    db = Database(Settings(data_dir=tmp_path / "data"), migrate=False)
    try:
        with db.session() as session:
            load_shipped_figures(session, now=utcnow())
    finally:
        db.dispose()


def test_figures_browser_xiaomi_chart_has_a_bar_per_month_and_year(live_app: str, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    _load_figures(tmp_path)
    posted = httpx.post(f"{live_app}/api/articles", json=sample_payload(), headers=ADMIN, timeout=30)
    assert posted.status_code == 201, posted.text
    expected = _expected_bars()
    assert len(expected) >= 15  # Xiaomi delivered from April 2024; two months are gaps
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(browser_tests.CHROMIUM), args=browser_tests.CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(f"{live_app}/channels/xiaomi")
            box = page.locator("figure.chart", has=page.locator("#fig-yoy"))
            box.and_(page.locator(".vl-drawn")).wait_for(timeout=20_000)
            bars = page.locator("#fig-yoy svg .mark-rect path")
            labels = bars.evaluate_all("els => els.map(e => e.getAttribute('aria-label') || '')")
            drawn = set()
            for label in labels:
                fields = dict(part.split(": ", 1) for part in label.split("; ") if ": " in part)
                drawn.add((fields.get("label"), fields.get("year")))
            assert len(labels) == len(expected), labels
            assert drawn == expected
            assert "Xiaomi monthly deliveries 2024 vs 2025" in page.locator("#fig-yoy svg").text_content()
            # the year's total against its target: 2026's 550,000 target is drawn
            assert "target 550,000" in page.locator("#fig-progress svg").text_content()
            # table view and CSV beside the chart
            assert box.locator("details.chart-table table tbody tr").count() == 12
            assert box.get_by_role("link", name="CSV").get_attribute("href") == "/channels/xiaomi/figures.csv"
            assert all(u.startswith(live_app) for u in requests), [
                u for u in requests if not u.startswith(live_app)
            ]

            nojs = browser.new_page(java_script_enabled=False)
            nojs.goto(f"{live_app}/channels/xiaomi")
            img = nojs.locator("figure.chart noscript img").first
            assert img.count() == 1 or nojs.locator("img[src^='/channels/xiaomi/chart.svg']").count() >= 1
            loaded = nojs.evaluate(
                "() => Promise.all([...document.querySelectorAll(\"img[src^='/channels/xiaomi/chart.svg']\")]"
                ".map(i => i.decode().then(() => i.naturalWidth)))"
            )
            assert loaded and all(w > 0 for w in loaded)
        finally:
            browser.close()
    assert errors == [], errors
