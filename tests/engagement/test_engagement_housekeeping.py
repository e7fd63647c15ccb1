"""Inactivity cleanup, milestones, keyword replies and introduction reminders."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Engine

from shequn.community.service import do_apply_config
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.ingest import tick
from shequn.engine.service import do_ingest_events
from shequn.exports import write_export
from shequn.platform.db import transaction
from tests.factories import event, joined, minutes, posted

SH = ZoneInfo("Asia/Shanghai")
DAY0 = datetime(2026, 11, 1, 10, 0, tzinfo=SH)


def rows(engine: Engine, ws: WorkspaceInfo, kind: str) -> list[dict]:
    buf = io.BytesIO()
    with engine.connect() as conn:
        write_export(conn, ws, kind, "jsonl", buf)
    return [orjson.loads(x) for x in buf.getvalue().splitlines()]


def by_rule(engine: Engine, ws: WorkspaceInfo, rule: str) -> list[dict]:
    return [a for a in rows(engine, ws, "actions") if a["rule"] == rule]


def configure(engine: Engine, ws: WorkspaceInfo, doc: dict) -> WorkspaceInfo:
    with transaction(engine) as conn:
        return do_apply_config(conn, ws.slug, doc)


def test_silent_members_are_warned_then_removed(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = configure(engine, workspace, {"roles": {"whitelist": ["vip"]}})
    evs = [
        event("group.created", "g-1", at=DAY0, name="群", owner="boss"),
        joined("quiet", at=DAY0),
        joined("talker", at=DAY0),
        joined("speaks-late", at=DAY0),
        joined("vip", at=DAY0),
        joined("boss", at=DAY0),
        joined("buyer", at=DAY0),
        event("order.paid", None, "buyer", at=DAY0, order_id="o-1", amount_fen=3990),
    ]
    evs += [posted("talker", f"第{d}天", at=DAY0 + timedelta(days=d)) for d in range(12)]
    evs += [posted("speaks-late", "我还在！", at=DAY0 + timedelta(days=9))]
    evs.sort(key=lambda e: e.at)  # events arrive in time order
    do_ingest_events(engine, ws, evs)
    tick(engine, ws, DAY0 + timedelta(days=14))
    warned = [
        a["member"] for a in by_rule(engine, ws, "engagement.cleanup") if a["kind"] == "member.warn"
    ]
    assert sorted(warned) == ["quiet", "speaks-late"]
    removed = [
        a["member"]
        for a in by_rule(engine, ws, "engagement.cleanup")
        if a["kind"] == "member.remove"
    ]
    assert removed == ["quiet"]  # speaks-late spoke after the warning
    warning = next(a for a in by_rule(engine, ws, "engagement.cleanup") if a["member"] == "quiet")
    assert "@nick-quiet" in warning["data"]["text"]


def test_cleanup_is_the_same_whatever_the_batches(engine: Engine, workspace: WorkspaceInfo) -> None:
    from tests.conftest import create_workspace

    other = create_workspace(engine)
    evs = [joined(f"u-{i}", at=DAY0 + minutes(i)) for i in range(5)]
    evs += [posted("u-0", f"d{d}", at=DAY0 + timedelta(days=d)) for d in range(1, 16)]
    do_ingest_events(engine, workspace, evs)
    for e in evs:
        do_ingest_events(engine, other, [e])
    strip = lambda rs: [{k: v for k, v in r.items() if k != "id"} for r in rs]  # noqa: E731
    assert strip(rows(engine, workspace, "actions")) == strip(rows(engine, other, "actions"))
    assert any(a["kind"] == "member.remove" for a in rows(engine, other, "actions"))


def test_milestones_announce_once(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = configure(engine, workspace, {"milestones": {"counts": [3]}})
    evs = [joined(f"u-{i}", at=DAY0 + minutes(i)) for i in range(3)]
    evs += [event("member.left", "g-1", "u-2", at=DAY0 + minutes(5), reason="left")]
    evs += [joined("u-2", at=DAY0 + minutes(6), id_="rejoin")]
    do_ingest_events(engine, ws, evs)
    (announcement,) = by_rule(engine, ws, "engagement.milestones")
    assert "3" in announcement["data"]["text"] and announcement["caused_by"] == evs[2].id


def test_keyword_replies_with_cooldown(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = configure(
        engine,
        workspace,
        {
            "keywords": {
                "cooldown_seconds": 60,
                "replies": [
                    {"match": "exact", "pattern": "营业时间", "reply": "每天 9:00-21:00"},
                    {"match": "regex", "pattern": r"怎么(买|下单)", "reply": "点群公告的链接"},
                    {"pattern": "发货", "reply": "48 小时内发货", "groups": ["g-2"]},
                ],
            }
        },
    )
    evs = [
        posted("u-1", "营业时间", at=DAY0),
        posted("u-2", "营业时间", at=DAY0 + timedelta(seconds=30)),  # cooling down
        posted("u-2", "营业时间", group="g-3", at=DAY0 + timedelta(seconds=31)),  # other group
        posted("u-3", "营业时间", at=DAY0 + timedelta(seconds=61)),
        posted("u-4", "请问营业时间是？", at=DAY0 + minutes(5)),  # not exact
        posted("u-5", "这个怎么下单呀", at=DAY0 + minutes(6)),
        posted("u-6", "什么时候发货", at=DAY0 + minutes(7)),  # only in g-2
        posted("u-6", "什么时候发货", group="g-2", at=DAY0 + minutes(8)),
    ]
    do_ingest_events(engine, ws, evs)
    replies = [
        (a["group"], a["member"], a["data"]["text"])
        for a in by_rule(engine, ws, "engagement.keywords")
    ]
    assert replies == [
        ("g-1", "u-1", "每天 9:00-21:00"),
        ("g-3", "u-2", "每天 9:00-21:00"),
        ("g-1", "u-3", "每天 9:00-21:00"),
        ("g-1", "u-5", "点群公告的链接"),
        ("g-2", "u-6", "48 小时内发货"),
    ]


def test_bad_keyword_regex_is_refused() -> None:
    import pytest

    from shequn.community.config import ConfigRejected, check_config
    from shequn.engine.rules import load_rule_modules

    load_rule_modules()
    with pytest.raises(ConfigRejected) as info:
        check_config({"keywords": {"replies": [{"match": "regex", "pattern": "(", "reply": "x"}]}})
    assert info.value.errors[0].path == "keywords.replies.0"


def test_introduction_reminders(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = configure(
        engine,
        workspace,
        {
            "intro": {
                "enabled": True,
                "nickname_format": "城市-姓名-职业",
                "nickname_pattern": r"[^-]+-[^-]+-[^-]+",
            }
        },
    )
    evs = [
        joined("u-1", at=DAY0, nickname="小明"),
        joined("u-2", at=DAY0, nickname="上海-小红-设计"),
        posted("u-2", "大家好，我是小红，做设计的", at=DAY0 + minutes(10)),
        joined("u-3", at=DAY0, nickname="阿强"),
        posted("u-3", "大家好我是阿强", at=DAY0 + minutes(10)),  # introduced, bad nickname
    ]
    evs.sort(key=lambda e: e.at)
    do_ingest_events(engine, ws, evs)
    tick(engine, ws, DAY0 + timedelta(hours=25))
    reminded = [a["member"] for a in by_rule(engine, ws, "engagement.intro")]
    assert reminded == ["u-1", "u-3"]
    assert "城市-姓名-职业" in by_rule(engine, ws, "engagement.intro")[0]["data"]["text"]
