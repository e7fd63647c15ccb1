"""Group health: daily counters, stages over the trailing week, dying-group warnings,
per-group overrides, local days and replay."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from sqlalchemy import Engine

import shequn.engagement.health  # noqa: F401  (registers the rules and export)
from shequn.community.service import do_apply_config
from shequn.community.workspace import WorkspaceInfo
from shequn.config import community as community_config
from shequn.config.engagement import HealthSection
from shequn.engagement.health import stage_of
from shequn.engine.ingest import tick
from shequn.engine.service import do_ingest_events
from shequn.events import Event
from shequn.exports import write_export
from shequn.platform.db import transaction
from tests.conftest import create_workspace
from tests.factories import event, joined, left, posted

SH = ZoneInfo("Asia/Shanghai")
D0 = datetime(2026, 11, 2, 9, 0, tzinfo=SH)  # a Monday


def rows(engine: Engine, ws: WorkspaceInfo, kind: str) -> list[dict[str, Any]]:
    buf = io.BytesIO()
    with engine.connect() as conn:
        write_export(conn, ws, kind, "jsonl", buf)
    return [orjson.loads(x) for x in buf.getvalue().splitlines()]


def health_tasks(engine: Engine, ws: WorkspaceInfo) -> list[dict[str, Any]]:
    return [a for a in rows(engine, ws, "actions") if a["rule"] == "engagement.health"]


def day(n: int) -> str:
    return (D0.date() + timedelta(days=n)).isoformat()


def life_of_a_group(group: str = "g-1") -> list[Event]:
    """Grows for three days, is lively for two weeks, fades for a week, then falls silent."""
    evs = [event("group.created", group, at=D0, name="读书会")]
    evs += [joined(f"u-{i}", group, at=D0 + timedelta(days=i // 7, minutes=i)) for i in range(20)]
    for d in range(14):
        for i in range(10 if d >= 2 else 7):  # only those who joined already
            for k in range(3):
                at = D0 + timedelta(days=d, hours=2 + k, minutes=i)
                evs.append(posted(f"u-{(d + i) % 20 if d >= 2 else i}", f"第{d}天", group, at=at))
    for d in range(14, 21):
        evs += [
            posted(f"u-{i}", "还有人吗", group, at=D0 + timedelta(days=d, hours=3)) for i in (0, 1)
        ]
    return sorted(evs, key=lambda e: e.at)


@pytest.fixture
def scoped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let blueprints and groups set the health section, as the wiring does
    (`shequn.config.community.GROUP_SCOPED`)."""
    monkeypatch.setattr(
        community_config, "GROUP_SCOPED", community_config.GROUP_SCOPED | {"health"}
    )


def test_stages_follow_the_group_and_dying_is_reported_once_per_stage(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    do_ingest_events(engine, workspace, life_of_a_group())
    tick(engine, workspace, D0 + timedelta(days=29))
    health = rows(engine, workspace, "group_health")
    assert [h["day"] for h in health] == [day(n) for n in range(29)]
    runs = [(stage, next(g)["day"]) for stage, g in groupby(health, key=lambda h: h["stage"])]
    assert runs == [
        ("growing", day(0)),
        ("active", day(9)),
        ("declining", day(17)),
        ("dead", day(27)),
    ]
    d5 = health[5]
    assert (d5["members"], d5["speakers"], d5["messages"]) == (20, 10, 30)
    assert d5["silent_ratio"] == 0.5
    assert (health[0]["joins"], health[1]["joins"], health[2]["joins"]) == (7, 7, 6)
    assert health[20]["speakers"] == 2 and health[20]["speakers_7d"] == 2
    tasks = health_tasks(engine, workspace)
    assert [(t["kind"], t["status"], t["data"]["stage"], t["data"]["day"]) for t in tasks] == [
        ("staff.task", "staff_task", "declining", day(17)),
        ("staff.task", "staff_task", "dead", day(27)),
    ]
    assert "读书会" in tasks[0]["data"]["task"] and "衰退期" in tasks[0]["data"]["task"]


def test_counts_follow_local_days_and_speakers_are_distinct(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    late = D0.replace(hour=23, minute=59)
    evs = [
        event("group.created", "g-1", at=D0, name="群"),
        joined("u-1", at=D0),
        joined("u-2", at=D0),
        posted("u-1", "晚安", at=late),
        posted("u-1", "早", at=late + timedelta(minutes=2)),  # 00:01 the next day
    ]
    do_ingest_events(engine, workspace, evs[:4])
    do_ingest_events(engine, workspace, [posted("u-1", "再说一句", at=late - timedelta(hours=1))])
    do_ingest_events(engine, workspace, [*evs[4:], left("u-2", at=late + timedelta(minutes=3))])
    tick(engine, workspace, D0 + timedelta(days=2))
    first, second = rows(engine, workspace, "group_health")
    assert (first["messages"], first["speakers"], first["joins"]) == (2, 1, 2)
    assert (second["messages"], second["speakers"], second["leaves"], second["members"]) == (
        1,
        1,
        1,
        1,
    )


def test_groups_can_be_left_out_or_kept_quiet(
    engine: Engine, workspace: WorkspaceInfo, scoped: None
) -> None:
    with transaction(engine) as conn:
        ws = do_apply_config(
            conn,
            workspace.slug,
            {
                "groups": {
                    "overrides": {
                        "g-2": {"settings": {"health": {"enabled": False}}},
                        "g-3": {"settings": {"health": {"warn": False}}},
                    }
                }
            },
        )
    evs = life_of_a_group("g-1") + life_of_a_group("g-2") + life_of_a_group("g-3")
    do_ingest_events(engine, ws, sorted(evs, key=lambda e: e.at))
    tick(engine, ws, D0 + timedelta(days=29))
    assert {h["group"] for h in rows(engine, ws, "group_health")} == {"g-1", "g-3"}
    assert {t["group"] for t in health_tasks(engine, ws)} == {"g-1"}


def test_replay_in_any_batches_measures_the_same(engine: Engine) -> None:
    evs = [event("group.created", "g-1", at=D0, name="群")]
    evs += [joined(f"u-{i}", at=D0 + timedelta(hours=i)) for i in range(6)]
    evs += [
        posted(f"u-{i % 6}", "hi", at=D0 + timedelta(days=i // 4, hours=i % 4)) for i in range(40)
    ]
    evs += [left("u-5", at=D0 + timedelta(days=9))]
    results = []
    for batch_size in (5000, 1):
        ws = create_workspace(engine)
        do_ingest_events(engine, ws, evs, batch_size=batch_size)
        tick(engine, ws, D0 + timedelta(days=20))
        results.append(
            (
                [
                    {k: v for k, v in h.items() if k != "computed_at"}
                    for h in rows(engine, ws, "group_health")
                ],
                [(t["reason"], t["decided_at"]) for t in health_tasks(engine, ws)],
            )
        )
    assert results[0] == results[1]
    assert len(results[0][0]) == 20


def test_stage_thresholds() -> None:
    cfg = HealthSection()
    assert stage_of(cfg, 0, 0, 0, 0, 0) == "dead"
    assert stage_of(cfg, 500, 9, 0, 100, 100) == "dead"
    assert stage_of(cfg, 500, 10, 25, 100, 100) == "growing"
    assert stage_of(cfg, 500, 10, 24, 49, 100) == "declining"
    assert stage_of(cfg, 500, 10, 24, 50, 100) == "active"
