"""Profiles, custom fields, notes, tags (manual and by rule), segments, timeline and export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import orjson
import pytest
from pydantic import ValidationError
from sqlalchemy import Engine

from shequn.community.service import do_apply_config
from shequn.community.workspace import WorkspaceInfo
from shequn.crm import rules as _rules  # noqa: F401  (registers the auto-tag rules)
from shequn.crm.exports import PhoneExportRefused
from shequn.crm.schemas import CustomFieldIn, NoteIn, ProfileIn
from shequn.crm.service import (
    access_profile,
    count_filter,
    do_add_note,
    do_define_custom_field,
    do_save_segment,
    do_tag_member,
    do_untag_member,
    do_upsert_profile,
    list_segments,
    list_tags,
    segment_members,
    timeline,
)
from shequn.engine.service import do_ingest_events
from shequn.exports import write_export
from shequn.platform.db import transaction
from shequn.platform.errors import BadRequest, Invalid
from tests.factories import NOW, SHANGHAI, T0, event, joined, posted

AUTO_TAGS = {
    "crm": {
        "auto_tags": [
            {"kind": "joined_via", "tag": "门店来的", "states": ["store-qr"]},
            {"kind": "spent_at_least", "tag": "高消费", "fen": 50_000},
            {"kind": "checkin_streak", "tag": "连续签到7天", "days": 7},
        ]
    }
}


def configured(engine: Engine, ws: WorkspaceInfo, document: dict) -> WorkspaceInfo:
    with transaction(engine) as conn:
        return do_apply_config(conn, ws.slug, document)


def paid(member: str, amount: int, days: float, order: str) -> object:
    return event(
        "order.paid", None, member, T0 + timedelta(days=days), order_id=order, amount_fen=amount
    )


def refunded(member: str, amount: int, days: float, order: str) -> object:
    return event(
        "order.refunded", None, member, T0 + timedelta(days=days), order_id=order, amount_fen=amount
    )


def tags_of(engine: Engine, ws: WorkspaceInfo, member: str) -> list[str]:
    with engine.connect() as conn:
        return access_profile(conn, ws, "sandbox", member)["tags"]


def test_profile_fields_are_typed_and_merge(engine: Engine, workspace: WorkspaceInfo) -> None:
    with transaction(engine) as conn:
        do_define_custom_field(
            conn, workspace, CustomFieldIn(key="pets", label="宠物", type="text"), now=NOW
        )
        do_upsert_profile(
            conn,
            workspace,
            "sandbox",
            "u-1",
            ProfileIn(
                name="王芳",
                phone="+86 138-0013-8000",
                gender="female",
                age_band="25_34",
                city_tier="tier1",
                pains=["太甜", "配送慢"],
                custom={"pets": "猫"},
            ),
            now=NOW,
        )
        profile = do_upsert_profile(
            conn,
            workspace,
            "sandbox",
            "u-1",
            ProfileIn(city="上海", custom={"pets": None}),
            now=NOW,
        )
    assert profile["phone"] == "13800138000" and profile["city"] == "上海"
    assert profile["gender"] == "female" and profile["pains"] == ["太甜", "配送慢"]
    assert profile["custom"] == {}
    with pytest.raises(ValidationError):
        ProfileIn(gender="robot")
    with pytest.raises(ValidationError):
        ProfileIn(phone="12345")
    with transaction(engine) as conn, pytest.raises(Invalid, match="no custom field"):
        do_upsert_profile(conn, workspace, "sandbox", "u-1", ProfileIn(custom={"nope": 1}), now=NOW)


def test_auto_tags_by_channel_spend_and_check_in_streak(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = configured(engine, workspace, AUTO_TAGS)
    evs = [
        joined("u-1", at=T0, state="store-qr", code="lc-store"),
        joined("u-2", at=T0, state="ads-feed"),
        joined("u-1", group="g-2", at=T0 + timedelta(days=1), state="ads-feed"),
        paid("u-1", 30_000, 1, "o-1"),
        paid("u-1", 25_000, 2, "o-2"),
        paid("u-2", 60_000, 2, "o-3"),
        refunded("u-2", 60_000, 3, "o-3"),
    ]
    # u-2 checks in six days, misses one, then seven in a row; u-1 only six.
    days = [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13]
    evs += [posted("u-2", "签到", at=T0 + timedelta(days=d, hours=1)) for d in days]
    evs += [posted("u-1", "打卡", at=T0 + timedelta(days=d, hours=2)) for d in range(6)]
    evs.sort(key=lambda e: e.at)
    do_ingest_events(engine, ws, evs, batch_size=4)  # counters carry across batches
    assert tags_of(engine, ws, "u-1") == ["门店来的", "高消费"]
    assert tags_of(engine, ws, "u-2") == ["连续签到7天"]  # the refund took 高消费 away
    with engine.connect() as conn:
        counts = {t["name"]: t["members"] for t in list_tags(conn, ws)}
    assert counts == {"门店来的": 1, "高消费": 1, "连续签到7天": 1}
    # Replaying the same events changes nothing.
    do_ingest_events(engine, ws, evs)
    assert tags_of(engine, ws, "u-1") == ["门店来的", "高消费"]


def test_manual_tags_notes_and_timeline(engine: Engine, workspace: WorkspaceInfo) -> None:
    do_ingest_events(engine, workspace, [joined("u-1", at=T0), posted("u-1", "签到", at=T0)])
    with transaction(engine) as conn:
        assert do_tag_member(conn, workspace, "sandbox", "u-1", "宝妈", now=T0)
        assert not do_tag_member(conn, workspace, "sandbox", "u-1", "宝妈", now=NOW)
        do_add_note(
            conn,
            workspace,
            "sandbox",
            "u-1",
            NoteIn(text="想要低糖款", at=T0 + timedelta(hours=2)),
            now=NOW,
        )
    with engine.connect() as conn:
        items = timeline(conn, workspace, "sandbox", "u-1")
    kinds = [(i["what"], i["type"]) for i in items]
    assert kinds[0] == ("note", "note")
    assert ("event", "member.joined") in kinds and ("event", "message.posted") in kinds
    assert ("tag", "tag") in kinds
    assert any(i["what"] == "action" for i in items)  # the check-in reply
    with transaction(engine) as conn:
        assert do_untag_member(conn, workspace, "sandbox", "u-1", "宝妈")
    assert tags_of(engine, workspace, "u-1") == []


def test_segments_filter_profile_tags_and_behaviour(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    now = T0 + timedelta(days=10)
    evs = [
        joined("u-1", at=T0, state="store-qr"),
        joined("u-2", at=T0),
        joined("u-3", at=T0 + timedelta(days=9)),
        paid("u-1", 60_000, 1, "o-1"),
    ]
    evs += [posted("u-2", f"消息{i}", at=T0 + timedelta(days=8, minutes=i)) for i in range(3)]
    do_ingest_events(engine, workspace, evs)
    with transaction(engine) as conn:
        do_upsert_profile(conn, workspace, "sandbox", "u-1", ProfileIn(city_tier="tier1"), now=NOW)
        do_upsert_profile(conn, workspace, "sandbox", "u-2", ProfileIn(city_tier="tier2"), now=NOW)
        do_upsert_profile(conn, workspace, "sandbox", "c-9", ProfileIn(city_tier="tier1"), now=NOW)
        do_tag_member(conn, workspace, "sandbox", "u-2", "宝妈", now=NOW)

    def count(document: dict) -> int:
        with engine.connect() as conn:
            return count_filter(conn, workspace, document, now=now)

    assert count({"all": [{"field": "city_tier", "op": "eq", "value": "一线"}]}) == 2
    assert count({"field": "city_tier", "op": "in", "value": ["tier1", "tier2"]}) == 3
    assert count({"tag": "宝妈"}) == 1 and count({"tag": "宝妈", "has": False}) == 3
    assert count({"behaviour": "messages", "op": ">=", "value": 3, "within_days": 7}) == 1
    assert count({"behaviour": "messages", "op": "=", "value": 0}) == 3
    assert count({"behaviour": "spent_fen", "op": ">=", "value": 50_000}) == 1
    assert count({"first_touch": "state", "values": ["store-qr"]}) == 1
    assert count({"joined_within_days": 3}) == 1
    assert count({"any": [{"tag": "宝妈"}, {"not": {"joined_within_days": 30}}]}) == 2
    with pytest.raises(ValidationError):
        count({"field": "gender", "op": "eq", "value": "robot"})
    with pytest.raises(ValidationError):
        count({"all": [{"behaviour": "hugs", "value": 1}]})
    with transaction(engine) as conn:
        do_save_segment(
            conn, workspace, "一线城市", {"field": "city_tier", "value": "tier1"}, now=NOW
        )
    with engine.connect() as conn:
        (saved,) = list_segments(conn, workspace, now=now)
        assert saved["count"] == 2
        assert segment_members(conn, workspace, "一线城市", now=now) == [
            ("sandbox", "c-9"),
            ("sandbox", "u-1"),
        ]


def test_exports_mask_phones_unless_asked_and_allowed(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    with transaction(engine) as conn:
        do_upsert_profile(
            conn, workspace, "sandbox", "c-1", ProfileIn(phone="13800138000"), now=NOW
        )
        do_tag_member(conn, workspace, "sandbox", "c-1", "老客", now=NOW)

    def export(ws: WorkspaceInfo, fmt: str = "csv", reveal: bool = False) -> bytes:
        buffer = io.BytesIO()
        with engine.connect() as conn:
            write_export(conn, ws, "members", fmt, buffer, header="ids", reveal_phones=reveal)
        return buffer.getvalue()

    (row,) = csv.DictReader(io.StringIO(export(workspace).decode("utf-8-sig")))
    assert (row["phone"], row["tags"]) == ("138****8000", "老客")
    with pytest.raises(PhoneExportRefused):
        export(workspace, reveal=True)
    allowed = configured(engine, workspace, {"crm": {"allow_phone_export": True}})
    assert orjson.loads(export(allowed, "jsonl", reveal=True))["phone"] == "13800138000"
    assert export(allowed, "xlsx")[:2] == b"PK"
    # The deprecated name of the member export masks too.
    buffer = io.BytesIO()
    with engine.connect() as conn:
        write_export(conn, allowed, "profiles", "jsonl", buffer)
    assert orjson.loads(buffer.getvalue())["phone"] == "138****8000"
    # Only the member export has phones to reveal.
    with pytest.raises(BadRequest), engine.connect() as conn:
        write_export(conn, allowed, "member_tags", "csv", io.BytesIO(), reveal_phones=True)


def test_persona_of_a_segment_counts_what_members_share(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    from collections import Counter
    from datetime import date

    from shequn.analytics.persona import persona
    from shequn.analytics.source import Period

    people = [
        ("p-1", "female", "tier1", ["太贵", "配送慢"], ["宝妈"]),
        ("p-2", "female", "tier2", ["太贵"], ["宝妈", "老客"]),
        ("p-3", "male", "tier1", [], ["老客"]),
        ("p-4", None, "tier3", ["太甜"], []),
    ]
    with transaction(engine) as conn:
        for member, gender, tier, pains, tag_names in people:
            do_upsert_profile(
                conn,
                workspace,
                "sandbox",
                member,
                ProfileIn(gender=gender, city_tier=tier, pains=pains),
                now=NOW,
            )
            for name in tag_names:
                do_tag_member(conn, workspace, "sandbox", member, name, now=NOW)
        do_save_segment(
            conn,
            workspace,
            "一二线",
            {"field": "city_tier", "op": "in", "value": ["tier1", "tier2"]},
            now=NOW,
        )
    period = Period(date(2026, 11, 1), date(2026, 11, 30), SHANGHAI)
    with engine.connect() as conn:
        report = persona(conn, workspace, period, "一二线")
    chosen = [p for p in people if p[2] in ("tier1", "tier2")]
    got = {(r["field"], r["value"]): r["count"] for r in report.rows}
    assert report.meta["members"] == 3
    assert {v: n for (f, v), n in got.items() if f == "gender"} == Counter(p[1] for p in chosen)
    assert {v: n for (f, v), n in got.items() if f == "pains"} == Counter(
        x for p in chosen for x in p[3]
    )
    assert {v: n for (f, v), n in got.items() if f == "tags"} == Counter(
        x for p in chosen for x in p[4]
    )
    top = next(r for r in report.rows if r["field"] == "pains")
    assert (top["value"], top["share"]) == ("太贵", 2 / 3)
