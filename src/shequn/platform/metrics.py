"""Prometheus metrics of this process."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
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

    def __init__(self, count: Callable[[], Iterable[tuple[str, int]]]) -> None:
        self.count = count

    def collect(self) -> Iterator[Any]:
        family = GaugeMetricFamily(
            "shequn_actions", "Actions in the outbox by status", labels=["status"]
        )
        for status, count in self.count():
            family.add_metric([status], count)
        yield family


_watched: list[_ActionsByStatus] = []


def watch_actions(count: Callable[[], Iterable[tuple[str, int]]]) -> None:
    """Report the outbox's actions by status, as `count` reads them (the engine's)."""
    for collector in _watched:
        registry.unregister(collector)
    _watched.clear()
    collector = _ActionsByStatus(count)
    registry.register(collector)
    _watched.append(collector)
