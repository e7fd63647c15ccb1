"""SOP schedules and the content library: calendar and join-relative posts, quiet hours,
per-group overrides, staff tasks where the channel cannot post, and replay."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
import yaml
from sqlalchemy import Engine

import shequn.engagement.sop  # noqa: F401  (registers the rules and the export)
from shequn.community.config import ConfigRejected, check_config
from shequn.community.service import do_apply_config
from shequn.community.workspace import WorkspaceInfo
from shequn.config import community as community_config
from shequn.config.engagement import SopSection
from shequn.engine.ingest import tick
from shequn.engine.service import do_ingest_events
from shequn.exports import write_export
from shequn.platform.db import transaction
from tests.conftest import create_workspace
from tests.factories import event, joined, left, posted

SH = ZoneInfo("Asia/Shanghai")
SUNDAY = datetime(2026, 11, 22, 10, 0, tzinfo=SH)  # 2026-11-22 is a Sunday

LIBRARY = [
    {"id": "tip-1", "kind": "text", "theme": "fan_care", "text": "早安！今天也要元气满满"},
    {"id": "tip-2", "kind": "text", "theme": "fan_care", "text": "早安！记得喝水"},
    {
        "id": "new-mug",
        "kind": "link",
        "theme": "new_product",
        "title": "新品马克杯",
        "url": "https://shop.example.com/mug",
        "text": "新品上架，群友专享价",
    },
    {"id": "poster", "kind": "image", "theme": "festival", "url": "https://cdn.example.com/p.png"},
    {
        "id": "card",
        "kind": "miniprogram",
        "title": "积分商城",
        "appid": "wx123",
        "path": "pages/mall",
    },
    {"id": "hello", "kind": "text", "text": "@{nickname} 欢迎来到{group}，这是新人指南"},
    {"id": "day1", "kind": "text", "text": "@{nickname} 入群第一天，看看群公告吧"},
    {"id": "day3", "kind": "text", "text": "@{nickname} 第三天，来签到领积分"},
]


def rows(engine: Engine, ws: WorkspaceInfo, kind: str) -> list[dict[str, Any]]:
    buf = io.BytesIO()
    with engine.connect() as conn:
        write_export(conn, ws, kind, "jsonl", buf)
    return [orjson.loads(x) for x in buf.getvalue().splitlines()]


def sop_actions(engine: Engine, ws: WorkspaceInfo) -> list[dict[str, Any]]:
    return [a for a in rows(engine, ws, "actions") if a["rule"].startswith("engagement.sop")]


def configure(
    engine: Engine, ws: WorkspaceInfo, sop: dict[str, Any], **extra: Any
) -> WorkspaceInfo:
    with transaction(engine) as conn:
        return do_apply_config(conn, ws.slug, {"sop": {"library": LIBRARY, **sop}, **extra})


def local(a: dict[str, Any]) -> str:
    return datetime.fromisoformat(a["decided_at"]).astimezone(SH).strftime("%a %H:%M")


def groups_created(*names: str, channel: str = "sandbox") -> list[Any]:
    return [event("group.created", g, at=SUNDAY, name=f"群{g}", channel=channel) for g in names]


@pytest.fixture
def scoped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let blueprints and groups set the sop section, as the wiring does
    (`shequn.config.community.GROUP_SCOPED`)."""
    monkeypatch.setattr(community_config, "GROUP_SCOPED", community_config.GROUP_SCOPED | {"sop"})


def test_calendar_posts_in_turn_on_its_days_to_every_group(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = configure(
        engine,
        workspace,
        {
            "calendar": [
                {"name": "morning", "days": ["mon", "wed"], "time": "09:00", "theme": "fan_care"}
            ]
        },
    )
    do_ingest_events(engine, ws, groups_created("g-1", "g-2"))
    tick(engine, ws, SUNDAY + timedelta(days=4))  # through Thursday
    acts = sop_actions(engine, ws)
    assert [(a["group"], local(a), a["data"]["content"]) for a in acts] == [
        ("g-1", "Mon 09:00", "tip-1"),
        ("g-2", "Mon 09:00", "tip-1"),
        ("g-1", "Wed 09:00", "tip-2"),
        ("g-2", "Wed 09:00", "tip-2"),
    ]
    assert acts[0]["kind"] == "message.send" and acts[0]["status"] == "pending"
    assert acts[0]["rule"] == "engagement.sop_calendar"
    assert "morning" in acts[0]["reason"]
    # Ticking again over the same time decides nothing new.
    tick(engine, ws, SUNDAY + timedelta(days=4))
    assert len(sop_actions(engine, ws)) == 4


def test_quiet_hours_shift_posts_and_groups_override(
    engine: Engine, workspace: WorkspaceInfo, scoped: None
) -> None:
    ws = configure(
        engine,
        workspace,
        {
            "quiet_hours": {"start": "22:00", "end": "08:30"},
            "calendar": [
                {"name": "late", "time": "23:00", "content": ["new-mug"], "days": ["sun"]},
            ],
        },
        groups={
            "overrides": {
                "g-2": {"settings": {"sop": {"quiet_hours": {"enabled": False}}}},
                "g-3": {"settings": {"sop": {"enabled": False}}},
            }
        },
    )
    do_ingest_events(engine, ws, groups_created("g-1", "g-2", "g-3"))
    tick(engine, ws, SUNDAY + timedelta(days=1))
    acts = sop_actions(engine, ws)
    assert sorted((a["group"], local(a)) for a in acts) == [
        ("g-1", "Mon 08:30"),  # waited for the end of quiet hours
        ("g-2", "Sun 23:00"),  # this group has none
    ]
    text = acts[0]["data"]["text"]
    assert "新品上架" in text and "https://shop.example.com/mug" in text
    assert acts[0]["data"]["url"] == "https://shop.example.com/mug"


def test_dates_and_chosen_groups_and_staff_task_without_send(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = configure(
        engine,
        workspace,
        {
            "calendar": [
                {
                    "name": "festival",
                    "time": "10:00",
                    "dates": ["2026-11-24", "2026-11-26"],
                    "content": ["poster", "card"],
                    "groups": ["w-1"],
                }
            ]
        },
    )
    # w-1 lives on a channel Shequn cannot post to: the outbox makes staff tasks.
    do_ingest_events(engine, ws, groups_created("w-1", "w-2", channel="wecom"))
    tick(engine, ws, SUNDAY + timedelta(days=10))
    acts = sop_actions(engine, ws)
    assert [(a["group"], a["channel"], a["status"], local(a)) for a in acts] == [
        ("w-1", "wecom", "staff_task", "Tue 10:00"),
        ("w-1", "wecom", "staff_task", "Thu 10:00"),
    ]
    assert "https://cdn.example.com/p.png" in acts[0]["data"]["task"]
    assert acts[1]["data"]["miniprogram"] == {
        "appid": "wx123",
        "path": "pages/mall",
        "title": "积分商城",
    }
    assert "积分商城" in acts[1]["data"]["task"]


def test_journey_follows_each_newcomer_while_they_stay(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = configure(
        engine,
        workspace,
        {
            "journeys": [
                {
                    "name": "newcomer",
                    "steps": [
                        {"day": 0, "delay_minutes": 5, "content": "hello"},
                        {"day": 1, "time": "09:00", "content": "day1"},
                        {"day": 3, "time": "23:30", "content": "day3"},
                    ],
                }
            ]
        },
    )
    evs = [
        *groups_created("g-1"),
        joined("u-1", at=SUNDAY, nickname="小红"),
        joined("u-2", at=SUNDAY + timedelta(minutes=1), nickname="小蓝"),
        left("u-2", at=SUNDAY + timedelta(days=2)),
    ]
    do_ingest_events(engine, ws, evs)
    tick(engine, ws, SUNDAY + timedelta(days=5))
    acts = sorted(sop_actions(engine, ws), key=lambda a: (a["decided_at"], a["member"]))
    got = [(a["member"], local(a), a["data"]["content"]) for a in acts]
    assert got == [
        ("u-1", "Sun 10:05", "hello"),
        ("u-2", "Sun 10:06", "hello"),
        ("u-1", "Mon 09:00", "day1"),
        ("u-2", "Mon 09:00", "day1"),
        ("u-1", "Thu 08:00", "day3"),  # 23:30 is inside quiet hours: the next morning
    ]
    assert acts[0]["data"]["text"] == "@小红 欢迎来到群g-1，这是新人指南"
    assert acts[0]["data"]["mentions"] == ["u-1"]
    assert acts[0]["rule"] == "engagement.sop_journey"


def test_same_history_same_decisions_whatever_the_batches(engine: Engine) -> None:
    sop = {
        "calendar": [{"name": "daily", "time": "12:00", "theme": "fan_care"}],
        "journeys": [{"name": "j", "steps": [{"day": 1, "time": "09:00", "content": "day1"}]}],
    }
    evs = [*groups_created("g-1", "g-2")]
    evs += [
        joined(f"u-{i}", "g-1" if i % 2 else "g-2", at=SUNDAY + timedelta(hours=7 * i))
        for i in range(8)
    ]
    evs += [posted("u-1", "你好", "g-1", at=SUNDAY + timedelta(days=3, hours=1))]
    results = []
    for batch_size in (5000, 1):
        ws = configure(engine, create_workspace(engine), sop)
        do_ingest_events(engine, ws, evs, batch_size=batch_size)
        results.append(
            [
                (
                    a["kind"],
                    a["group"],
                    a["member"],
                    a["rule"],
                    a["reason"],
                    a["data"],
                    a["decided_at"],
                    a["status"],
                )
                for a in sop_actions(engine, ws)
            ]
        )
    assert results[0] == results[1]
    assert len(results[0]) > 10


def test_configuration_is_checked_and_yaml_times_read_right() -> None:
    doc = yaml.safe_load(
        "sop:\n  library: [{id: a, text: hi}]\n  calendar: [{name: c, time: 21:30, content: [a]}]\n"
    )
    cfg = check_config(doc)
    assert str(cfg.sop.calendar[0].time) == "21:30:00"
    with pytest.raises(ConfigRejected) as bad:
        check_config({"sop": {"calendar": [{"name": "c", "time": "09:00", "content": ["nope"]}]}})
    assert "unknown content" in str(bad.value)
    with pytest.raises(ConfigRejected):
        check_config({"sop": {"library": [{"id": "x", "kind": "image"}]}})


def test_content_export_lists_the_library(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = configure(
        engine,
        workspace,
        {"calendar": [{"name": "morning", "time": "09:00", "theme": "fan_care"}]},
    )
    exported = {r["id"]: r for r in rows(engine, ws, "content")}
    assert exported["tip-1"]["used_by"] == ["calendar:morning"]
    assert exported["card"]["kind"] == "miniprogram" and exported["card"]["used_by"] == []


def test_a_configuration_without_the_section_gets_the_defaults() -> None:
    older = check_config({"workspace": {"locale": "zh-CN"}})
    assert older.sop == SopSection()
