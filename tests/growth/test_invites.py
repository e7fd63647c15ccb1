"""Invites and rewards: the hold on the scheduler, validity, qualifying actions, anti-fraud
signals with staff review, idempotent issuing, budget caps, the referral graph."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from shequn.community.workspace import WorkspaceInfo
from shequn.engine.ingest import tick
from shequn.engine.service import do_ingest_events
from shequn.growth import fission, livecode
from shequn.growth.referrals import referral_graph
from shequn.growth.rewards import do_review, list_rewards, spent_fen
from shequn.platform.db import transaction
from tests.factories import NOW, T0, left, posted
from tests.factories import joined as join_event
from tests.growth.helpers import configure, rows

DAY = timedelta(days=1)


def invitation(**spec: Any) -> dict[str, Any]:
    return {
        "model": "invitation",
        "name": "老带新",
        "ladder": [
            {"min_invites": 1, "per_invite_fen": 1000},
            {"min_invites": 5, "per_invite_fen": 2000},
        ],
        **spec,
    }


def setup(
    engine: Engine, ws: WorkspaceInfo, growth: dict | None = None, **spec: Any
) -> WorkspaceInfo:
    doc: dict[str, Any] = {"campaigns": {"camp": invitation(**spec)}}
    if growth:
        doc["growth"] = growth
    ws = configure(engine, ws, doc)
    do_ingest_events(engine, ws, [join_event("boss", at=T0 - DAY)])
    return ws


NAMES = [
    *("张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊"),
    *("黄敏", "周杰", "吴霞", "徐涛", "孙丽", "马超", "朱琳"),
]


def invite(member: str, at: datetime, inviter: str = "boss", **kw: Any):
    # Distinct names by default: look-alike names are a fraud signal of their own.
    kw.setdefault("nickname", NAMES[sum(map(ord, member)) % len(NAMES)])
    return join_event(member, at=at, inviter=inviter, scene="invite", **kw)


def rewards(engine: Engine, ws: WorkspaceInfo, **kw: Any) -> list[dict]:
    with engine.connect() as conn:
        return list_rewards(conn, ws, **kw)


def test_an_invite_counts_after_the_hold_and_only_once(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = setup(engine, workspace)
    evs = [invite("u-1", T0), invite("u-2", T0 + timedelta(minutes=30))]
    do_ingest_events(engine, ws, evs)
    assert rewards(engine, ws) == []  # held: validity is not known yet
    assert {r["status"] for r in rows(engine, ws, "referrals")} == {"held"}
    tick(engine, ws, T0 + DAY + timedelta(hours=1))
    issued = rewards(engine, ws)
    assert [(r["member"], r["amount_fen"], r["status"], r["subject"]) for r in issued] == [
        ("boss", 1000, "issued", "u-1"),
        ("boss", 1000, "issued", "u-2"),
    ]
    # Replaying the same events (and running the scheduler again) issues nothing more.
    do_ingest_events(engine, ws, evs)
    tick(engine, ws, T0 + 3 * DAY)
    assert rewards(engine, ws) == issued


def test_invalid_invites(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = setup(engine, workspace)
    do_ingest_events(engine, ws, [join_event("old", "g-2", at=T0 - 2 * DAY)])
    do_ingest_events(
        engine,
        ws,
        [
            invite("old", T0),  # not new to the workspace
            invite("boss2", T0, inviter="boss2"),  # invited themselves
            invite("quitter", T0),
            left("quitter", at=T0 + timedelta(hours=2)),  # left during the hold
        ],
    )
    tick(engine, ws, T0 + 2 * DAY)
    reasons = {r["invitee"]: (r["status"], r["reason"]) for r in rows(engine, ws, "referrals")}
    assert reasons == {
        "old": ("invalid", "not_new"),
        "boss2": ("invalid", "self"),
        "quitter": ("invalid", "left"),
    }
    assert rewards(engine, ws) == []


def test_qualifying_action_must_follow(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = setup(
        engine, workspace, growth={"validity": {"qualify": "speak", "qualify_within_hours": 48}}
    )
    do_ingest_events(engine, ws, [invite("talker", T0), invite("silent", T0)])
    tick(engine, ws, T0 + DAY + timedelta(minutes=1))
    assert {r["invitee"]: r["status"] for r in rows(engine, ws, "referrals")} == {
        "talker": "waiting",
        "silent": "waiting",
    }
    do_ingest_events(engine, ws, [posted("talker", "大家好", at=T0 + 30 * timedelta(hours=1))])
    tick(engine, ws, T0 + 3 * DAY)
    assert {r["invitee"]: (r["status"], r["reason"]) for r in rows(engine, ws, "referrals")} == {
        "talker": ("valid", None),
        "silent": ("invalid", "not_qualified"),
    }
    assert [r["subject"] for r in rewards(engine, ws)] == ["talker"]


def test_same_device_waits_for_review_and_staff_decide(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = setup(engine, workspace)
    with transaction(engine) as conn:
        livecode.do_create_code(conn, ws, "lc-1", groups_=["g-1"], at=NOW)
        livecode.do_scan(
            conn, ws, "lc-1", at=T0, scanner="boss", device="phone-A", address="10.0.0.7"
        )
        livecode.do_scan(
            conn, ws, "lc-1", at=T0, scanner="alt", device="phone-A", address="10.0.0.8"
        )
    do_ingest_events(engine, ws, [invite("alt", T0 + timedelta(minutes=1))])
    tick(engine, ws, T0 + 2 * DAY)
    (reward,) = rewards(engine, ws)
    assert reward["status"] == "review"
    assert set(reward["fraud_reasons"]) == {"same_device", "same_network"}
    assert reward["fraud_score"] == 90
    task = [a for a in rows(engine, ws, "actions") if a["kind"] == "staff.task"]
    assert len(task) == 1 and "风险分 90" in task[0]["data"]["task"]
    with transaction(engine) as conn:
        decided = do_review(conn, ws, reward["id"], approve=True, by="alice", at=T0 + 3 * DAY)
    assert (decided["status"], decided["decided_by"]) == ("issued", "alice")


def test_bursts_and_look_alike_names_are_flagged(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = setup(engine, workspace, growth={"validity": {"burst_count": 4, "burst_minutes": 10}})
    evs = [invite(f"u-{i}", T0 + timedelta(minutes=i), nickname=f"小号{i:02d}") for i in range(6)]
    do_ingest_events(engine, ws, evs)
    tick(engine, ws, T0 + 2 * DAY)
    by_subject = {r["subject"]: r for r in rewards(engine, ws)}
    assert by_subject["u-0"]["status"] == "issued"
    assert by_subject["u-5"]["status"] == "review"
    assert {"burst", "look_alike"} <= set(by_subject["u-5"]["fraud_reasons"])


def test_daily_limit_per_inviter(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = setup(engine, workspace, growth={"validity": {"per_inviter_daily": 2, "burst_count": 100}})
    do_ingest_events(engine, ws, [invite(f"u-{i}", T0 + timedelta(hours=i)) for i in range(3)])
    tick(engine, ws, T0 + 2 * DAY)
    statuses = [(r["subject"], r["status"], r["fraud_reasons"]) for r in rewards(engine, ws)]
    assert statuses == [
        ("u-0", "issued", []),
        ("u-1", "issued", []),
        ("u-2", "review", ["rate_limit"]),
    ]


def test_leaving_right_after_a_reward_reverses_it(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = setup(engine, workspace)
    do_ingest_events(engine, ws, [invite("u-1", T0)])
    tick(engine, ws, T0 + DAY + timedelta(minutes=1))
    do_ingest_events(engine, ws, [left("u-1", at=T0 + 2 * DAY), invite("u-2", T0 + 3 * DAY)])
    tick(engine, ws, T0 + 5 * DAY)
    by_subject = {r["subject"]: r for r in rewards(engine, ws)}
    assert by_subject["u-1"]["status"] == "reversed"
    assert "撤回" in by_subject["u-1"]["note"]
    assert "left_early" in by_subject["u-2"]["fraud_reasons"]


def test_milestones_task_and_lottery(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = setup(
        engine,
        workspace,
        ladder=[],
        milestones=[
            {"on": "joined", "amount_fen": 1500},
            {"on": "first_order", "amount_fen": 1500},
            {"on": "repurchase", "amount_fen": 2000},
        ],
        task={"invites": 2, "reward": {"kind": "cash", "amount_fen": 5000}},
        lottery_chances_per_invite=1,
        lottery=[{"weight": 1, "reward": {"kind": "points", "points": 50}}],
    )
    order = {"order_id": "o-1", "amount_fen": 9900}
    from tests.factories import event

    do_ingest_events(
        engine,
        ws,
        [
            invite("u-1", T0),
            invite("u-2", T0),
            event("order.paid", None, "u-1", T0 + timedelta(hours=2), **order),
        ],
    )
    tick(engine, ws, T0 + DAY + timedelta(minutes=1))
    do_ingest_events(
        engine,
        ws,
        [event("order.paid", None, "u-1", T0 + 2 * DAY, order_id="o-2", amount_fen=5000)],
    )
    got = sorted((r["reason"], r["subject"], r["amount_fen"]) for r in rewards(engine, ws))
    assert got == [
        ("milestone_first_order", "u-1", 1500),
        ("milestone_joined", "u-1", 1500),
        ("milestone_joined", "u-2", 1500),
        ("milestone_repurchase", "u-1", 2000),
        ("task", "boss", 5000),
    ]
    with transaction(engine) as conn:
        first = fission.do_draw(conn, ws, "camp", "sandbox", "boss", T0 + 3 * DAY)
        second = fission.do_draw(conn, ws, "camp", "sandbox", "boss", T0 + 3 * DAY)
    assert (first["draw"], second["left"]) == (1, 0)
    levels = rows(engine, ws, "levels")
    assert {r["member"]: r["balance"] for r in levels}["boss"] >= 100


def test_budget_cap_holds_under_concurrency(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = setup(
        engine,
        workspace,
        budget_fen=5000,
        ladder=[{"min_invites": 1, "per_invite_fen": 1000}],
        growth={"validity": {"burst_count": 100, "per_inviter_daily": 100}},
    )

    # Twelve batches at once, each with an invite and, two days later, a message that runs
    # the due holds: rewards are decided in concurrent transactions.
    def one(i: int) -> None:
        do_ingest_events(
            engine,
            ws,
            [
                invite(f"u-{i}", T0 + timedelta(seconds=i)),
                posted(f"u-{i}", "你好", at=T0 + 2 * DAY + timedelta(seconds=i)),
            ],
        )

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(one, range(12)))
    tick(engine, ws, T0 + 3 * DAY)
    ledger = rewards(engine, ws)
    issued = [r for r in ledger if r["status"] == "issued"]
    assert len(ledger) == 12
    assert sum(r["amount_fen"] for r in issued) == 5000
    assert {r["note"] for r in ledger if r["status"] == "rejected"} == {"budget"}
    with engine.connect() as conn:
        assert spent_fen(conn, ws.id, "camp") == 5000


def test_staff_approval_respects_the_budget(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = setup(
        engine,
        workspace,
        budget_fen=3000,
        ladder=[{"min_invites": 1, "per_invite_fen": 1000}],
        growth={"validity": {"review_score": 1, "weights": {"look_alike": 1}}},
    )
    # Look-alike names flag every reward but the first; a reward in review keeps its place
    # in the budget, so approving them all at once cannot overspend.
    evs = [invite(f"u-{i}", T0 + timedelta(hours=i), nickname=f"小号{i}") for i in range(5)]
    do_ingest_events(engine, ws, evs)
    tick(engine, ws, T0 + 2 * DAY)
    waiting = [r["id"] for r in rewards(engine, ws, status="review")]
    assert waiting

    def approve(reward_id: int) -> str:
        with transaction(engine) as conn:
            return str(
                do_review(conn, ws, reward_id, approve=True, by="staff", at=T0 + 3 * DAY)["status"]
            )

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(approve, waiting))
    with engine.connect() as conn:
        assert spent_fen(conn, ws.id, "camp") <= 3000
    assert sum(r["amount_fen"] for r in rewards(engine, ws, status="issued")) <= 3000


def test_referral_graph(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = setup(engine, workspace)
    do_ingest_events(
        engine,
        ws,
        [
            invite("a", T0),
            invite("b", T0),
            invite("c", T0 + timedelta(hours=1), inviter="a"),
            invite("d", T0 + timedelta(hours=2), inviter="c"),
            invite("e", T0 + timedelta(hours=2), inviter="c"),
            left("e", at=T0 + timedelta(hours=3)),
        ],
    )
    tick(engine, ws, T0 + 2 * DAY)
    with engine.connect() as conn:
        graph = referral_graph(conn, ws, "camp")
    assert (graph["invites"], graph["valid"], graph["invalid"], graph["depth"]) == (5, 4, 1, 3)
    assert [(x["depth"], x["invites"], x["valid"]) for x in graph["layers"]] == [
        (1, 2, 2),
        (2, 1, 1),
        (3, 2, 1),
    ]
    assert graph["leaderboard"][0] == {
        "channel": "sandbox",
        "member": "boss",
        "valid": 2,
        "invites": 2,
    }
    assert graph["participants"] == 3 and graph["k_factor"] == round(5 / 3 * 4 / 5, 4)


def test_mutual_benefit_rewards_both(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = configure(
        engine,
        workspace,
        {
            "campaigns": {
                "mutual": {
                    "model": "mutual",
                    "name": "互利",
                    "sharer_reward": {"kind": "redpacket", "amount_fen": 300},
                    "helper_reward": {"kind": "points", "points": 20},
                }
            }
        },
    )
    do_ingest_events(engine, ws, [join_event("boss", at=T0 - DAY), invite("u-1", T0)])
    tick(engine, ws, T0 + 2 * DAY)
    got = {(r["member"], r["kind"], r["amount_fen"], r["points"]) for r in rewards(engine, ws)}
    assert got == {("boss", "redpacket", 300, 0), ("u-1", "points", 0, 20)}
    assert {r["member"]: r["balance"] for r in rows(engine, ws, "levels")}.get("u-1", 0) >= 20
