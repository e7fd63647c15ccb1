"""Learning from the operator: imported samples retrain the classifier before the next
message, the decision names the model, and newcomers' weak findings count."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
from sqlalchemy import Engine
from typer.testing import CliRunner

from shequn.cli import app
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.service import do_ingest_events
from shequn.exports import write_export
from shequn.moderation import service
from shequn.platform.db import transaction
from shequn.settings import Settings
from tests.factories import NOW, T0, joined, minutes, posted

# Written for this test: an airdrop scam the word lists and the starter model do not know.
SPAM = [f"{c}空投活动第{i}期开始，连接钱包即可领取{i * 50}枚" for i in range(1, 16) for c in "AB"]
CLEAN = [f"第{i}次提醒大家，钱包助记词不要发给任何人" for i in range(1, 16)] + [
    f"今天第{i}节课讲区块链的原理，作业周五交" for i in range(1, 16)
]
NEW_SPAM = "ETH空投活动第20期开始，连接钱包即可领取900枚"  # the template, reposted


def violations(engine: Engine, ws: WorkspaceInfo) -> list[dict]:
    buf = io.BytesIO()
    with engine.connect() as conn:
        write_export(conn, ws, "violations", "jsonl", buf)
    return [orjson.loads(x) for x in buf.getvalue().splitlines()]


def test_imported_history_retrains_the_classifier_for_the_next_message(
    cli_settings: Settings, engine: Engine, workspace: WorkspaceInfo, tmp_path: Path
) -> None:
    do_ingest_events(engine, workspace, [posted("u-1", NEW_SPAM, at=T0)])
    assert violations(engine, workspace) == []  # the starter model lets it through

    spam_file = tmp_path / "spam.txt"
    spam_file.write_text("\n".join(SPAM) + "\n", encoding="utf-8")
    history = tmp_path / "history.tsv"
    history.write_text("".join(f"clean\t{t}\n" for t in CLEAN), encoding="utf-8")
    runner = CliRunner()
    for args in (
        [str(spam_file), "--label", "spam"],
        [str(history)],
        [str(spam_file), "--label", "spam"],  # the same file again adds nothing
    ):
        result = runner.invoke(
            app, ["moderation", "samples", "import", *args, "-w", workspace.slug]
        )
        assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout)["added"] == 0

    do_ingest_events(engine, workspace, [posted("u-2", NEW_SPAM, at=T0 + minutes(5))])
    (v,) = violations(engine, workspace)
    assert v["member"] == "u-2"
    (scored,) = [f for f in v["findings"] if f["detector"] == "classifier"]
    assert scored["value"].startswith("lr-char13-v1-")  # the decision names the model
    assert "「" in scored["evidence"]


def test_a_bad_sample_file_is_one_line_of_error(
    cli_settings: Settings, workspace: WorkspaceInfo, tmp_path: Path
) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("没有标签的一行\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["moderation", "samples", "import", str(plain), "-w", workspace.slug]
    )
    assert result.exit_code == 2 and "--label" in result.output
    result = CliRunner().invoke(
        app, ["moderation", "samples", "import", str(plain), "--label", "ham", "-w", workspace.slug]
    )
    assert result.exit_code == 2


def test_samples_service_refuses_an_empty_import(engine: Engine, workspace: WorkspaceInfo) -> None:
    import pytest

    from shequn.platform.errors import Invalid

    with transaction(engine) as conn, pytest.raises(Invalid):
        service.do_import_samples(conn, workspace, [], source="t", now=NOW)


def test_a_newcomers_weak_findings_count_a_members_do_not(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    text = "会议纪要放在 example.org/notes 了"  # an unknown domain: a weak finding
    do_ingest_events(
        engine,
        workspace,
        [
            joined("old-1", at=T0 - minutes(3 * 24 * 60)),  # three days ago: a member
            joined("new-1", at=T0),
            posted("old-1", text, at=T0 + minutes(1)),
            posted("new-1", text, at=T0 + minutes(2)),
        ],
    )
    assert [(v["member"], v["detector"]) for v in violations(engine, workspace)] == [
        ("new-1", "link")
    ]
