"""The quality benchmark: labelled files, folds, figures, and the command that prints them."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from shequn.cli import app
from shequn.moderation.quality import (
    LabelError,
    Labelled,
    bench_quality,
    content_judge,
    measure,
    parse_labelled,
    split_folds,
)

# Written for these tests: a few ads of different kinds and clean chat close to them.
LINES = [
    "# label<TAB>text",
    "1\t看片加 2591 1478 口",
    "1\t低息贷款当天到账，不看征信，有需要的私聊",
    "spam\t大额出U 联系 @vip_kefu888 咨询",
    "1\t频道 t.me/xiangmu8888 每日更新项目",
    "1\t今天天气真好",  # label noise: an "ad" nothing should catch
    "0\t我刚下单了，订单号 2026112212345678",
    "0\t教程在 youtube.com/watch?v=abc",
    "clean\t键盘敲得啪啪啪的",
    "0\t明天下午三点开会",
    "",
]


def test_labelled_lines() -> None:
    rows = parse_labelled(LINES)
    assert len(rows) == 9 and sum(r.spam for r in rows) == 5
    with pytest.raises(LabelError, match="line 2"):
        parse_labelled(["0\tok", "maybe\tno"])


def test_folds_split_by_text_the_same_way_every_time() -> None:
    rows = [Labelled(i % 2 == 0, f"message {i}") for i in range(100)]
    parts = split_folds(rows, 3)
    assert sum(len(p) for p in parts) == 100 and all(parts)
    # By text, not by position: the same messages in another order fall in the same folds.
    again = split_folds(list(reversed(rows)), 3)
    assert [{r.text for r in p} for p in parts] == [{r.text for r in p} for p in again]


def test_measure_counts_catches_misses_and_false_positives() -> None:
    report = measure(parse_labelled(LINES), content_judge(None))
    figures = report.as_json()
    assert (figures["spam"], figures["clean"]) == (5, 4)
    assert figures["recall"] == 0.8
    assert figures["false_positive_rate"] == 0.0
    assert "今天天气真好" in figures["worst_misses"]
    assert {"qq", "telegram", "link"} <= set(figures["caught_by"])


def test_bench_quality_reports_each_path(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.tsv"
    corpus.write_text("\n".join(LINES), encoding="utf-8")
    results = bench_quality(corpus)
    assert [r["path"] for r in results] == ["rules", "member", "newcomer"]
    rules, member, _ = results
    assert member["recall"] >= rules["recall"]
    assert member["models"] and member["models"][0].startswith("lr-")
    folded = bench_quality(corpus, folds=2)
    assert folded[0]["training"] == "2-fold cross-validation" and len(folded[1]["models"]) == 2


def test_the_command(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.tsv"
    corpus.write_text("\n".join(LINES), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["bench", "moderation-quality", "--corpus", str(corpus), "--train", str(corpus)]
    )
    assert result.exit_code == 0, result.output
    lines = [orjson.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [line["path"] for line in lines] == ["rules", "member", "newcomer"]
    assert lines[1]["training"] == "corpus.tsv"
    missing = CliRunner().invoke(app, ["bench", "moderation-quality"])
    assert missing.exit_code != 0
