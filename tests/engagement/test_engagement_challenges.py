"""Check-in challenges, spending points, leaderboards, and newcomers' links and media."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
import pytest
from sqlalchemy import Engine

from shequn.community.service import do_apply_config
from shequn.community.workspace import WorkspaceInfo
from shequn.engagement.service import do_spend_points, leaderboard
from shequn.engine.service import do_ingest_events
from shequn.exports import write_export
from shequn.platform.db import transaction
from shequn.platform.errors import Conflict
from tests.factories import NOW, joined, posted

SH = ZoneInfo("Asia/Shanghai")
DAY0 = datetime(2026, 11, 1, 8, 0, tzinfo=SH)


def rows(engine: Engine, ws: WorkspaceInfo, kind: str) -> list[dict]:
    buf = io.BytesIO()
    with engine.connect() as conn:
        write_export(conn, ws, kind, "jsonl", buf)
    return [orjson.loads(x) for x in buf.getvalue().splitlines()]


def test_challenge_rewards_once(engine: Engine, workspace: WorkspaceInfo) -> None:
    doc = {
        "checkin": {
            "challenges": [
                {"name": "三天打卡", "checkins": 3, "within_days": 4, "reward_points": 50,
                 "staff_task": "退还课程费用"}
            ]
        }
    }  # fmt: skip
    with transaction(engine) as conn:
        ws = do_apply_config(conn, workspace.slug, doc)
    days = [0, 2, 3, 4, 5]  # day 1 skipped: the 3rd check-in within 4 days is on day 3
    evs = [joined("u-1", at=DAY0 - timedelta(days=1))]
    evs += [posted("u-1", "打卡", at=DAY0 + timedelta(days=d)) for d in days]
    evs += [posted("u-2", "打卡", at=DAY0 + timedelta(days=d)) for d in (0, 2, 5)]  # too slow
    do_ingest_events(engine, ws, evs)
    rewards = [r for r in rows(engine, ws, "points") if r["kind"] == "challenge"]
    assert [(r["member"], r["delta"]) for r in rewards] == [("u-1", 50)]
    assert rewards[0]["at"] == "2026-11-04T00:00:00Z"  # day 3, 08:00 in Shanghai
    tasks = [a for a in rows(engine, ws, "actions") if a["kind"] == "staff.task"]
    assert len(tasks) == 1 and "退还课程费用" in tasks[0]["reason"]


def test_spending_points_is_idempotent_and_bounded(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    evs = [joined("u-1", at=DAY0)] + [
        posted("u-1", "签到", at=DAY0 + timedelta(days=d)) for d in range(3)
    ]
    do_ingest_events(engine, workspace, evs)
    balance = rows(engine, workspace, "levels")[0]["balance"]
    spend = dict(
        channel="sandbox", member="u-1", amount=20, reason="兑换蛋糕券", key="order-9", now=NOW
    )
    with transaction(engine) as conn:
        first = do_spend_points(conn, workspace, **spend)  # type: ignore[arg-type]
    with transaction(engine) as conn:
        again = do_spend_points(conn, workspace, **spend)  # type: ignore[arg-type]
    assert (first["balance"], again["duplicate"]) == (balance - 20, True)
    with transaction(engine) as conn, pytest.raises(Conflict, match="fewer than"):
        do_spend_points(conn, workspace, **{**spend, "amount": 10_000, "key": "x"})  # type: ignore[arg-type]
    levels = rows(engine, workspace, "levels")[0]
    assert levels["balance"] == balance - 20 and levels["earned"] >= balance


def test_leaderboards(engine: Engine, workspace: WorkspaceInfo) -> None:
    evs = [posted("a", "签到", at=DAY0 + timedelta(days=d)) for d in range(3)]
    evs += [posted("b", "签到", at=DAY0)] + [posted("b", f"聊{i}", at=DAY0) for i in range(9)]
    evs.sort(key=lambda e: e.at)
    do_ingest_events(engine, workspace, evs)
    with engine.connect() as conn:
        by_streak = leaderboard(conn, workspace, "streak")
        by_points = leaderboard(conn, workspace, "points")
    assert [(r["member"], r["streak"]) for r in by_streak] == [("a", 3), ("b", 1)]
    assert [r["member"] for r in by_points] == ["a", "b"]
    assert by_points[0]["rank"] == 1


def test_newcomers_cannot_post_links_or_media_at_first(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    evs = [
        joined("new", at=DAY0),
        posted("new", None, at=DAY0 + timedelta(hours=1), kind="image", message_id="m-img"),  # type: ignore[arg-type]
        posted("new", "看看", at=DAY0 + timedelta(hours=2)),
        posted("new", None, at=DAY0 + timedelta(hours=25), kind="image", message_id="m-late"),  # type: ignore[arg-type]
    ]
    do_ingest_events(engine, workspace, evs)
    held = [a for a in rows(engine, workspace, "actions") if a["rule"] == "moderation.newcomers"]
    assert [a["kind"] for a in held] == ["message.delete", "message.send"]
    assert held[0]["data"]["message_id"] == "m-img"
    assert "24 小时" in held[1]["data"]["text"]
