"""Migrations: upgrade from empty on each backend, then the schema matches the models (alembic check)."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory

from evwire.store.db import alembic_config, upgrade_db


def test_migrations_single_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"migrations have several heads: {heads}"


def test_migrations_upgrade_from_empty_matches_models(database_url: str) -> None:
    upgrade_db(database_url)
    # raises if the models and the migrated schema differ
    command.check(alembic_config(database_url))
