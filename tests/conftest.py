"""Shared fixtures: real databases (SQLite file and PostgreSQL schema), settings in a temp folder.

``db`` runs a test once on SQLite and once on PostgreSQL (``EVWIRE_TEST_PG_URL``, default the local
server at 127.0.0.1:5432/test). Each PostgreSQL run gets its own schema, dropped afterwards; where
no PostgreSQL answers, the PG run is skipped with a message that says so.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from evwire.settings import Settings
from evwire.store.db import Database
from evwire.tag.catalog import Catalog, load_catalog

PG_URL = os.environ.get("EVWIRE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SAMPLE_ARTICLE = SHARED / "seed" / "sample-article.txt"
CORPUS = SHARED / "corpus" / "articles.jsonl"


def _pg_available() -> str | None:
    try:
        engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server to test against"
        return f"PostgreSQL not reachable at {PG_URL} ({type(exc).__name__}); PG tests skipped"


_PG_SKIP = _pg_available()


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and _PG_SKIP:
        pytest.skip(_PG_SKIP)
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'evwire.db'}"
        return
    with pg_schema("t") as url:
        yield url


@contextmanager
def pg_schema(prefix: str) -> Iterator[str]:
    """A fresh schema on the test PostgreSQL, dropped afterwards; yields a URL whose search_path is it."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        admin_token="test-admin-token-123",
        base_url="http://127.0.0.1:8000",
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings)
    yield database
    database.dispose()
