"""Opening services in a worker: migrations and the catalog sync done by one process at a time."""

from __future__ import annotations

import logging
import os
import socket

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from evwire.pipeline import Services, open_services
from evwire.settings import Settings

log = logging.getLogger(__name__)
STARTUP_LOCK = 0x65767769  # pg advisory lock key held while a process migrates and syncs the catalog


def default_worker_id() -> str:
    """``host-pid``: unique among live workers; claims made by a worker carry it."""
    return f"{socket.gethostname()}-{os.getpid()}"


def open_services_once(settings: Settings) -> Services:
    """``open_services`` (migrate, then sync a changed catalog), serialised across processes on
    PostgreSQL by an advisory lock, so N workers started together do not race on the schema."""
    if not settings.db_url.startswith("postgresql"):
        return open_services(settings)
    engine = create_engine(settings.db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": STARTUP_LOCK})
            conn.commit()
            try:
                return open_services(settings)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": STARTUP_LOCK})
                conn.commit()
    finally:
        engine.dispose()
