"""Benchmark workloads for `shequn bench`: each measures Shequn and, in the same run, a
baseline, and reports both with their ratio."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shequn.bench.ingest import bench_ingest
from shequn.moderation.bench import bench_scan

Workload = Callable[..., dict[str, Any]]


def bench_moderation(**_: Any) -> dict[str, Any]:
    return bench_scan()


WORKLOADS: dict[str, Workload] = {
    "ingest": bench_ingest,
    "moderation": bench_moderation,
}


def run_workload(name: str, **options: Any) -> dict[str, Any]:
    return WORKLOADS[name](**options)
