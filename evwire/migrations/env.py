"""Alembic environment: URL from the app's config (store.db.alembic_config), metadata from store.tables."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from evwire.store.tables import Base

config = context.config
target_metadata = Base.metadata

# Full-text search objects are created by raw SQL in the migrations (FTS5 on SQLite, a GIN expression index
# on PostgreSQL); they are not in the metadata, so autogenerate/check must not see them as drift.
SEARCH_OBJECTS = ("articles_fts", "ix_articles_fts")


def include_object(obj, name, type_, reflected, compare_to):
    return not (reflected and name and name.startswith(SEARCH_OBJECTS))


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
