"""Flash groups: the engaged are invited to the long-term group before the end; at the end a
farewell, a staff task to archive or dissolve, optional removals and an exported report."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from sqlalchemy import Engine

import shequn.engagement.flash  # noqa: F401  (registers the rules and exports)
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
D0 = datetime(2026, 11, 20, 9, 0, tzinfo=SH)
ENDS = D0 + timedelta(days=2, hours=11)  # 11-22 20:00


def rows(engine: Engine, ws: WorkspaceInfo, kind: str) -> list[dict[str, Any]]:
    buf = io.BytesIO()
    with engine.connect() as conn:
        write_export(conn, ws, kind, "jsonl", buf)
    return [orjson.loads(x) for x in buf.getvalue().splitlines()]


def flash_actions(engine: Engine, ws: WorkspaceInfo) -> list[dict[str, Any]]:
    return [a for a in rows(engine, ws, "actions") if a["rule"] == "engagement.flash"]


@pytest.fixture
def scoped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let blueprints and groups set the flash section, as the wiring does
    (`shequn.config.community.GROUP_SCOPED`)."""
    monkeypatch.setattr(community_config, "GROUP_SCOPED", community_config.GROUP_SCOPED | {"flash"})


def configure(
    engine: Engine, ws: WorkspaceInfo, blueprints: dict[str, Any] | None = None, **flash: Any
) -> WorkspaceInfo:
    doc = {
        "flash": {"long_term_group": "lt-1", "invite_link": "https://t.example/join", **flash},
        "blueprints": blueprints or {},
    }
    with transaction(engine) as conn:
        return do_apply_config(conn, ws.slug, doc)


def a_sale(channel: str = "sandbox", blueprint: str | None = None) -> list[Event]:
    extra = {"blueprint": blueprint} if blueprint else {}
    evs = [
        event("group.created", "lt-1", at=D0 - timedelta(days=30), name="老客群", channel=channel),
        event(
            "group.created",
            "f-1",
            at=D0,
            name="双11快闪群",
            owner="staff-1",
            ends_at=ENDS.isoformat(),
            channel=channel,
            **extra,
        ),
    ]
    evs += [joined("u-3", "lt-1", at=D0 - timedelta(days=10), channel=channel)]
    evs += [
        joined(f"u-{i}", "f-1", at=D0 + timedelta(minutes=i), channel=channel, nickname=f"买家{i}")
        for i in range(1, 6)
    ]
    for i, count in ((1, 3), (2, 5), (3, 4), (4, 1)):
        evs += [
            posted(
                f"u-{i}",
                f"抢到了{k}",
                "f-1",
                channel=channel,
                at=D0 + timedelta(hours=3, minutes=10 * i + k),
            )
            for k in range(count)
        ]
    evs += [posted("staff-1", "秒杀开始", "f-1", at=D0 + timedelta(hours=2), channel=channel)]
    # u-1 follows the invitation before the end.
    evs += [joined("u-1", "lt-1", at=ENDS - timedelta(minutes=30), channel=channel)]
    return sorted(evs, key=lambda e: e.at)


def test_engaged_are_invited_then_the_group_ends_with_a_report(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = configure(engine, workspace)
    do_ingest_events(engine, ws, a_sale())
    tick(engine, ws, ENDS + timedelta(minutes=1))
    acts = flash_actions(engine, ws)
    invite, farewell, task = acts
    assert invite["kind"] == "message.send" and invite["group"] == "f-1"
    assert invite["data"]["mentions"] == ["u-1", "u-2"]  # u-3 is in the long-term group already
    assert "@买家1 @买家2" in invite["data"]["text"] and "老客群" in invite["data"]["text"]
    assert "https://t.example/join" in invite["data"]["text"]
    local = datetime.fromisoformat(invite["decided_at"]).astimezone(SH)
    assert local == ENDS - timedelta(minutes=120)
    assert "归档" in farewell["data"]["text"]
    assert task["kind"] == "staff.task" and task["status"] == "staff_task"
    assert "请归档该群" in task["data"]["task"]
    (report,) = rows(engine, ws, "flash_reports")
    assert {
        k: report[k]
        for k in (
            "members_end",
            "joined",
            "speakers",
            "messages",
            "engaged",
            "invited",
            "converted",
            "end_action",
        )
    } == {
        "members_end": 6,
        "joined": 6,
        "speakers": 5,
        "messages": 14,
        "engaged": 3,
        "invited": 2,
        "converted": 1,
        "end_action": "archive",
    }
    assert [i["member"] for i in rows(engine, ws, "flash_invites")] == ["u-1", "u-2"]


def test_dissolving_by_blueprint_removes_members(
    engine: Engine, workspace: WorkspaceInfo, scoped: None
) -> None:
    ws = configure(
        engine,
        workspace,
        blueprints={
            "sale": {
                "lifecycle": "flash",
                "settings": {
                    "flash": {"end_action": "dissolve", "remove_members": True, "min_messages": 5}
                },
            }
        },
    )
    do_ingest_events(engine, ws, a_sale(blueprint="sale"))
    tick(engine, ws, ENDS)
    acts = flash_actions(engine, ws)
    assert [a["member"] for a in acts if a["kind"] == "message.send" and a["member"]] == []
    invite = acts[0]
    assert invite["data"]["mentions"] == ["u-2"]
    removed = [a["member"] for a in acts if a["kind"] == "member.remove"]
    assert removed == ["u-1", "u-2", "u-3", "u-4", "u-5"]  # the owner stays
    assert any("请解散该群" in a["data"].get("task", "") for a in acts)


def test_dismissed_early_or_elsewhere(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = configure(engine, workspace)
    evs = a_sale(channel="wecom")
    do_ingest_events(engine, ws, evs)
    tick(engine, ws, ENDS - timedelta(minutes=60))
    (invite,) = flash_actions(engine, ws)
    assert invite["status"] == "staff_task" and "@买家1" in invite["data"]["task"]
    do_ingest_events(
        engine,
        ws,
        [event("group.dismissed", "f-1", at=ENDS - timedelta(minutes=10), channel="wecom")],
    )
    tick(engine, ws, ENDS + timedelta(hours=1))
    assert len(flash_actions(engine, ws)) == 1 and rows(engine, ws, "flash_reports") == []


def test_replay_in_any_batches_ends_the_same(engine: Engine) -> None:
    evs = [*a_sale(), posted("u-5", "结束了吗", "lt-1", at=ENDS + timedelta(hours=1))]
    results = []
    for batch_size in (5000, 1):
        ws = configure(engine, create_workspace(engine))
        do_ingest_events(engine, ws, evs, batch_size=batch_size)
        results.append(
            (
                [
                    (a["kind"], a["group"], a["member"], a["data"], a["decided_at"])
                    for a in flash_actions(engine, ws)
                ],
                [{k: v for k, v in r.items()} for r in rows(engine, ws, "flash_reports")],
            )
        )
    assert results[0] == results[1]
    assert len(results[0][0]) == 3 and len(results[0][1]) == 1
