"""The `livecode` and `poster` benchmark workloads run and report in the common shape."""

from __future__ import annotations

from shequn.bench.livecode import bench_livecode
from shequn.bench.poster import bench_poster

SHAPE = {"workload", "rate", "seconds", "baseline_rate", "baseline_seconds", "ratio", "unit"}


def test_livecode_workload_small() -> None:
    result = bench_livecode(scans=40, clients=4, size=100_000)  # `size` is the ingest's: ignored
    assert set(result) >= SHAPE and result["workload"] == "livecode"
    assert result["scans"] == 40 and result["rate"] > 0 and result["baseline_rate"] > 0


def test_poster_workload_small() -> None:
    result = bench_poster(cold=2, cached=20)
    assert set(result) >= SHAPE and result["workload"] == "poster"
    assert result["cached_rate"] > result["rate"] > 0
