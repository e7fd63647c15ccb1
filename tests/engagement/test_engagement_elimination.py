"""Elimination and revival: period points against a baseline, exemptions and grace, removal
or a staff task, the announcement, revival within the window, overrides and replay."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from sqlalchemy import Engine

import shequn.engagement.elimination  # noqa: F401  (registers the rules and export)
from shequn.community.service import do_apply_config
from shequn.community.workspace import WorkspaceInfo
from shequn.config import community as community_config
from shequn.engine.ingest import tick
from shequn.engine.service import do_ingest_events
from shequn.events import Event
from shequn.exports import write_export
from shequn.platform.db import transaction
from tests.conftest import create_workspace
from tests.factories import event, joined, posted

SH = ZoneInfo("Asia/Shanghai")
D0 = datetime(2026, 11, 2, 9, 0, tzinfo=SH)  # a Monday; periods end on Sundays at 21:00
END = D0 + timedelta(days=6, hours=12)  # Sunday 11-08 21:00; the one before only measures


def rows(engine: Engine, ws: WorkspaceInfo, kind: str) -> list[dict[str, Any]]:
    buf = io.BytesIO()
    with engine.connect() as conn:
        write_export(conn, ws, kind, "jsonl", buf)
    return [orjson.loads(x) for x in buf.getvalue().splitlines()]


def robot_actions(engine: Engine, ws: WorkspaceInfo) -> list[dict[str, Any]]:
    rules = ("engagement.elimination", "engagement.revival")
    return [a for a in rows(engine, ws, "actions") if a["rule"] in rules]


@pytest.fixture
def scoped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let blueprints and groups set the elimination section, as the wiring does
    (`shequn.config.community.GROUP_SCOPED`)."""
    monkeypatch.setattr(
        community_config, "GROUP_SCOPED", community_config.GROUP_SCOPED | {"elimination"}
    )


def configure(
    engine: Engine, ws: WorkspaceInfo, groups: dict[str, Any] | None = None, **extra: Any
) -> WorkspaceInfo:
    doc: dict[str, Any] = {
        "groups": groups or {},
        "elimination": {
            "enabled": True,
            "threshold": 10,
            "grace_days": 3,
            "revival": {"task": "poster", "window_hours": 48},
            **extra,
        },
        "roles": {"staff": ["staff-1"]},
    }
    with transaction(engine) as conn:
        return do_apply_config(conn, ws.slug, doc)


def a_week() -> list[Event]:
    """Members arrive on the Thursday before: the first Sunday takes baselines."""
    long_ago = D0 - timedelta(days=4)
    evs = [event("group.created", "g-1", at=long_ago, name="打卡群", owner="owner-1")]
    evs += [event("group.created", "w-1", at=long_ago, name="企微群", channel="wecom")]
    evs += [joined(m, at=long_ago, nickname=f"昵称{m}") for m in ("u-1", "u-2", "u-3", "staff-1")]
    evs += [joined("w-9", "w-1", at=long_ago, channel="wecom")]
    evs += [posted("owner-1", "本周打卡开始", at=D0)]
    evs += [posted("w-0", "大家好", "w-1", at=D0, channel="wecom")]
    for d in range(7):  # u-1 checks in every day: 10 points + 1 for the message
        evs.append(posted("u-1", "签到", at=D0 + timedelta(days=d, hours=1)))
    evs += [posted("u-2", f"闲聊{i}", at=D0 + timedelta(days=3, minutes=i)) for i in range(3)]
    evs += [joined("u-new", at=D0 + timedelta(days=5))]  # still in the grace period
    return sorted(evs, key=lambda e: e.at)


def test_members_below_the_threshold_are_eliminated_after_a_baseline_period(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = configure(engine, workspace)
    do_ingest_events(engine, ws, a_week())
    tick(engine, ws, END - timedelta(minutes=1))
    assert robot_actions(engine, ws) == []  # the first period only takes baselines
    tick(engine, ws, END)
    acts = robot_actions(engine, ws)
    removals = sorted(
        (a["channel"], a["group"], a["member"], a["status"], a["reason"])
        for a in acts
        if a["kind"] == "member.remove"
    )
    assert removals == [
        ("sandbox", "g-1", "u-2", "pending", "淘汰：本期积分 3，低于 10"),
        ("sandbox", "g-1", "u-3", "pending", "淘汰：本期积分 0，低于 10"),
        # WeCom cannot remove: staff do it. w-0 first spoke this period: no baseline yet.
        ("wecom", "w-1", "w-9", "staff_task", "淘汰：本期积分 0，低于 10"),
    ]
    (announce,) = [a for a in acts if a["kind"] == "message.send" and a["group"] == "g-1"]
    assert "@昵称u-3 @昵称u-2" in announce["data"]["text"]
    assert "48 小时内分享活动海报即可复活" in announce["data"]["text"]
    log = rows(engine, ws, "eliminations")
    assert [(e["member"], e["points"], e["period"]) for e in log if e["group"] == "g-1"] == [
        ("u-2", 3, "2026-11-08"),
        ("u-3", 0, "2026-11-08"),
    ]


def test_revival_within_the_window_only(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = configure(engine, workspace)
    later = [
        event("poster.shared", None, "u-2", at=END + timedelta(hours=20), campaign="c1"),
        event("poster.shared", None, "u-3", at=END + timedelta(hours=49), campaign="c1"),
    ]
    do_ingest_events(engine, ws, [*a_week(), *later])
    revivals = [a for a in robot_actions(engine, ws) if a["rule"] == "engagement.revival"]
    assert [(a["member"], a["group"], a["kind"], a["status"]) for a in revivals] == [
        ("u-2", "g-1", "staff.task", "staff_task")
    ]
    assert "重新拉入群「打卡群」" in revivals[0]["data"]["task"]
    log = {e["member"]: e for e in rows(engine, ws, "eliminations")}
    assert log["u-2"]["revived_by"] == later[0].id and log["u-3"]["revived_at"] is None


def test_group_overrides_and_the_balance_metric(
    engine: Engine, workspace: WorkspaceInfo, scoped: None
) -> None:
    ws = configure(
        engine,
        workspace,
        metric="balance",
        threshold=5,
        grace_days=5,  # everyone is new at the first Sunday
        groups={"overrides": {"w-1": {"settings": {"elimination": {"enabled": False}}}}},
        announce=False,
    )
    do_ingest_events(engine, ws, a_week())
    tick(engine, ws, END)
    acts = robot_actions(engine, ws)
    assert sorted((a["group"], a["member"]) for a in acts) == [("g-1", "u-2"), ("g-1", "u-3")]


def test_replay_in_any_batches_eliminates_the_same(engine: Engine) -> None:
    evs = [
        *a_week(),
        event("poster.shared", None, "u-2", at=END + timedelta(hours=1), campaign="c"),
    ]
    results = []
    for batch_size in (5000, 1):
        ws = configure(engine, create_workspace(engine))
        do_ingest_events(engine, ws, evs, batch_size=batch_size)
        results.append(
            (
                [
                    (a["kind"], a["group"], a["member"], a["reason"], a["decided_at"])
                    for a in robot_actions(engine, ws)
                ],
                [{k: v for k, v in e.items()} for e in rows(engine, ws, "eliminations")],
            )
        )
    assert results[0] == results[1]
    assert len(results[0][1]) == 3
