"""Moderation in the engine: default policy, ladder, exemptions, modes, ban list, screening."""

from __future__ import annotations

import io
from datetime import timedelta

import orjson
from sqlalchemy import Engine

from shequn.community.service import do_apply_config
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.service import do_ingest_events
from shequn.exports import write_export
from shequn.platform.db import transaction
from tests.factories import T0, event, joined, minutes, posted

AD = "加我微信 abc12345 优惠多多"


def rows(engine: Engine, ws: WorkspaceInfo, kind: str) -> list[dict]:
    buf = io.BytesIO()
    with engine.connect() as conn:
        write_export(conn, ws, kind, "jsonl", buf)
    return [orjson.loads(x) for x in buf.getvalue().splitlines()]


def moderation_actions(engine: Engine, ws: WorkspaceInfo) -> list[tuple[str, str | None]]:
    return [
        (a["kind"], a["member"])
        for a in rows(engine, ws, "actions")
        if a["rule"].startswith("moderation.")
    ]


def configure(engine: Engine, ws: WorkspaceInfo, doc: dict) -> WorkspaceInfo:
    with transaction(engine) as conn:
        return do_apply_config(conn, ws.slug, doc)


def test_first_offence_warns_and_deletes_second_removes(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    evs = [
        event("group.created", "g-1", at=T0, name="群", owner="staff-1"),
        joined("spam-1", at=T0),
        posted("spam-1", AD, at=T0 + minutes(2), message_id="m-ad1"),
        posted("spam-1", "联系 138 0013 8000 有惊喜", at=T0 + minutes(3), message_id="m-ad2"),
        posted("u-2", "我用微信支付的，订单号 2026112212345678 已发货", at=T0 + minutes(4)),
    ]
    do_ingest_events(engine, workspace, evs)
    acts = [a for a in rows(engine, workspace, "actions") if a["rule"] == "moderation.content"]
    assert [a["kind"] for a in acts] == [
        "message.delete",
        "member.warn",
        "message.delete",
        "member.remove",
    ]
    assert acts[0]["data"]["message_id"] == "m-ad1"
    assert "请勿" in acts[1]["data"]["text"]
    assert acts[3]["caused_by"] == evs[3].id
    violations = rows(engine, workspace, "violations")
    assert [(v["offence"], v["detector"], v["mode"]) for v in violations] == [
        (1, "wechat", "enforce"),
        (2, "phone", "enforce"),
    ]
    assert "abc12345" in violations[0]["findings"][0]["evidence"]
    # Points were deducted (but the balance never goes below zero by default).
    assert all(r["balance"] >= 0 for r in rows(engine, workspace, "points"))


def test_staff_helpers_and_owner_are_exempt(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = configure(engine, workspace, {"roles": {"staff": ["staff-2"], "helpers": ["h-1"]}})
    evs = [
        event("group.created", "g-1", at=T0, name="群", owner="owner-1"),
        posted("owner-1", AD, at=T0 + minutes(1)),
        posted("staff-2", AD, at=T0 + minutes(2)),
        posted("h-1", AD, at=T0 + minutes(3)),
    ]
    do_ingest_events(engine, ws, evs)
    assert moderation_actions(engine, ws) == []
    assert rows(engine, ws, "violations") == []


def test_dry_run_logs_only_and_soft_tells_staff(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = configure(
        engine, workspace, {"moderation": {"mode": "dry_run", "modes": {"phone": "soft"}}}
    )
    evs = [
        posted("spam-1", AD, at=T0 + minutes(1)),
        posted("spam-2", "电话 13800138000", at=T0 + minutes(2)),
    ]
    do_ingest_events(engine, ws, evs)
    assert moderation_actions(engine, ws) == [("staff.task", "spam-2")]
    assert [v["mode"] for v in rows(engine, ws, "violations")] == ["dry_run", "soft"]


def test_wecom_removal_becomes_a_staff_task(engine: Engine, workspace: WorkspaceInfo) -> None:
    evs = [
        posted("w-1", AD, at=T0 + minutes(1), channel="wecom"),
        posted("w-1", AD + "!", at=T0 + minutes(2), channel="wecom"),
    ]
    do_ingest_events(engine, workspace, evs)
    acts = [a for a in rows(engine, workspace, "actions") if a["kind"] == "member.remove"]
    assert acts[0]["status"] == "staff_task"
    assert "移出群" in acts[0]["data"]["task"] and "w-1" in acts[0]["data"]["task"]


def test_flooding_and_cross_group_duplicates(engine: Engine, workspace: WorkspaceInfo) -> None:
    flood = [posted("u-1", f"哈哈{i}", at=T0 + timedelta(seconds=i)) for i in range(6)]
    text = "今晚八点直播间见，福利多多不要错过哦"
    dup = [posted("u-2", text, group=f"g-{i}", at=T0 + minutes(i)) for i in range(3)]
    do_ingest_events(engine, workspace, flood + dup)
    detectors = [v["detector"] for v in rows(engine, workspace, "violations")]
    assert detectors == ["flood", "duplicate"]


def test_decisions_do_not_depend_on_batch_boundaries(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    from tests.conftest import create_workspace

    other = create_workspace(engine)
    text = "今晚八点直播间见，福利多多不要错过哦"
    evs = [posted("u-2", text, group=f"g-{i}", at=T0 + minutes(i)) for i in range(3)]
    evs += [posted("u-1", f"哈哈{i}", at=T0 + minutes(5) + timedelta(seconds=i)) for i in range(6)]
    do_ingest_events(engine, workspace, evs)
    for e in evs:
        do_ingest_events(engine, other, [e])
    strip = lambda rs: [{k: v for k, v in r.items() if k != "id"} for r in rs]  # noqa: E731
    assert strip(rows(engine, workspace, "violations")) == strip(rows(engine, other, "violations"))
    assert len(rows(engine, other, "violations")) == 2


def test_blacklisted_member_is_removed_on_join(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = configure(
        engine,
        workspace,
        {"moderation": {"ladder": [{"actions": ["delete", "blacklist"]}]}},
    )
    do_ingest_events(
        engine,
        ws,
        [
            posted("spam-1", AD, at=T0 + minutes(1)),
            joined("spam-1", group="g-9", at=T0 + minutes(30)),
        ],
    )
    kinds = moderation_actions(engine, ws)
    assert kinds == [
        ("message.delete", "spam-1"),
        ("member.blacklist", "spam-1"),
        ("member.remove", "spam-1"),
    ]
    assert [b["member"] for b in rows(engine, ws, "banlist")] == ["spam-1"]


def test_suspicious_newcomers_are_flagged(engine: Engine, workspace: WorkspaceInfo) -> None:
    evs = [joined("a-1", at=T0, nickname="AAA批发微商")]
    evs += [joined("b-1", group=f"g-{i}", at=T0 + minutes(i), nickname="小王") for i in range(3)]
    do_ingest_events(engine, workspace, evs)
    tasks = [a for a in rows(engine, workspace, "actions") if a["rule"] == "moderation.screening"]
    assert [(t["member"], t["group"]) for t in tasks] == [("a-1", "g-1"), ("b-1", "g-2")]
