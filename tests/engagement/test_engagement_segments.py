"""CRM segments as targets of the robot: calendar SOPs to the groups where a segment's members
are (mentioning them), journeys only for newcomers in the segment, activities only for its
members; segments evaluated at the job's time, and unknown ones refused when applied."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shequn.community.config import ConfigRejected
from shequn.community.service import do_apply_config, do_create_token
from shequn.community.workspace import WorkspaceInfo
from shequn.crm.service import do_delete_segment, do_save_segment, do_tag_member, find_segment
from shequn.engine.ingest import tick
from shequn.engine.service import do_ingest_events
from shequn.platform.db import transaction
from shequn.settings import Settings
from shequn.web.app import create_app
from tests.conftest import create_workspace
from tests.engagement.conftest import Shequn
from tests.engagement.test_engagement_activities import activity_actions
from tests.engagement.test_engagement_sop import LIBRARY, SUNDAY, local, rows, sop_actions
from tests.factories import NOW, event, joined, posted

MONDAY_9 = SUNDAY + timedelta(days=1, hours=-1)  # 09:00 local


def apply(engine: Engine, ws: WorkspaceInfo, document: dict[str, Any]) -> WorkspaceInfo:
    with transaction(engine) as conn:
        return do_apply_config(conn, ws.slug, document, check_references=True)


def save_segment(engine: Engine, ws: WorkspaceInfo, name: str, tree: dict[str, Any]) -> None:
    with transaction(engine) as conn:
        do_save_segment(conn, ws, name, tree, now=NOW)


def tag(engine: Engine, ws: WorkspaceInfo, tag_name: str, *people: str) -> None:
    with transaction(engine) as conn:
        for member in people:
            do_tag_member(conn, ws, "sandbox", member, tag_name, now=SUNDAY)


def town(*layout: tuple[str, str]) -> list[Any]:
    """Groups created on Sunday morning, and (member, group) joins right after."""
    groups = sorted({g for _, g in layout})
    evs = [event("group.created", g, at=SUNDAY, name=f"群{g}") for g in groups]
    evs += [
        joined(m, g, at=SUNDAY + timedelta(minutes=i), nickname=f"昵称{m}")
        for i, (m, g) in enumerate(layout)
    ]
    return evs


def calendar(segment: Any, days: list[str] | None = None) -> dict[str, Any]:
    return {
        "sop": {
            "library": LIBRARY,
            "calendar": [
                {
                    "name": "vip-news",
                    "days": days or ["mon"],
                    "time": "09:00",
                    "content": ["new-mug"],
                    "segment": segment,
                }
            ],
        }
    }


def test_calendar_sop_goes_where_the_segment_is_and_mentions_it(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    save_segment(engine, workspace, "高消费", {"tag": "高消费"})
    tag(engine, workspace, "高消费", "u-1", "u-2", "u-5", "u-9")  # u-9 is in no group
    ws = apply(engine, workspace, calendar("高消费"))
    layout = [("u-1", "g-1"), ("u-2", "g-1"), ("u-3", "g-1"), ("u-4", "g-2"), ("u-5", "g-3")]
    do_ingest_events(engine, ws, town(*layout))
    tick(engine, ws, SUNDAY + timedelta(days=1, hours=1))
    acts = sop_actions(engine, ws)
    assert [(a["group"], local(a), a["data"]["mentions"]) for a in acts] == [
        ("g-1", "Mon 09:00", ["u-1", "u-2"]),
        ("g-3", "Mon 09:00", ["u-5"]),  # g-2 has none of the segment: nothing there
    ]
    assert acts[0]["data"]["text"].startswith("@昵称u-1 @昵称u-2 新品上架")


def test_segment_is_evaluated_at_the_occurrence_not_later(engine: Engine) -> None:
    """The whole week is ingested first; each Monday counts only what was said before it."""
    outcomes = []
    for batch_size in (5000, 1):
        ws = create_workspace(engine)
        save_segment(
            engine,
            ws,
            "talkers",
            {"behaviour": "messages", "op": ">=", "value": 1, "within_days": 7},
        )
        ws = apply(engine, ws, calendar("talkers"))
        evs = town(("u-1", "g-1"), ("u-2", "g-2"))
        evs += [posted("u-1", "早", "g-1", at=SUNDAY + timedelta(hours=2))]
        evs += [posted("u-2", "晚上好", "g-2", at=MONDAY_9 + timedelta(hours=1))]  # after 09:00
        evs += [posted("u-1", "下周见", "g-1", at=MONDAY_9 + timedelta(days=8))]
        do_ingest_events(engine, ws, evs, batch_size=batch_size)
        acts = sop_actions(engine, ws)
        outcomes.append([(a["group"], a["decided_at"], a["data"]["mentions"]) for a in acts])
    assert outcomes[0] == outcomes[1]
    assert [(g, m) for g, _, m in outcomes[0]] == [
        ("g-1", ["u-1"]),  # the first Monday: only u-1 had spoken (u-2 speaks at 10:00)
        ("g-2", ["u-2"]),  # the next: u-1's word is 8 days old, u-2's within the 7 days
    ]


def test_journey_only_for_newcomers_in_the_segment(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    save_segment(engine, workspace, "vip码", {"first_touch": "code", "values": ["vip-code"]})
    journey = {"name": "vip", "segment": "vip码", "steps": [{"day": 1, "content": "day1"}]}
    ws = apply(engine, workspace, {"sop": {"library": LIBRARY, "journeys": [journey]}})
    evs = [event("group.created", "g-1", at=SUNDAY, name="群g-1")]
    evs += [joined("u-vip", "g-1", at=SUNDAY, code="vip-code", scene="qr")]
    evs += [joined("u-plain", "g-1", at=SUNDAY, code="other", scene="qr")]
    do_ingest_events(engine, ws, evs)
    tick(engine, ws, SUNDAY + timedelta(days=2))
    assert [(a["member"], a["data"]["content"]) for a in sop_actions(engine, ws)] == [
        ("u-vip", "day1")
    ]


def test_activity_open_only_to_the_segment(engine: Engine, workspace: WorkspaceInfo) -> None:
    save_segment(engine, workspace, "会员", {"tag": "会员"})
    tag(engine, workspace, "会员", "u-1")
    start, end = SUNDAY + timedelta(hours=1), SUNDAY + timedelta(hours=3)
    item = {
        "id": "vip-lucky",
        "type": "lottery",
        "winners": 1,
        "segment": "会员",
        "starts_at": start.isoformat(),
        "ends_at": end.isoformat(),
    }
    ws = apply(engine, workspace, {"activities": {"items": [item]}})
    evs = town(("u-1", "g-1"), ("u-2", "g-1"))
    evs += [posted(m, "抽奖", "g-1", at=start + timedelta(minutes=5)) for m in ("u-1", "u-2")]
    do_ingest_events(engine, ws, evs)
    tick(engine, ws, end)
    assert [e["member"] for e in rows(engine, ws, "activity_entries")] == ["u-1"]
    told = [a for a in activity_actions(engine, ws) if "参与条件" in a["data"].get("text", "")]
    assert [a["member"] for a in told] == ["u-2"]
    assert [w["member"] for w in rows(engine, ws, "activity_winners")] == ["u-1"]


def test_unknown_segment_is_refused_with_its_path(engine: Engine, workspace: WorkspaceInfo) -> None:
    save_segment(engine, workspace, "高消费", {"tag": "高消费"})
    with pytest.raises(ConfigRejected) as caught:
        apply(engine, workspace, calendar("高价值"))
    assert [e.path for e in caught.value.errors] == ["sop.calendar.0.segment"]
    assert "高价值" in caught.value.errors[0].message
    journey = {"name": "j", "segment": 999, "steps": [{"day": 0, "content": "hello"}]}
    doc = {
        "sop": {"library": LIBRARY},
        "blueprints": {"会员群": {"settings": {"sop": {"journeys": [journey]}}}},
    }
    with pytest.raises(ConfigRejected) as caught:
        apply(engine, workspace, doc)
    assert [e.path for e in caught.value.errors] == [
        "blueprints.会员群.settings.sop.journeys.0.segment"
    ]
    apply(engine, workspace, calendar("高消费"))  # a known name is accepted


def test_segment_by_id_and_a_segment_deleted_later(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    save_segment(engine, workspace, "高消费", {"tag": "高消费"})
    with engine.connect() as conn:
        found = find_segment(conn, workspace, "高消费")
    assert found is not None
    ws = apply(engine, workspace, calendar(found["id"], days=["mon", "tue"]))
    do_ingest_events(engine, ws, town(("u-1", "g-1")))
    with transaction(engine) as conn:
        do_delete_segment(conn, ws, "高消费")
    tick(engine, ws, SUNDAY + timedelta(days=1, hours=1))
    (task,) = sop_actions(engine, ws)
    assert task["kind"] == "staff.task" and "已不存在" in task["reason"]


def test_config_apply_with_a_bad_segment_exits_with_a_reason(
    engine: Engine, workspace: WorkspaceInfo, shequn: Shequn, tmp_path: Path
) -> None:
    config = tmp_path / "sop.yaml"
    config.write_text(yaml.safe_dump(calendar("没有这个人群"), allow_unicode=True), "utf-8")
    refused = shequn("config", "apply", str(config), "-w", workspace.slug)
    assert refused.exit_code != 0
    assert "sop.calendar.0.segment" in refused.output and "没有这个人群" in refused.output
    assert "Traceback" not in refused.output
    save_segment(engine, workspace, "没有这个人群", {"tag": "x"})
    assert shequn("config", "apply", str(config), "-w", workspace.slug).exit_code == 0


def test_config_put_with_a_bad_segment_is_a_problem(
    engine: Engine, workspace: WorkspaceInfo, settings: Settings
) -> None:
    with transaction(engine) as conn:
        token = do_create_token(conn, workspace.slug, now=NOW)
    body = yaml.safe_dump(calendar("没有这个人群"), allow_unicode=True).encode()
    with TestClient(create_app(settings, engine)) as client:
        answer = client.put(
            f"/api/v1/workspaces/{workspace.slug}/config",
            content=body,
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert [e["path"] for e in answer.json()["errors"]] == ["sop.calendar.0.segment"]
