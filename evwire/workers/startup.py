"""Opening services in a worker: migrations and the catalog sync done by one process at a time."""

from __future__ import annotations

import logging
import os
import socket

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from evwire.pipeline import Services, catalog_hash, load_active_catalog, open_services
from evwire.settings import Settings
from evwire.store.companies import stored_catalog_hash
from evwire.store.db import alembic_config

log = logging.getLogger(__name__)
STARTUP_LOCK = 0x65767769  # pg advisory lock key held while a process migrates and syncs the catalog


def default_worker_id() -> str:
    """``host:pid``: unique among live workers (the sender's claims use the same form)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _up_to_date(conn, settings: Settings) -> bool:  # noqa: ANN001 - a Connection
    """Schema at the newest revision and the catalog file already synced."""
    head = ScriptDirectory.from_config(alembic_config(settings.db_url)).get_current_head()
    if MigrationContext.configure(conn).get_current_revision() != head:
        return False
    from sqlalchemy.orm import Session

    catalog, _path = load_active_catalog(settings)
    with Session(bind=conn) as session:
        return stored_catalog_hash(session) == catalog_hash(catalog)


def open_services_once(settings: Settings) -> Services:
    """``open_services`` for one of many processes. On PostgreSQL, when the schema or the catalog
    needs work, one process at a time does it (an advisory lock), so N workers started together do
    not race; when all is up to date (the usual restart) nothing is locked."""
    if not settings.db_url.startswith("postgresql"):
        return open_services(settings)
    engine = create_engine(settings.db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if _up_to_date(conn, settings):
                conn.rollback()
                return open_services(settings, migrate=False)
            conn.rollback()
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": STARTUP_LOCK})
            conn.commit()
            try:
                return open_services(settings)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": STARTUP_LOCK})
                conn.commit()
    finally:
        engine.dispose()
