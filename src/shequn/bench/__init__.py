"""Benchmark workloads for `shequn bench`: each measures Shequn and, in the same run, a
baseline, and reports both with their ratio."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shequn.bench.ingest import bench_ingest

Workload = Callable[..., dict[str, Any]]

WORKLOADS: dict[str, Workload] = {
    "ingest": bench_ingest,
}


def run_workload(name: str, **options: Any) -> dict[str, Any]:
    return WORKLOADS[name](**options)
