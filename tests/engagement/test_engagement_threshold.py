"""Entry thresholds: approval, task and paid groups hold newcomers until they qualify."""

from __future__ import annotations

import io
from datetime import timedelta

import orjson
import pytest
from sqlalchemy import Engine

from shequn.community.service import NotFound, do_apply_config
from shequn.community.workspace import WorkspaceInfo
from shequn.engagement.threshold import do_decide_admission
from shequn.engine.ingest import tick
from shequn.engine.service import do_ingest_events
from shequn.exports import write_export
from shequn.platform.db import transaction
from tests.factories import NOW, T0, event, joined, minutes


def rows(engine: Engine, ws: WorkspaceInfo, kind: str) -> list[dict]:
    buf = io.BytesIO()
    with engine.connect() as conn:
        write_export(conn, ws, kind, "jsonl", buf)
    return [orjson.loads(x) for x in buf.getvalue().splitlines()]


def threshold_actions(engine: Engine, ws: WorkspaceInfo) -> list[tuple[str, str | None]]:
    return [
        (a["kind"], a["member"])
        for a in rows(engine, ws, "actions")
        if a["rule"] == "engagement.threshold"
    ]


@pytest.fixture
def ws(engine: Engine, workspace: WorkspaceInfo) -> WorkspaceInfo:
    doc = {
        "blueprints": {
            "审核群": {"threshold": {"kind": "approval", "deadline_hours": 12}},
            "任务群": {"threshold": {"kind": "task", "task": "分享活动海报"}},
            "付费群": {"threshold": {"kind": "paid"}},
        },
        "groups": {"overrides": {"g-a": {"blueprint": "审核群"}, "g-t": {"blueprint": "任务群"},
                                 "g-p": {"blueprint": "付费群"}}},
    }  # fmt: skip
    with transaction(engine) as conn:
        return do_apply_config(conn, workspace.slug, doc)


def test_approval_group(engine: Engine, ws: WorkspaceInfo) -> None:
    do_ingest_events(
        engine,
        ws,
        [
            joined("u-ok", group="g-a", at=T0),
            joined("u-no", group="g-a", at=T0),
            joined("u-late", group="g-a", at=T0),
            joined("u-req", group="g-a", at=T0, scene="approval"),  # approved by the channel
        ],
    )
    tasks = sorted(threshold_actions(engine, ws))
    assert tasks == [("staff.task", "u-late"), ("staff.task", "u-no"), ("staff.task", "u-ok")]
    for member, approve in (("u-ok", True), ("u-no", False)):
        with transaction(engine) as conn:
            do_decide_admission(
                conn, ws, channel="sandbox", group="g-a", member=member, approve=approve,
                now=T0 + minutes(30),
            )  # fmt: skip
    with transaction(engine) as conn, pytest.raises(NotFound):
        do_decide_admission(
            conn, ws, channel="sandbox", group="g-a", member="u-ok", approve=True, now=NOW
        )
    tick(engine, ws, T0 + timedelta(hours=13))
    removed = sorted(m for k, m in threshold_actions(engine, ws) if k == "member.remove")
    assert removed == ["u-late", "u-no"]


def test_task_and_paid_groups(engine: Engine, ws: WorkspaceInfo) -> None:
    do_ingest_events(
        engine,
        ws,
        [
            joined("u-1", group="g-t", at=T0, nickname="小明"),
            joined("u-2", group="g-t", at=T0),
            event("poster.shared", None, "u-1", at=T0 + minutes(20), campaign="c-1"),
            joined("u-3", group="g-p", at=T0),
            joined("u-4", group="g-p", at=T0),
            event("order.paid", None, "u-4", at=T0 + minutes(5), order_id="o-1", amount_fen=9900),
            event("order.paid", None, "u-5", at=T0, order_id="o-2", amount_fen=100),
            joined("u-5", group="g-p", at=T0 + minutes(1)),  # paid before joining
        ],
    )
    messages = [a for a in rows(engine, ws, "actions") if a["rule"] == "engagement.threshold"]
    assert "分享活动海报" in messages[0]["data"]["text"]
    tick(engine, ws, T0 + timedelta(hours=25))
    removed = sorted(m for k, m in threshold_actions(engine, ws) if k == "member.remove")
    assert removed == ["u-2", "u-3"]
