"""Benchmark workloads for `shequn bench`: each measures Shequn and, in the same run, a
baseline, and reports both with their ratio."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shequn.bench.analytics import bench_analytics
from shequn.bench.ingest import bench_ingest
from shequn.bench.livecode import bench_livecode
from shequn.bench.poster import bench_poster
from shequn.bench.wecom import bench_wecom_callback
from shequn.moderation.bench import bench_scan

Workload = Callable[..., dict[str, Any] | list[dict[str, Any]]]


def bench_moderation(**_: Any) -> dict[str, Any]:
    return bench_scan()


WORKLOADS: dict[str, Workload] = {
    "ingest": bench_ingest,
    "moderation": bench_moderation,
    "livecode": bench_livecode,
    "poster": bench_poster,
    "analytics": bench_analytics,
    "wecom-callback": bench_wecom_callback,
}


def run_workload(name: str, **options: Any) -> list[dict[str, Any]]:
    """The workload's results: one JSON object per figure it measures."""
    result = WORKLOADS[name](**options)
    return result if isinstance(result, list) else [result]
