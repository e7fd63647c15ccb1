"""The `wecom-callback` benchmark workload runs and reports in the common shape."""

from __future__ import annotations

from shequn.bench import WORKLOADS
from shequn.bench.wecom import bench_wecom_callback


def test_wecom_callback_workload_small() -> None:
    assert WORKLOADS["wecom-callback"] is bench_wecom_callback
    result = bench_wecom_callback(size=40, clients=2)
    assert result["workload"] == "wecom-callback" and result["callbacks"] == 40
    assert result["rate"] > 0 and result["baseline_rate"] > 0 and result["ratio"] > 0
    assert result["p99_ms"] > 0 and result["cpu_seconds"] >= 0
