"""The event vocabulary: every type validates, and bad input is named precisely."""

from __future__ import annotations

import orjson
import pytest

from shequn.engine.service import staff_event_id
from shequn.events import (
    EVENT_TYPES,
    MAX_EVENT_BYTES,
    STAFF_EVENT_TYPES,
    Event,
    parse_line,
    parse_lines,
)
from tests.factories import raw_event

GOOD = {
    "group.created": {"name": "烘焙1群", "capacity": 200, "ends_at": "2026-12-01T00:00:00+08:00"},
    "group.updated": {"notice": "群规：禁止广告"},
    "group.dismissed": {},
    "member.joined": {"nickname": "小明", "scene": "invite", "inviter": "u-0", "state": "poster"},
    "member.left": {"reason": "removed", "by": "staff-1"},
    "member.renamed": {"nickname": "上海-小明-设计"},
    "message.posted": {
        "message_id": "m-1",
        "kind": "image",
        "qr": "https://x.y",
        "mentions": ["u-2"],
    },
    "code.scanned": {"code": "c-1", "state": "store", "scanner": "u-9"},
    "poster.shared": {"campaign": "double11"},
    "order.paid": {"order_id": "o-1", "amount_fen": 3990, "items": [{"sku": "cake", "qty": 1}]},
    "order.refunded": {"order_id": "o-1", "amount_fen": 3990},
    "coupon.redeemed": {"coupon_id": "cp-1"},
    "points.spent": {"amount": 50, "reason": "兑换蛋糕券", "key": "order-9", "by": "小王"},
    "violation.reverted": {"event": "e-20", "by": "staff-1"},
    "reward.reviewed": {"reward": "camp:invite:sandbox:u-1", "approve": True, "by": "小王"},
    "reward.reversed": {"reward": "camp:invite:sandbox:u-1", "by": "小王", "note": "刷单"},
    "reward.paid": {"reward": "camp:invite:sandbox:u-1", "by": "财务"},
    "contact.added": {"staff": "staff-1", "state": "lc-spring", "welcome_code": "W-1"},
    "contact.removed": {"staff": "staff-1", "by": "customer"},
}


def line(**overrides: object) -> bytes:
    raw = raw_event("member.joined", "g-1", "u-1", nickname="小明", scene="qr")
    raw.update(overrides)
    return orjson.dumps(raw)


def test_vocabulary_is_complete() -> None:
    assert set(GOOD) == set(EVENT_TYPES)


@pytest.mark.parametrize("etype", sorted(GOOD))
def test_every_type_validates(etype: str) -> None:
    parsed = parse_line(orjson.dumps(raw_event(etype, "g-1", "u-1", **GOOD[etype])), 1)
    assert isinstance(parsed, Event), parsed
    assert parsed.to_json_dict()["type"] == etype


def test_time_is_kept_in_utc() -> None:
    parsed = parse_line(line(at="2026-11-22T08:00:00+08:00"), 1)
    assert isinstance(parsed, Event)
    assert parsed.to_json_dict()["at"] == "2026-11-22T00:00:00Z"


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        (b"{not json", "(json)", "not valid JSON"),
        (b"[1, 2]", "(event)", "JSON object"),
        (line(type="member.joind"), "type", "did you mean 'member.joined'"),
        (line(type="nonsense"), "type", "unknown event type; expected one of"),
        (line(at="2026-11-22T10:00:00"), "at", "UTC offset"),
        (line(at="tomorrow"), "at", "datetime"),
        (line(member=None), "member", "needs a member"),
        (line(data={"scene": "qr"}), "data.nickname", "Field required"),
        (line(data={"nickname": "x", "scene": "qr", "extra": 1}), "data.extra", "not permitted"),
        (line(channel="We Com"), "channel", "pattern"),
        (line(id=""), "id", "at least 1"),
        (line(surprise=True), "surprise", "not permitted"),
    ],
)
def test_errors_name_the_field(raw: bytes, field: str, words: str) -> None:
    errors = parse_line(raw, 7)
    assert isinstance(errors, list)
    assert any(e.field == field and words in e.message and e.position == 7 for e in errors), errors


def test_mistyped_amount() -> None:
    raw = orjson.dumps(raw_event("order.paid", None, "u-1", order_id="o", amount_fen="abc"))
    (error,) = parse_line(raw, 3)  # type: ignore[misc]
    assert error.field == "data.amount_fen"


def test_oversized_event_is_refused() -> None:
    raw = orjson.dumps(
        raw_event(
            "message.posted", "g", "u", message_id="m", kind="text", text="字" * MAX_EVENT_BYTES
        )
    )
    (error,) = parse_line(raw, 1)  # type: ignore[misc]
    assert "larger than" in error.message


def test_batch_collects_every_error_and_skips_blank_lines() -> None:
    batch = parse_lines([(1, line()), (2, b"   "), (3, b"{"), (4, line(at="x"))])
    assert len(batch.events) == 1
    assert [e.position for e in batch.errors] == [3, 4]


@pytest.mark.parametrize("etype", sorted(STAFF_EVENT_TYPES))
def test_staff_events_say_who_acted(etype: str) -> None:
    data = {k: v for k, v in GOOD[etype].items() if k != "by"}
    errors = parse_line(orjson.dumps(raw_event(etype, "g-1", "u-1", **data)), 1)
    assert isinstance(errors, list)
    assert [(e.field, e.message) for e in errors] == [("data.by", "Field required")]


def test_a_staff_event_is_named_by_its_operation_and_target() -> None:
    assert staff_event_id("spend", "order-9") == "spend:order-9"
    long = staff_event_id("review", "camp:" + "x" * 300)
    assert len(long) <= 128 and long.startswith("review:")
    assert long == staff_event_id("review", "camp:" + "x" * 300)  # the same target, the same id
    assert long != staff_event_id("review", "camp:" + "y" * 300)
