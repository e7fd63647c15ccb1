"""Benchmark workloads for `shequn bench`: each measures Shequn and, in the same run, a
baseline, and reports both with their ratio."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from shequn.bench.analytics import bench_analytics
from shequn.bench.ingest import bench_ingest, bench_ingest_world
from shequn.bench.livecode import bench_livecode
from shequn.bench.poster import bench_poster
from shequn.bench.wecom import bench_wecom_callback
from shequn.moderation.bench import bench_scan
from shequn.moderation.quality import bench_quality

Workload = Callable[..., dict[str, Any] | list[dict[str, Any]]]


def bench_moderation(**_: Any) -> dict[str, Any]:
    return bench_scan()


def bench_moderation_quality(
    corpus: Path, train: Path | None = None, folds: int | None = None, **_: Any
) -> list[dict[str, Any]]:
    return bench_quality(corpus, train, folds)


WORKLOADS: dict[str, Workload] = {
    "ingest": bench_ingest,
    "ingest-world": bench_ingest_world,
    "moderation": bench_moderation,
    "livecode": bench_livecode,
    "poster": bench_poster,
    "analytics": bench_analytics,
    "moderation-quality": bench_moderation_quality,
    "wecom-callback": bench_wecom_callback,
}
# Workloads that measure a file the operator names: run only when asked for.
ON_REQUEST = frozenset({"moderation-quality"})


def run_workload(name: str, **options: Any) -> list[dict[str, Any]]:
    """The workload's results: one JSON object per figure it measures."""
    result = WORKLOADS[name](**options)
    return result if isinstance(result, list) else [result]
