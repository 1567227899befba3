"""Operations metrics on a given prometheus registry (never the global one): poll outcomes and
latency, observed as the poller stores each batch, and queue depths read from the database at
scrape time (``evwire.store.status``).

    metrics = PollMetrics(registry)
    poller.observer = metrics.observe          # Poller calls it with each stored batch
    registry.register(QueueCollector(services))
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from evwire.store.status import queue_depths

log = logging.getLogger(__name__)
POLL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
GAUGES = {
    "feeds_due": "Active feeds whose next poll time has passed",
    "feeds_in_error": "Feeds whose last poll failed",
    "outbox_pending": "Alerts waiting to be sent (outbox rows pending)",
    "outbox_sending": "Alerts claimed by a sender right now",
    "outbox_failed": "Alerts that failed for good",
    "outbox_due": "Pending alerts whose send time has passed",
    "outbox_oldest_pending_seconds": "Age of the oldest pending alert, in seconds",
}


class PollMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.polls = Counter(
            "evwire_feed_polls",
            "Feed polls by outcome (ok, not_modified, error)",
            ["outcome"],
            registry=registry,
        )
        self.errors = Counter(
            "evwire_feed_poll_errors", "Feed polls that ended in an error", registry=registry
        )
        self.latency = Histogram(
            "evwire_feed_poll_duration_seconds",
            "Network time of one feed fetch, redirects included",
            buckets=POLL_BUCKETS,
            registry=registry,
        )

    def observe(self, polls: Sequence[Any], errors: dict[int, str]) -> None:
        """``polls``: the poller's FeedPoll batch; ``errors``: feed id -> error recorded for it."""
        for poll in polls:
            result = poll.result
            self.latency.observe(max(0.0, float(result.elapsed or 0.0)))
            if poll.job.id in errors:
                self.errors.inc()
                self.polls.labels("error").inc()
            elif result.not_modified:
                self.polls.labels("not_modified").inc()
            else:
                self.polls.labels("ok").inc()


class QueueCollector(Collector):
    """Queue depths and lag, read from the database at scrape time."""

    def __init__(self, services: Any) -> None:
        self.services = services

    def collect(self) -> Iterator[Metric]:
        from evwire.pipeline import utcnow

        try:
            with self.services.db.session() as session:
                values = queue_depths(session, utcnow())
        except Exception:  # noqa: BLE001 - a scrape must not fail because the DB is down
            log.warning("metrics: queue depths not readable", exc_info=True)
            return
        for name, value in values.items():
            yield GaugeMetricFamily(f"evwire_{name}", GAUGES.get(name, name), value=value)
