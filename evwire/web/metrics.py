"""Prometheus metrics of one app: its own CollectorRegistry (no global state)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from evwire.pipeline import Services
from evwire.store.queries import site_counts

log = logging.getLogger(__name__)
BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.04, 0.06, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class _StoreCollector(Collector):
    """Article and company counts, read from the database at scrape time."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def collect(self) -> Iterator[Metric]:
        try:
            with self.services.db.session() as session:
                articles, companies = site_counts(session)
        except Exception:  # noqa: BLE001 - a scrape must not fail because the DB is down
            log.warning("metrics: database not reachable", exc_info=True)
            return
        yield GaugeMetricFamily("evwire_articles", "Articles stored", value=articles)
        yield GaugeMetricFamily("evwire_companies", "Companies (channels) in the catalog", value=companies)


class WebMetrics:
    def __init__(self, services: Services) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "evwire_http_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "evwire_http_request_duration_seconds",
            "HTTP request latency by method and route template",
            ["method", "route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_StoreCollector(services))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)
