"""A fully refunded order takes back what it earned in campaigns, within the refund window:
the milestone it reached, the rewards it caused, the cards it dropped. Paid rewards get a
staff task; partial refunds change nothing until the order is refunded in full; replays and
duplicated refunds change nothing more."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine
from typer.testing import CliRunner

from shequn.community.workspace import WorkspaceInfo
from shequn.engine.ingest import tick
from shequn.engine.service import do_ingest_events
from shequn.events import Event
from shequn.growth.fission import holdings
from shequn.growth.rewards import do_mark_paid, list_rewards
from shequn.platform.db import transaction
from shequn.settings import Settings
from tests.factories import T0, event, joined
from tests.growth.helpers import configure, rows

DAY = timedelta(days=1)
MILESTONES = {
    "model": "invitation",
    "name": "老带新 50 元",
    "milestones": [
        {"on": "joined", "amount_fen": 1500},
        {"on": "first_order", "amount_fen": 1500},
        {"on": "repurchase", "amount_fen": 2000},
    ],
}


def paid(order: str, at: Any, amount: int = 9900, member: str = "u-1") -> Event:
    return event("order.paid", None, member, at, order_id=order, amount_fen=amount)


def refunded(order: str, at: Any, amount: int = 9900, member: str = "u-1", **kw: Any) -> Event:
    return event("order.refunded", None, member, at, order_id=order, amount_fen=amount, **kw)


def invited(engine: Engine, ws: WorkspaceInfo, **doc: Any) -> WorkspaceInfo:
    """boss invites u-1; the invite is valid a day later (the joined milestone is paid)."""
    ws = configure(engine, ws, {"campaigns": {"old": MILESTONES}, **doc})
    do_ingest_events(engine, ws, [joined("boss", at=T0 - DAY)])
    do_ingest_events(engine, ws, [joined("u-1", at=T0, inviter="boss", scene="invite")])
    tick(engine, ws, T0 + DAY + timedelta(minutes=1))
    return ws


def ledger(engine: Engine, ws: WorkspaceInfo) -> dict[str, tuple[str, str | None]]:
    with engine.connect() as conn:
        return {r["reason"]: (r["status"], r["note"]) for r in list_rewards(conn, ws)}


def tasks(engine: Engine, ws: WorkspaceInfo) -> list[dict[str, Any]]:
    return [a for a in rows(engine, ws, "actions") if a["rule"] == "commerce.refunds"]


def test_a_refunded_first_order_reverses_its_milestone(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = invited(engine, workspace)
    do_ingest_events(engine, ws, [paid("o-1", T0 + 2 * DAY), paid("o-2", T0 + 3 * DAY)])
    assert {k: v[0] for k, v in ledger(engine, ws).items()} == {
        "milestone_joined": "issued",
        "milestone_first_order": "issued",
        "milestone_repurchase": "issued",
    }
    do_ingest_events(engine, ws, [refunded("o-1", T0 + 4 * DAY)])
    after = ledger(engine, ws)
    assert after["milestone_first_order"] == ("reversed", "订单 o-1 已全额退款，奖励撤回")
    assert after["milestone_joined"][0] == after["milestone_repurchase"][0] == "issued"
    # The same refund delivered again, and a duplicate under another id: nothing more.
    do_ingest_events(engine, ws, [refunded("o-1", T0 + 4 * DAY)])
    do_ingest_events(engine, ws, [refunded("o-1", T0 + 5 * DAY)])
    assert ledger(engine, ws) == after
    assert tasks(engine, ws) == []
    do_ingest_events(engine, ws, [refunded("o-2", T0 + 5 * DAY)])
    assert ledger(engine, ws)["milestone_repurchase"][0] == "reversed"


def test_a_milestone_paid_at_the_end_of_the_hold_is_tied_to_the_first_order(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    """Ordered during the hold: the milestone is paid when the invite is judged valid."""
    ws = configure(engine, workspace, {"campaigns": {"old": MILESTONES}})
    do_ingest_events(engine, ws, [joined("boss", at=T0 - DAY)])
    ordered = [joined("u-1", at=T0, inviter="boss"), paid("o-1", T0 + timedelta(hours=1))]
    do_ingest_events(engine, ws, ordered)
    tick(engine, ws, T0 + 2 * DAY)
    assert ledger(engine, ws)["milestone_first_order"][0] == "issued"
    do_ingest_events(engine, ws, [refunded("o-1", T0 + 3 * DAY)])
    assert ledger(engine, ws)["milestone_first_order"][0] == "reversed"
    assert ledger(engine, ws)["milestone_joined"][0] == "issued"


def test_a_partial_refund_changes_nothing_until_the_order_is_refunded_in_full(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = invited(engine, workspace)
    do_ingest_events(engine, ws, [paid("o-1", T0 + 2 * DAY)])
    do_ingest_events(engine, ws, [refunded("o-1", T0 + 3 * DAY, amount=4000)])
    assert ledger(engine, ws)["milestone_first_order"][0] == "issued"
    do_ingest_events(engine, ws, [refunded("o-1", T0 + 4 * DAY, amount=5900)])
    assert ledger(engine, ws)["milestone_first_order"][0] == "reversed"


def test_a_refund_after_the_window_keeps_the_reward(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = invited(engine, workspace, growth={"validity": {"refund_window_days": 3}})
    do_ingest_events(engine, ws, [paid("o-1", T0 + 2 * DAY)])
    do_ingest_events(engine, ws, [refunded("o-1", T0 + 5 * DAY + timedelta(minutes=1))])
    assert ledger(engine, ws)["milestone_first_order"][0] == "issued"


def test_a_paid_reward_gets_a_staff_task_once(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = invited(engine, workspace)
    do_ingest_events(engine, ws, [paid("o-1", T0 + 2 * DAY)])
    with engine.connect() as conn:
        (first,) = [r for r in list_rewards(conn, ws) if r["reason"] == "milestone_first_order"]
    with transaction(engine) as conn:
        assert do_mark_paid(conn, ws, [first["id"]], by="staff", at=T0 + 2 * DAY) == 1
    do_ingest_events(engine, ws, [refunded("o-1", T0 + 3 * DAY)])
    do_ingest_events(engine, ws, [refunded("o-1", T0 + 4 * DAY)])
    assert ledger(engine, ws)["milestone_first_order"][0] == "paid"
    (task,) = tasks(engine, ws)
    assert (task["kind"], task["member"]) == ("staff.task", "boss")
    assert "o-1" in task["reason"] and "15.00" in task["reason"]


def test_an_order_that_qualified_an_invite_takes_its_rewards_back(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    """With `qualify: order`, the invite's reward was caused by the order."""
    ladder = {"model": "invitation", "name": "邀请", "reward_kind": "points"}
    ladder["ladder"] = [{"min_invites": 1, "per_invite_fen": 100}]
    ws = configure(
        engine,
        workspace,
        {
            "campaigns": {"inv": ladder},
            "points": {"per_message": 0},
            "growth": {"validity": {"qualify": "order", "hold_hours": 1}},
        },
    )
    do_ingest_events(engine, ws, [joined("boss", at=T0 - DAY)])
    do_ingest_events(engine, ws, [joined("u-1", at=T0, inviter="boss")])
    tick(engine, ws, T0 + 2 * timedelta(hours=1))
    do_ingest_events(engine, ws, [paid("o-1", T0 + 3 * timedelta(hours=1))])
    assert ledger(engine, ws)["invite"][0] == "issued"
    do_ingest_events(engine, ws, [refunded("o-1", T0 + DAY)])
    assert ledger(engine, ws)["invite"][0] == "reversed"
    levels = {r["member"]: r["balance"] for r in rows(engine, ws, "levels")}
    assert levels["boss"] == 0


def test_cards_an_order_dropped_go_with_its_refund(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    spec = {
        "model": "cards",
        "name": "集卡",
        "cards": [{"name": "A", "weight": 1}, {"name": "B", "weight": 1}],
        "drops": {"order": 12},
        "new_user_multiplier": 1,
        "reward": {"kind": "points", "points": 300},
    }
    ws = configure(engine, workspace, {"campaigns": {"c": spec}, "points": {"per_message": 0}})
    do_ingest_events(engine, ws, [joined("u-1", at=T0 - DAY), paid("o-1", T0)])
    with engine.connect() as conn:
        held = holdings(conn, ws.id, "c", "sandbox", "u-1")
    assert sum(held.values()) == 12 and set(held) == {"A", "B"}
    assert ledger(engine, ws)["full_set"][0] == "issued"
    do_ingest_events(engine, ws, [refunded("o-1", T0 + DAY)])
    do_ingest_events(engine, ws, [refunded("o-1", T0 + 2 * DAY)])
    with engine.connect() as conn:
        assert holdings(conn, ws.id, "c", "sandbox", "u-1") == {}
    assert ledger(engine, ws)["full_set"][0] == "reversed"
    back = [r for r in rows(engine, ws, "cards") if r["reason"] == "refund"]
    assert len(back) == 12
    assert {r["member"]: r["balance"] for r in rows(engine, ws, "levels")}["u-1"] == 0


def test_a_refund_imported_from_csv_reverses_the_milestone(
    cli_settings: Settings,
    engine: Engine,
    workspace: WorkspaceInfo,
    tmp_path: Path,
) -> None:
    from shequn.cli import app

    ws = invited(engine, workspace)
    runner = CliRunner()
    file = tmp_path / "orders.csv"
    file.write_text(
        "order_id,member,amount_fen,paid_at,refunded_fen,refunded_at\n"
        "o-1,u-1,9900,2026-11-24T10:00:00+08:00,9900,2026-11-25T10:00:00+08:00\n",
        encoding="utf-8",
    )
    done = runner.invoke(app, ["order", "import", str(file), "-w", ws.slug])
    assert done.exit_code == 0, done.output
    listed = runner.invoke(app, ["reward", "list", "-w", ws.slug, "--status", "reversed"])
    assert listed.exit_code == 0, listed.output
    (row,) = [orjson.loads(x) for x in listed.output.splitlines()]
    assert (row["reason"], row["member"]) == ("milestone_first_order", "boss")
    again = runner.invoke(app, ["order", "import", str(file), "-w", ws.slug])
    assert again.exit_code == 0, again.output
    relisted = runner.invoke(app, ["reward", "list", "-w", ws.slug, "--status", "reversed"])
    assert relisted.output == listed.output
