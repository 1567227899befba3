"""Per-app cache of every channel's article counts (one GROUP BY over the mentions index).

Counting a big channel exactly costs a pass over its index entries on every request; the pages
show counts, not decide anything with them, so a value up to ``ttl`` seconds old is fine. A write
through this app's API drops the cache (``deps.get_session``), so the API and pages agree at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

from sqlalchemy.orm import Session

from evwire.store.channels import mention_counts

Counts = Mapping[int, tuple[int, int]]


class CountCache:
    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self._value: Counts | None = None
        self._at = 0.0
        self._lock = threading.Lock()

    def get(self, session: Session) -> Counts:
        value = self._value
        if value is not None and time.monotonic() - self._at < self.ttl:
            return value
        with self._lock:
            if self._value is None or time.monotonic() - self._at >= self.ttl:
                self._value = mention_counts(session)
                self._at = time.monotonic()
            return self._value

    def invalidate(self) -> None:
        self._value = None
