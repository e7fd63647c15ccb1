"""Check-in, points for speaking and levels, on real databases."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Engine

from shequn.community.service import do_apply_config
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.service import do_ingest_events
from shequn.exports import write_export
from shequn.platform.db import transaction
from tests.factories import joined, posted

SH = ZoneInfo("Asia/Shanghai")


def rows(engine: Engine, ws: WorkspaceInfo, kind: str) -> list[dict]:
    buf = io.BytesIO()
    with engine.connect() as conn:
        write_export(conn, ws, kind, "jsonl", buf)
    return [orjson.loads(x) for x in buf.getvalue().splitlines()]


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SH)


def test_checkin_days_follow_the_workspace_time_zone(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    # 23:59 and 00:01 Shanghai time are two days, though both are 15:59/16:01 UTC of one day.
    do_ingest_events(
        engine,
        workspace,
        [
            joined("u-1", at=at(20, 9), nickname="小明"),
            posted("u-1", "签到", at=at(21, 23, 59)),
            posted("u-1", "签到", at=at(22, 0, 1)),
            posted("u-1", "打卡 第三天", at=at(22, 8)),  # same day again: nothing
            posted("u-1", "今天不签到", at=at(22, 9)),  # not a check-in
        ],
    )
    checkins = rows(engine, workspace, "checkins")
    assert [(c["day"], c["streak"], c["points"]) for c in checkins] == [
        ("2026-11-21", 1, 10),
        ("2026-11-22", 2, 10),
    ]
    replies = [a for a in rows(engine, workspace, "actions") if a["rule"] == "engagement.checkin"]
    assert len(replies) == 2
    assert "连续签到 2 天" in replies[1]["data"]["text"] and "@小明" in replies[1]["data"]["text"]
    (standing,) = rows(engine, workspace, "levels")
    # 20 for check-ins + 4 messages at 1 point each.
    assert (standing["balance"], standing["streak"], standing["checkins"]) == (24, 2, 2)


def test_streak_bonus_and_broken_streak(engine: Engine, workspace: WorkspaceInfo) -> None:
    evs = [joined("u-1", at=at(1, 8))]
    evs += [posted("u-1", "签到", at=at(1 + d, 8)) for d in range(7)]
    evs += [posted("u-1", "签到", at=at(10, 8))]  # a gap of two days
    do_ingest_events(engine, workspace, evs)
    checkins = rows(engine, workspace, "checkins")
    assert [c["streak"] for c in checkins] == [1, 2, 3, 4, 5, 6, 7, 1]
    assert checkins[6]["points"] == 30  # 10 + the 7-day bonus of 20


def test_message_points_are_capped_per_local_day(engine: Engine, workspace: WorkspaceInfo) -> None:
    evs = [joined("u-1", at=at(1, 8))]
    evs += [posted("u-1", f"消息{i}", at=at(1, 9) + timedelta(minutes=i)) for i in range(15)]
    evs += [posted("u-1", "第二天", at=at(2, 0, 30))]
    do_ingest_events(engine, workspace, evs)
    ledger = rows(engine, workspace, "points")
    assert sum(r["delta"] for r in ledger) == 11
    assert [r["balance"] for r in ledger][-1] == 11
    assert {r["kind"] for r in ledger} == {"message"}


def test_level_up_is_announced_once(engine: Engine, workspace: WorkspaceInfo) -> None:
    with transaction(engine) as conn:
        ws = do_apply_config(
            conn,
            workspace.slug,
            {
                "levels": {
                    "thresholds": [
                        {"name": "新人", "min_points": 0},
                        {"name": "活跃", "min_points": 15},
                    ]
                }
            },
        )
    evs = [joined("u-1", at=at(1, 8), nickname="阿强")]
    evs += [posted("u-1", "签到", at=at(1 + d, 8)) for d in range(3)]
    do_ingest_events(engine, ws, evs)
    ups = [a for a in rows(engine, ws, "actions") if "升级" in a["data"]["text"]]
    assert len(ups) == 1 and "「活跃」" in ups[0]["data"]["text"]
    assert rows(engine, ws, "levels")[0]["level"] == "活跃"


def test_replay_earns_nothing_twice(engine: Engine, workspace: WorkspaceInfo) -> None:
    evs = [joined("u-1", at=at(1, 8)), posted("u-1", "签到", at=at(1, 9))]
    do_ingest_events(engine, workspace, evs)
    before = {k: rows(engine, workspace, k) for k in ("points", "checkins", "levels")}
    do_ingest_events(engine, workspace, evs)
    assert {k: rows(engine, workspace, k) for k in before} == before
