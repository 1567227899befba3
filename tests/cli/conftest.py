"""CLI tests: the real `evwire` app through typer's CliRunner, on the `settings` fixture's database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from evwire.cli.main import app
from evwire.settings import Settings

Run = Callable[..., Result]


def _env(data_dir: Path, database_url: str | None) -> dict[str, str | None]:
    return {
        "EVWIRE_DATA_DIR": str(data_dir),
        "EVWIRE_DATABASE_URL": database_url,
        "EVWIRE_CATALOG_PATH": None,
        "EVWIRE_ADMIN_TOKEN": None,
        "EVWIRE_CONFIG": None,
    }


@pytest.fixture
def cli(settings: Settings) -> Run:
    """Run `evwire ARGS...` against the test database (SQLite and PostgreSQL)."""
    runner = CliRunner()

    def run(*args: str, input: str | bytes | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, env=_env(settings.data_dir, settings.database_url))

    return run


@pytest.fixture
def cli_nodb(tmp_path: Path) -> Run:
    """Run `evwire ARGS...` with only a data dir (commands that need no database)."""
    runner = CliRunner()

    def run(*args: str, input: str | bytes | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, env=_env(tmp_path / "data", None))

    return run
