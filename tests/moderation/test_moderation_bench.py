from __future__ import annotations

from shequn.moderation.bench import bench_scan, synthetic_messages, synthetic_words


def test_synthetic_data_is_deterministic() -> None:
    assert synthetic_messages(50, seed=3) == synthetic_messages(50, seed=3)
    assert synthetic_messages(50, seed=3) != synthetic_messages(50, seed=4)
    words = synthetic_words(1000, seed=3)
    assert words == synthetic_words(1000, seed=3)
    assert len(set(words)) == 1000


def test_bench_scan_reports_rates() -> None:
    result = bench_scan(n_messages=2000, n_words=1000, seed=2)
    assert result["workload"] == "moderation"
    assert result["words"] == 1000
    assert result["rate"] > 0 and result["baseline_rate"] > 0
    assert abs(result["ratio"] - result["rate"] / result["baseline_rate"]) < 0.01
    assert 0 < result["flagged_share"] < 0.2
