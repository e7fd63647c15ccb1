"""A replay of the log rebuilds every table: a history of community events and staff
operations (spending points, reverting violations, reviewing, reversing and paying out
rewards), replayed into a fresh workspace, gives the same rows in every table of the schema;
and a backtest with the live configuration finds no difference."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, Table, select

from shequn.community.service import do_apply_config, do_create_workspace, stored_config
from shequn.community.workspace import WorkspaceInfo
from shequn.domains import all_tables
from shequn.engagement.service import do_spend_points
from shequn.engine.backtest import logged_events, run_backtest
from shequn.engine.ingest import tick
from shequn.engine.service import do_ingest_events
from shequn.events import Event
from shequn.growth.rewards import do_mark_paid, do_reverse, do_review, list_rewards
from shequn.moderation.service import do_revert_violation
from shequn.platform.db import transaction
from tests.factories import NOW, T0, joined, minutes, posted

DAY = timedelta(days=1)
STAFF_AT = T0 + 3 * DAY
END = T0 + 5 * DAY
AD = "加我微信 abc12345 优惠多多"

DOCUMENT = {
    "moderation": {
        "ladder": [
            {"actions": ["delete", "warn"]},
            {"actions": ["delete", "remove"]},
            {"actions": ["delete", "blacklist"]},
        ]
    },
    # Look-alike invitees: every reward waits for staff's review.
    "growth": {"validity": {"review_score": 1, "weights": {"look_alike": 1}}},
    "campaigns": {
        "cash": {
            "model": "invitation",
            "name": "春季老带新",
            "groups": ["g-1"],
            "ladder": [{"min_invites": 1, "per_invite_fen": 1000}],
        },
        "mutual": {
            "model": "mutual",
            "name": "好友同享",
            "groups": ["g-2"],
            "sharer_reward": {"kind": "points", "points": 100},
            "helper_reward": {"kind": "points", "points": 20},
        },
    },
}

# What the comparison leaves out, and why:
# - `workspace_id` in every table: which workspace a row belongs to; the replay's is another.
# - the `workspaces` row (id, slug, name, created_at, and the stored configuration `config`,
#   `config_version`): the test makes the replay's workspace and copies the configuration to
#   it; neither is replayed.
# - the console's people (`users`, `workspace_roles`, `user_sessions`): who may sign in is not
#   a workspace's history.
# - every autoincrement primary key (`id`, and the log's `seq`): surrogate keys the database
#   numbers in insertion order, different beside other workspaces or in another database.
#   The log's order is still compared: its events are listed in `seq` order.
# Translated, not left out: values derived from the workspace id are replaced by what they are
# derived from, wherever they appear — action ids (by their idempotency key), violation ids
# (by the channel and the event they were recorded for), coupon codes (by their issuing key).
# A reward's row id in an action's data becomes the reward's key, and a column referring to
# a surrogate key (live_code_groups.code_id …) becomes the row it refers to.


def history(engine: Engine, ws: WorkspaceInfo) -> list[Event]:
    """The workspace's whole log, in log order, as the backtest reads it."""
    return list(logged_events(engine, ws))


def _surrogate(table: Table) -> str | None:
    column = table.autoincrement_column
    return column.name if column is not None else None


def _text(row: dict[str, Any]) -> str:
    plain = {str(k): v for k, v in row.items()}  # column names are str subclasses
    return orjson.dumps(plain, option=orjson.OPT_SORT_KEYS, default=str).decode()


def snapshot(engine: Engine, ws: WorkspaceInfo) -> dict[str, list[str]]:
    """Every table's rows of one workspace, each as comparable text (see the notes above)."""
    metadata = all_tables()
    with engine.connect() as conn:

        def rows(name: str) -> list[dict[str, Any]]:
            t = metadata.tables[name]
            stmt = select(t).where(t.c.workspace_id == ws.id)
            if name == "events":
                stmt = stmt.order_by(t.c.seq)
            return [dict(r) for r in conn.execute(stmt).mappings()]

        derived: dict[str, str] = {}
        for r in rows("actions"):
            derived[r["id"]] = f"action<{r['idempotency_key']}>"
        for r in rows("violations"):
            derived[r["id"]] = f"violation<{r['channel']}:{r['caused_by']}>"
        for r in rows("coupons"):
            derived[r["code"]] = f"coupon<{r['key']}>"
        reward_keys = {r["id"]: r["key"] for r in rows("rewards")}

        def translate(text: str) -> str:
            for raw, stable in derived.items():
                text = text.replace(raw, stable)
            return text

        out: dict[str, list[str]] = {}
        by_surrogate: dict[str, dict[int, str]] = {}
        for table in metadata.sorted_tables:
            if table.name in ("workspaces", "users", "workspace_roles", "user_sessions"):
                continue
            surrogate = _surrogate(table)
            refs = {
                c.name: next(iter(c.foreign_keys)).column.table.name
                for c in table.columns
                if c.foreign_keys and c.name != "workspace_id"
            }
            texts, ids = [], {}
            for row in rows(table.name):
                if table.name == "actions" and "reward" in row["data"]:
                    row["data"] = {**row["data"], "reward": reward_keys[row["data"]["reward"]]}
                for column, parent in refs.items():
                    row[column] = by_surrogate[parent][row[column]]
                kept = {k: v for k, v in row.items() if k not in ("workspace_id", surrogate)}
                text = translate(_text(kept))
                texts.append(text)
                if surrogate is not None:
                    ids[row[surrogate]] = text
            by_surrogate[table.name] = ids
            out[table.name] = texts if table.name == "events" else sorted(texts)
    return out


def replay(engine: Engine, source: WorkspaceInfo, batch_size: int) -> WorkspaceInfo:
    """A fresh workspace with the source's configuration, fed the source's log."""
    with transaction(engine) as conn:
        slug = f"replay-{uuid.uuid4().hex[:10]}"
        do_create_workspace(conn, slug, now=NOW)
        ws = do_apply_config(conn, slug, stored_config(conn, source.slug))
    do_ingest_events(engine, ws, history(engine, source), batch_size=batch_size)
    tick(engine, ws, END)
    return ws


def rewards_of(engine: Engine, ws: WorkspaceInfo) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return list_rewards(conn, ws)


def live_history(engine: Engine, workspace: WorkspaceInfo) -> WorkspaceInfo:
    """Community life, then staff at work, then more community life."""
    with transaction(engine) as conn:
        ws = do_apply_config(conn, workspace.slug, DOCUMENT)
    evs = [joined("boss", "g-1", at=T0 - DAY, nickname="老板")]
    evs += [joined("boss", "g-2", at=T0 - DAY + minutes(1), nickname="老板")]
    evs += [posted("boss", "签到", "g-1", at=T0 - DAY + minutes(2))]
    invitees = [("u-1", "g-1"), ("u-2", "g-1"), ("u-3", "g-1"), ("u-4", "g-2"), ("u-5", "g-2")]
    for i, (member, group) in enumerate(invitees):
        invite = dict(inviter="boss", scene="invite", nickname=f"小号{i}")
        evs.append(joined(member, group, at=T0 + minutes(30 * i), **invite))
    evs += [joined("u-9", "g-1", at=T0 + minutes(5))]
    evs += [posted("u-9", f"签到 {i}", "g-1", at=T0 + minutes(6 + i)) for i in range(3)]
    evs += [posted("u-9", AD + "!" * i, "g-1", at=T0 + minutes(10 + i)) for i in range(3)]
    evs.sort(key=lambda e: e.at)
    do_ingest_events(engine, ws, evs)
    tick(engine, ws, T0 + 2 * DAY)  # the invites' holds: every reward now waits for review

    def reward(campaign: str, member: str, key_part: str = "") -> dict[str, Any]:
        return next(
            r
            for r in rewards_of(engine, ws)
            if r["campaign"] == campaign and r["member"] == member and key_part in r["key"]
        )

    cash = sorted(
        (r for r in rewards_of(engine, ws) if r["campaign"] == "cash"), key=lambda r: r["key"]
    )
    assert [r["status"] for r in cash] == ["review"] * 3
    at = iter(STAFF_AT + minutes(m) for m in range(100))

    def review(row: dict[str, Any], approve: bool, note: str | None = None) -> dict[str, Any]:
        with transaction(engine) as conn:
            return do_review(
                conn, ws, row["id"], approve=approve, by="小王", at=next(at), note=note
            )

    assert review(cash[0], True)["status"] == "issued"
    assert review(cash[1], False, "重复账号")["status"] == "rejected"
    u4 = [r for r in rewards_of(engine, ws) if r["campaign"] == "mutual" and "u-4" in r["key"]]
    assert len(u4) == 2 and {r["status"] for r in u4} == {"review"}
    for row in u4:
        review(row, True)
    review(reward("mutual", "boss", "u-5"), True)
    review(reward("mutual", "u-5"), False)
    with transaction(engine) as conn:
        assert do_mark_paid(conn, ws, [cash[0]["id"]], by="财务", at=next(at)) == 1
        reversed_ = do_reverse(conn, ws, cash[2]["id"], by="小王", at=next(at), note="刷单")
    assert reversed_["status"] == "reversed"
    violations = sorted(
        (v for v in snapshot_rows(engine, ws, "violations") if v["member_ext"] == "u-9"),
        key=lambda v: v["at"],
    )
    assert [v["actions"] for v in violations] == [
        ["delete", "warn"], ["delete", "remove"], ["delete", "blacklist"],
    ]  # fmt: skip
    with transaction(engine) as conn:
        done = do_revert_violation(conn, ws, violations[2]["id"], "staff-1", now=next(at))
        assert done["restore_task"] is True
    with transaction(engine) as conn:
        do_revert_violation(conn, ws, violations[1]["id"], "staff-1", now=next(at))
    spend = dict(channel="sandbox", member="boss", amount=50, reason="兑换蛋糕券", key="order-9")
    with transaction(engine) as conn:
        first = do_spend_points(conn, ws, **spend, now=next(at))  # type: ignore[arg-type]
    with transaction(engine) as conn:
        again = do_spend_points(conn, ws, **spend, now=next(at))  # type: ignore[arg-type]
    assert (first["duplicate"], again["duplicate"]) == (False, True)
    sharer = reward("mutual", "boss", "u-4")
    with transaction(engine) as conn:
        assert do_reverse(conn, ws, sharer["id"], by="小王", at=next(at))["status"] == "reversed"
    later = STAFF_AT + timedelta(hours=2)
    do_ingest_events(
        engine,
        ws,
        [
            joined("u-9", "g-2", at=later),  # off the ban list: welcome, not removed
            posted("u-9", AD + "!!!", "g-2", at=later + minutes(1)),  # a second offence now
            posted("boss", "签到", "g-1", at=T0 + 4 * DAY),
        ],
    )
    tick(engine, ws, END)
    # Off the ban list, u-9 joins again unhindered; the next ad is a second offence, not a fourth.
    rules = {a["rule"] for a in snapshot_rows(engine, ws, "actions")}
    assert "moderation.banlist" not in rules
    last = max(snapshot_rows(engine, ws, "violations"), key=lambda v: v["at"])
    assert (last["group_ext"], last["offence"], last["actions"]) == ("g-2", 2, ["delete", "remove"])
    ledger = snapshot_rows(engine, ws, "points_ledger")
    assert {r["kind"] for r in ledger} >= {"revert", "spend", "reward", "reward_reversal"}
    return ws


def snapshot_rows(engine: Engine, ws: WorkspaceInfo, name: str) -> list[dict[str, Any]]:
    t = all_tables().tables[name]
    with engine.connect() as conn:
        return [
            dict(r) for r in conn.execute(select(t).where(t.c.workspace_id == ws.id)).mappings()
        ]


@pytest.mark.parametrize("batch_size", [20_000, 1])
def test_a_replay_with_staff_operations_rebuilds_every_table(
    engine: Engine, workspace: WorkspaceInfo, batch_size: int
) -> None:
    ws = live_history(engine, workspace)
    live = snapshot(engine, ws)
    replayed = snapshot(engine, replay(engine, ws, batch_size))
    assert replayed.keys() == live.keys()
    differ = {
        name: {
            "live only": [r for r in live[name] if r not in replayed[name]],
            "replay only": [r for r in replayed[name] if r not in live[name]],
        }
        for name in live
        if live[name] != replayed[name]
    }
    assert differ == {}
    staff_types = {"points.spent", "violation.reverted", "reward.reviewed", "reward.reversed"}
    assert staff_types | {"reward.paid"} <= {e.type for e in history(engine, ws)}
    # The same events again are the same events: nothing is done twice.
    again = do_ingest_events(engine, ws, history(engine, ws), batch_size=batch_size)
    assert again.accepted == 0 and again.duplicates == len(live["events"])
    assert snapshot(engine, ws) == live
    # The history is not trivial: what staff did is in the tables the replay rebuilt.
    assert sum('"reverted_by":"staff-1"' in row for row in live["violations"]) == 2
    assert any("兑换蛋糕券" in row for row in live["points_ledger"])
    assert sum('"status":"paid"' in row for row in live["rewards"]) == 1


def test_the_backtest_finds_no_difference_with_staff_operations(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = live_history(engine, workspace)
    with engine.connect() as conn:
        live = stored_config(conn, ws.slug)
    report = run_backtest(engine, ws, live, until=END)
    assert report.events == len(history(engine, ws))
    assert report.differences == 0
    by_rule = {r.rule: r for r in report.rules}
    # Decisions of staff events' rules are replayed on both sides: two reverts gave two
    # restore tasks, an approval its notice.
    assert by_rule["moderation.revert"].baseline == 2
    assert by_rule["growth.review"].baseline >= 1
