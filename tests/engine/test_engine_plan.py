"""The ingest hot path's shortcuts decide exactly what the plain path would: the rule plan
per group configuration, the context reused from event to event, and updates that write
only the columns that changed."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event

from shequn.community.config import check_config
from shequn.community.service import do_apply_config
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.rules import Context
from shequn.engine.service import do_ingest_events
from shequn.exports import write_export
from shequn.platform.db import transaction
from tests.conftest import create_workspace
from tests.factories import T0, joined, minutes, posted
from tests.factories import event as make_event

# Keyword replies and introductions are off for the workspace and on for one blueprint's
# groups: their rules must run for those groups' events only.
CONFIG: dict[str, Any] = {
    "keywords": {"replies": []},
    "blueprints": {
        "会员": {
            "type": "product",
            "settings": {
                "keywords": {
                    "replies": [{"match": "contains", "pattern": "营业", "reply": "9-21"}]
                },
                "intro": {"enabled": True, "remind_after_hours": 1},
            },
        }
    },
    "groups": {"overrides": {"g-off": {"settings": {"checkin": {"enabled": False}}}}},
}


def history() -> list[Any]:
    evs = [
        make_event("group.created", "g-vip", at=T0, name="会员群", blueprint="会员"),
        make_event("group.created", "g-plain", at=T0, name="普通群"),
        make_event("group.created", "g-off", at=T0, name="安静群"),
    ]
    for n, group in enumerate(("g-vip", "g-plain", "g-off")):
        evs.append(joined(f"u-{n}", group=group, at=T0 + minutes(1)))
        evs.append(posted(f"u-{n}", "请问营业时间", group=group, at=T0 + minutes(2)))
        evs.append(posted(f"u-{n}", "签到", group=group, at=T0 + minutes(3)))
    evs.append(posted("u-9", "营业吗", group="g-vip", at=T0 + minutes(4 * 60)))
    return evs


def actions(engine: Engine, ws: WorkspaceInfo) -> list[tuple[Any, ...]]:
    buf = io.BytesIO()
    with engine.connect() as conn:
        write_export(conn, ws, "actions", "jsonl", buf)
    rows = [orjson.loads(line) for line in buf.getvalue().splitlines()]
    return sorted((r["rule"], r["kind"], r["group"], r["member"], r["caused_by"]) for r in rows)


def test_rules_follow_each_groups_configuration_whatever_the_batch(engine: Engine) -> None:
    decided = []
    evs = history()
    for batch_size in (1, 20_000):
        ws = create_workspace(engine)
        with transaction(engine) as conn:
            ws = do_apply_config(conn, ws.slug, CONFIG)
        do_ingest_events(engine, ws, evs, batch_size=batch_size)
        decided.append(actions(engine, ws))
    one_by_one, in_one_batch = decided
    assert one_by_one == in_one_batch
    by_rule = {(rule, group) for rule, _, group, _, _ in one_by_one}
    assert ("engagement.keywords", "g-vip") in by_rule
    assert ("engagement.keywords", "g-plain") not in by_rule
    assert ("engagement.checkin", "g-plain") in by_rule
    assert ("engagement.checkin", "g-off") not in by_rule
    # The introduction reminder is scheduled at the join and sent an hour later, in g-vip only.
    assert {g for rule, _, g, _, _ in one_by_one if rule == "engagement.intro"} == {"g-vip"}


def test_an_update_writes_only_the_columns_that_changed(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    do_ingest_events(engine, workspace, [joined("u-1", at=T0), posted("u-1", "hi", at=T0)])
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith('UPDATE "members"'):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        later = posted("u-1", "again", at=T0 + minutes(5))
        do_ingest_events(engine, workspace, [later])
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(statements) == 1
    assignments = statements[0].split(" SET ", 1)[1].split(" WHERE ", 1)[0]
    written = sorted(part.split(" = ")[0].strip('"') for part in assignments.split(", "))
    assert written == ["last_seen_at", "last_spoke_at", "message_count"]


ZONES = ["Asia/Shanghai", "Europe/London", "America/Santiago", "America/Havana", "Asia/Beirut"]


def _clock_changes(zone: ZoneInfo) -> list[datetime]:
    """The instants of 2025-2027 when a zone's clocks change (found hour by hour)."""
    changes, at = [], datetime(2025, 1, 1, tzinfo=UTC)
    while at.year < 2028:
        nxt = at + timedelta(hours=1)
        if at.astimezone(zone).utcoffset() != nxt.astimezone(zone).utcoffset():
            changes.append(nxt)
        at = nxt
    return changes


def _context(zone: str, now: datetime) -> Context:
    config = check_config({"workspace": {"timezone": zone}})
    return Context(WorkspaceInfo(1, "tz", config, 1), None, None, None, now)


def test_the_local_day_kept_between_events_is_right_around_clock_changes() -> None:
    """Zones that change clocks, some of them at midnight: every 10 minutes for a day and a
    half either side of each change, in order (the memo at work) and backwards."""
    checked = 0
    for name in ZONES:
        zone = ZoneInfo(name)
        changes = _clock_changes(zone)
        assert name == "Asia/Shanghai" or changes, name
        for change in changes:
            instants = [change + timedelta(minutes=m) for m in range(-36 * 60, 36 * 60, 10)]
            for order in (instants, instants[::-1]):
                ctx = _context(name, order[0])
                for at in order:
                    assert ctx.handle(at, "test").local_date() == at.astimezone(zone).date()
                    checked += 1
    assert checked > 10_000


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    st.sampled_from(ZONES),
    st.lists(st.integers(min_value=0, max_value=3 * 365 * 24 * 60), min_size=1, max_size=60),
)
def test_the_local_day_kept_between_events_is_the_days_own(zone: str, offsets: list[int]) -> None:
    """Any instants in any order, and days asked for other instants than now."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    ctx = _context(zone, start)
    for minutes_ in offsets:
        at = start + timedelta(minutes=minutes_)
        ctx.handle(at, "test")
        assert ctx.local_date() == at.astimezone(ZoneInfo(zone)).date()
        assert ctx.local_date(start) == start.astimezone(ZoneInfo(zone)).date()
