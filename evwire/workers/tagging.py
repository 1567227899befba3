"""The ``tag`` role: keeps stored tags in step with the catalog file.

Every ``idle`` seconds it reloads the active catalog; when it changed since the last sync (the
hash stored in the database), one worker (a transaction-scoped advisory lock on PostgreSQL)
syncs the channels and re-tags the stored articles, and this process swaps in the new tagger.
Polling tags new articles itself; this role only catches up after catalog edits.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text

from evwire.pipeline import Services, catalog_hash, load_active_catalog, retag_articles
from evwire.store.companies import record_catalog_hash, stored_catalog_hash, sync_catalog
from evwire.tag.tagger import Tagger

log = logging.getLogger(__name__)
RETAG_LOCK = 0x65767431


class CatalogWatcher:
    def __init__(self, services: Services, *, idle: float = 30.0) -> None:
        self.services = services
        self.idle = idle

    def check_once(self) -> dict[str, int] | None:
        """Sync and re-tag if the catalog file changed; returns the counts, or None if nothing to do."""
        catalog, path = load_active_catalog(self.services.settings)
        digest = catalog_hash(catalog)
        counts = None
        with self.services.db.session() as session:
            if session.get_bind().dialect.name == "postgresql":
                got = session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": RETAG_LOCK})
                if not got:
                    return None  # another tag worker is at it
            if stored_catalog_hash(session) != digest:
                tagger = Tagger(catalog)
                counts = sync_catalog(session, catalog)
                counts["retagged"] = retag_articles(session, tagger)
                record_catalog_hash(session, digest)
                log.info("catalog synced: %s", counts)
        if catalog_hash(self.services.catalog) != digest:
            self.services.catalog, self.services.tagger, self.services.catalog_path = (
                catalog,
                Tagger(catalog),
                path,
            )
        return counts

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.check_once)
            except Exception:  # noqa: BLE001 - the loop outlives any one check
                log.exception("catalog check failed; retrying later")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.idle)
            except TimeoutError:
                pass
