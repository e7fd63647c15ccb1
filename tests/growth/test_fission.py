"""Fission models end to end: campaigns in YAML and through the API, assists, votes, cards,
group buys, flash sales, presets and the participant-cost check."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shequn.community.config import ConfigRejected
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.ingest import tick
from shequn.engine.service import do_ingest_events
from shequn.growth import campaigns, fission
from shequn.growth.fission import Refused
from shequn.growth.rewards import list_rewards
from shequn.platform.db import transaction
from shequn.settings import Settings
from tests.factories import T0, event, joined, posted
from tests.growth.helpers import app_with_domains, configure, rows, token

DAY = timedelta(days=1)


def campaign(engine: Engine, ws: WorkspaceInfo, key: str, **spec: Any) -> WorkspaceInfo:
    return configure(engine, ws, {"campaigns": {key: {"name": key, **spec}}})


def test_bargain_reaches_the_target_at_the_nth_helper(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = campaign(
        engine, workspace, "kan", model="bargain", price_fen=19_900, target_fen=0, helpers=5
    )
    with transaction(engine) as conn:
        fission.do_start_assist(conn, ws, "kan", "sandbox", "me", T0)
        steps = [fission.do_help(conn, ws, "kan", "sandbox", "me", f"h-{i}", T0) for i in range(5)]
        with pytest.raises(Refused):
            fission.do_help(conn, ws, "kan", "sandbox", "me", "h-9", T0)  # already done
    cuts = [s["amount_fen"] for s in steps]
    assert cuts[0] >= 0.9 * 19_900 and sum(cuts) == 19_900
    assert [s["status"] for s in steps] == ["open"] * 4 + ["done"]
    assert steps[-1]["progress_fen"] == 0
    with engine.connect() as conn:
        (reward,) = list_rewards(conn, ws)
    assert (reward["kind"], reward["amount_fen"], reward["reason"]) == (
        "discount",
        19_900,
        "bargain",
    )
    assert [c["price_fen"] for c in rows(engine, ws, "claims")] == [0]


def test_redpacket_collection_and_its_rules(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = campaign(engine, workspace, "hb", model="redpacket", targets_fen=[1000, 10_000], helpers=3)
    with transaction(engine) as conn:
        with pytest.raises(Refused):
            fission.do_start_assist(conn, ws, "hb", "sandbox", "me", T0, target_fen=555)
        fission.do_start_assist(conn, ws, "hb", "sandbox", "me", T0, target_fen=10_000)
        first = fission.do_help(conn, ws, "hb", "sandbox", "me", "h-1", T0)
        with pytest.raises(Refused):
            fission.do_help(conn, ws, "hb", "sandbox", "me", "h-1", T0)  # once per helper
        with pytest.raises(Refused):
            fission.do_help(conn, ws, "hb", "sandbox", "me", "me", T0)  # not oneself
        fission.do_help(conn, ws, "hb", "sandbox", "me", "h-2", T0)
        last = fission.do_help(conn, ws, "hb", "sandbox", "me", "h-3", T0)
    assert first["progress_fen"] >= 9000 and last["progress_fen"] == 10_000
    with engine.connect() as conn:
        assert [(r["kind"], r["amount_fen"]) for r in list_rewards(conn, ws)] == [
            ("redpacket", 10_000)
        ]


def test_votes_rank_and_prizes_go_to_staff_claims(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = campaign(
        engine,
        workspace,
        "vote",
        model="vote",
        staff_account="staff-01",
        prizes=[
            {"up_to_rank": 1, "reward": {"kind": "cash", "amount_fen": 5000}},
            {"up_to_rank": 2, "reward": {"kind": "points", "points": 100}},
        ],
    )
    with transaction(engine) as conn:
        for entrant in ("a", "b", "c"):
            fission.do_start_assist(conn, ws, "vote", "sandbox", entrant, T0)
        for voter, entrant in [("v1", "b"), ("v2", "b"), ("v3", "a")]:
            fission.do_help(conn, ws, "vote", "sandbox", entrant, voter, T0)
        with pytest.raises(Refused):
            fission.do_help(conn, ws, "vote", "sandbox", "c", "v1", T0)  # one vote per voter
        ranking = fission.vote_ranking(conn, ws, "vote")
        winners = fission.do_close_vote(conn, ws, "vote", T0 + DAY)
    assert [(r["member"], r["votes"]) for r in ranking] == [("b", 2), ("a", 1), ("c", 0)]
    assert [(w["member"], w["rank"], w["staff_account"]) for w in winners] == [
        ("b", 1, "staff-01"),
        ("a", 2, "staff-01"),
    ]


def test_cards_drop_double_for_newcomers_gift_and_unlock(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = campaign(
        engine,
        workspace,
        "cards",
        model="cards",
        starts_at=(T0 - DAY).isoformat(),
        cards=[
            {"name": "福", "weight": 5},
            {"name": "禄", "weight": 3},
            {"name": "寿", "weight": 1},
        ],
        drops={"join": 1, "checkin": 2, "order": 1},
        reward={"kind": "identity", "identity": "集卡达人", "value_fen": 0},
    )
    evs = [joined("old", at=T0 - 30 * DAY), joined("new", at=T0)]
    evs += [posted(m, "签到", at=T0 + d * DAY) for d in range(8) for m in ("old", "new")]
    evs += [posted("new", "签到 again", at=T0 + timedelta(hours=1))]  # same day: no drop
    do_ingest_events(engine, ws, evs)
    cards = rows(engine, ws, "cards")
    per = {m: sum(c["delta"] for c in cards if c["member"] == m) for m in ("old", "new")}
    assert per == {"old": 16, "new": 2 + 32}  # newcomers: join and every drop doubled
    with engine.connect() as conn:
        held = fission.holdings(conn, ws.id, "cards", "sandbox", "new")
    card = next(iter(held))
    with transaction(engine) as conn:
        after = fission.do_gift_card(conn, ws, "cards", "sandbox", "new", "friend", card, T0 + DAY)
        with pytest.raises(Refused):
            fission.do_gift_card(conn, ws, "cards", "sandbox", "friend", "x", "不存在", T0 + DAY)
    assert after == {card: 1}
    with engine.connect() as conn:
        unlocked = {r["member"] for r in list_rewards(conn, ws) if r["reason"] == "full_set"}
        full = {
            m
            for m in ("old", "new")
            if len(fission.holdings(conn, ws.id, "cards", "sandbox", m)) == 3
        }
    assert full <= unlocked, (full, unlocked)
    assert unlocked, held  # 34 draws: the newcomer's set was complete before the gift


def test_group_buy_thresholds_and_robot_completion(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = campaign(
        engine,
        workspace,
        "pin",
        model="group_buy",
        size=3,
        price_fen=9900,
        thresholds=[{"invites": 1, "price_fen": 100}, {"invites": 2, "price_fen": 0}],
        time_limit_hours=24,
        robot_completion=True,
    )
    do_ingest_events(engine, ws, [joined("leader", at=T0 - DAY)])
    with transaction(engine) as conn:
        opened = fission.do_open_group_buy(conn, ws, "pin", "sandbox", "leader", T0)
        joined_buy = fission.do_join_group_buy(conn, ws, "pin", "sandbox", "leader", "friend", T0)
    assert (opened["joined"], joined_buy["joined"], joined_buy["status"]) == (1, 2, "open")
    # The invite is valid (after its hold) an hour before the group buy's deadline.
    invited = T0 - timedelta(hours=1)
    do_ingest_events(engine, ws, [joined("f-1", at=invited, inviter="leader", scene="invite")])
    tick(engine, ws, T0 + DAY + timedelta(minutes=1))
    with transaction(engine) as conn:
        with pytest.raises(Refused):
            fission.do_join_group_buy(conn, ws, "pin", "sandbox", "leader", "late", T0 + 2 * DAY)
        buy = fission.public_buy(fission._buy(conn, ws, "pin", "sandbox", "leader"))
    assert (buy["status"], buy["joined"], buy["invites"], buy["price_fen"]) == ("robot", 3, 1, 100)


def test_flash_sale_stock_holds_under_concurrency(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = campaign(
        engine,
        workspace,
        "flash",
        model="flash_sale",
        price_fen=100,
        original_fen=2900,
        stock=5,
        budget_fen=100_000,
    )

    def buy(i: int) -> str:
        try:
            with transaction(engine) as conn:
                fission.do_claim(conn, ws, "flash", "sandbox", f"u-{i}", T0)
            return "ok"
        except Refused:
            return "refused"

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(buy, range(20)))
    assert outcomes.count("ok") == 5
    assert len(rows(engine, ws, "claims")) == 5
    with engine.connect() as conn:
        assert sum(r["cost_fen"] for r in list_rewards(conn, ws)) == 5 * 2800


def test_campaigns_yaml_api_presets_and_cost_warning(
    settings: Settings, engine: Engine, workspace: WorkspaceInfo
) -> None:
    auth = token(engine, workspace)
    base = f"/api/v1/workspaces/{workspace.slug}/campaigns"
    risky = {
        "model": "invitation",
        "name": "邀请领红包",
        "ladder": [{"min_invites": 1, "per_invite_fen": 200}],
        "participant_cost": {"asks": ["id_card", "phone"]},
        "starts_at": "2026-12-01T00:00:00+08:00",
        "ends_at": "2026-12-08T00:00:00+08:00",
        "budget_fen": 100_000,
        "owner": "运营小李",
        "goal": {"new_members": 500},
        "forecast": {"new_members": 400},
    }
    with TestClient(app_with_domains(settings, engine)) as client:
        r = client.put(
            f"{base}/invite", content=yaml.safe_dump(risky, allow_unicode=True), headers=auth
        )
        assert r.status_code == 200, r.text
        assert r.json()["warnings"] and "id_card" in r.json()["warnings"][0]
        bad = client.put(
            f"{base}/bad",
            json={"model": "bargain", "name": "x", "price_fen": 100, "helpers": 500},
            headers=auth,
        )
        assert bad.status_code == 422
        listed = client.get(base, headers=auth).json()
        assert [c["key"] for c in listed] == ["invite"]
        presets = client.get(f"{base}/presets", headers=auth).json()
        assert set(presets) == {"redpacket", "stored_value", "coupon", "crowdfunding"}
        assert client.delete(f"{base}/invite", headers=auth).status_code == 204
        assert client.get(f"{base}/invite", headers=auth).status_code == 404
    for name in campaigns.PRESETS:
        document = campaigns.preset(name, budget_fen=50_000)
        assert campaigns.check_campaign(document).preset == name
    with pytest.raises(ConfigRejected):
        configure(
            engine,
            workspace,
            {"campaigns": {"x": {"model": "group_buy", "name": "x", "size": 1, "price_fen": 1}}},
        )


def test_orders_drop_cards_and_shares_count(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = campaign(
        engine,
        workspace,
        "cards",
        model="cards",
        cards=[{"name": "A", "weight": 1}, {"name": "B", "weight": 1}],
        drops={"order": 1, "share": 1},
        new_user_multiplier=1,
    )
    do_ingest_events(
        engine,
        ws,
        [
            joined("u-1", at=T0 - 30 * DAY),
            event("order.paid", None, "u-1", T0, order_id="o-1", amount_fen=100),
            event("poster.shared", None, "u-1", T0, campaign="cards"),
        ],
    )
    assert [c["reason"] for c in rows(engine, ws, "cards")] == ["order", "share"]
    (p,) = rows(engine, ws, "participants")
    assert (p["member"], p["shares"]) == ("u-1", 1)


def test_fission_over_the_api(settings: Settings, engine: Engine, workspace: WorkspaceInfo) -> None:
    auth = token(engine, workspace)
    base = f"/api/v1/workspaces/{workspace.slug}"
    at = T0.isoformat()
    with TestClient(app_with_domains(settings, engine)) as client:
        bargain = {
            "model": "bargain",
            "name": "砍价",
            "price_fen": 5000,
            "target_fen": 100,
            "helpers": 3,
        }
        assert client.put(f"{base}/campaigns/kan", json=bargain, headers=auth).status_code == 200
        start = client.post(
            f"{base}/campaigns/kan/assists", json={"member": "me", "at": at}, headers=auth
        )
        assert start.status_code == 200 and start.json()["progress_fen"] == 5000
        for i in range(3):
            helped = client.post(
                f"{base}/campaigns/kan/helps",
                json={"owner": "me", "helper": f"h{i}", "at": at},
                headers=auth,
            )
            assert helped.status_code == 200, helped.text
        assert helped.json()["progress_fen"] == 100 and helped.json()["status"] == "done"
        again = client.post(
            f"{base}/campaigns/kan/helps", json={"owner": "me", "helper": "h9"}, headers=auth
        )
        assert again.status_code == 409
        flash = {"model": "free_gift", "name": "免费领", "stock": 1, "original_fen": 990}
        client.put(f"{base}/campaigns/gift", json=flash, headers=auth)
        taken = client.post(f"{base}/campaigns/gift/claims", json={"member": "a"}, headers=auth)
        assert taken.status_code == 200 and taken.json()["price_fen"] == 0
        gone = client.post(f"{base}/campaigns/gift/claims", json={"member": "b"}, headers=auth)
        assert gone.status_code == 409 and "已抢光" in gone.json()["detail"]
        ledger = client.get(f"{base}/rewards", headers=auth).json()
        assert [r["reason"] for r in ledger] == ["bargain", "free_gift"]
        paid = client.post(
            f"{base}/rewards/paid", json={"ids": [r["id"] for r in ledger]}, headers=auth
        )
        assert paid.json() == {"paid": 0}  # discounts are not cash liabilities
        who = client.get(f"{base}/members/me/attribution", headers=auth).json()
        assert who["member"] == "me" and who["campaign"] is None


def test_a_group_buy_short_at_the_deadline_asks_staff_to_refund(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = campaign(
        engine,
        workspace,
        "pin2",
        model="group_buy",
        size=3,
        price_fen=9900,
        time_limit_hours=24,
    )
    do_ingest_events(engine, ws, [joined("leader", at=T0 - DAY)])
    with transaction(engine) as conn:
        fission.do_open_group_buy(conn, ws, "pin2", "sandbox", "leader", T0)
    tick(engine, ws, T0 + DAY + timedelta(minutes=1))
    with transaction(engine) as conn:
        buy = fission.public_buy(fission._buy(conn, ws, "pin2", "sandbox", "leader"))
    assert buy["status"] == "failed"
    tasks = [
        a
        for a in rows(engine, ws, "actions")
        if a["kind"] == "staff.task" and a["member"] == "leader"
    ]
    assert len(tasks) == 1 and "退款" in tasks[0]["reason"]
