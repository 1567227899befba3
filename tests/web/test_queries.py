"""The read-side queries behind the pages: both channel plans agree, cursors round-trip."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from evwire.store import queries
from tests.web.conftest import ADMIN, post


def test_queries_join_and_scan_plans_return_the_same_pages(client: TestClient) -> None:
    for i in range(12):
        art = post(
            client,
            title=f"Grid note {i}",
            text=f"Charging item {i}.",
            published=f"2025-06-{1 + i % 3:02d}T00:00:00Z",
        )
        if i % 3:
            client.put(f"/api/articles/{art['id']}/channels/nio", json={"role": "about"}, headers=ADMIN)
    services = client.app.state.services
    with services.db.session() as session:
        cid = queries._company_id(session, "nio")
        for before in (None, (datetime(2025, 6, 2, tzinfo=UTC), 10**9)):
            params = {"cid": cid, "role": "about", **queries._keyset_params(before, 3)}
            join = queries._run(session, queries._CHANNEL_JOIN[before is not None], **params)
            scan = queries._run(session, queries._CHANNEL_SCAN[before is not None], **params)
            assert [r.id for r in join] == [r.id for r in scan] and join
        page = queries.channel_articles(session, "nio", limit=100)
        assert page is not None and len(page.items) == 8


def test_queries_cursor_round_trip_and_rejects_garbage() -> None:
    at = datetime(2026, 1, 8, 12, 30, 1, 123456, tzinfo=UTC)
    assert queries.decode_cursor(queries.encode_cursor((at, 42))) == (at, 42)
    for bad in ("", "!!!", "bm9wZQ", "MjAyNnwx"):
        with pytest.raises(ValueError):
            queries.decode_cursor(bad)
