"""Prometheus metrics of this process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

registry = CollectorRegistry(auto_describe=True)

events_ingested = Counter(
    "shequn_events_ingested", "Events accepted into the log", registry=registry
)
events_duplicate = Counter(
    "shequn_events_duplicate", "Events refused as already stored", registry=registry
)
ingest_latency = Histogram(
    "shequn_ingest_batch_seconds",
    "Time to ingest one batch",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=registry,
)


def record_batch(accepted: int, duplicates: int, seconds: float) -> None:
    events_ingested.inc(accepted)
    events_duplicate.inc(duplicates)
    ingest_latency.observe(seconds)


class _ActionsByStatus:
    """Reads the outbox at scrape time, so every process reports the same truth."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Any]:
        from sqlalchemy import func, select

        from shequn.engine.models import actions

        family = GaugeMetricFamily(
            "shequn_actions", "Actions in the outbox by status", labels=["status"]
        )
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(actions.c.status, func.count()).group_by(actions.c.status)
            ).all()
        for status, count in rows:
            family.add_metric([status], count)
        yield family


_watched: list[_ActionsByStatus] = []


def watch_actions(engine: Any) -> None:
    for collector in _watched:
        registry.unregister(collector)
    _watched.clear()
    collector = _ActionsByStatus(engine)
    registry.register(collector)
    _watched.append(collector)
