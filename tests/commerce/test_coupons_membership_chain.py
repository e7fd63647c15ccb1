"""Coupons (issue on join, redeem by API, webhook and order, expiry), paid membership
(reminders, gated groups, expiry) and the order-chain parser."""

from __future__ import annotations

from datetime import timedelta

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shequn.commerce.chain import parse_chain
from shequn.commerce.coupons import issue_coupon
from shequn.commerce.orders import do_create_shop, do_shop_webhook, sign
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.ingest import tick
from shequn.engine.service import do_ingest_events
from shequn.platform.db import transaction
from shequn.settings import Settings
from tests.factories import NOW, T0, event, joined, posted
from tests.growth.helpers import app_with_domains, configure, rows, token

DAY = timedelta(days=1)
COUPONS = {
    "coupons": {
        "templates": {
            "welcome-10": {
                "name": "进群立减10元",
                "amount_fen": 1000,
                "threshold_fen": 5000,
                "valid_days": 7,
            },
            "vip-90": {"name": "会员9折", "kind": "percent", "percent": 10},
        },
        "on_join": "welcome-10",
    }
}


def test_coupons_issue_redeem_and_expire(
    settings: Settings, engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = configure(engine, workspace, COUPONS)
    do_ingest_events(
        engine, ws, [joined(f"u-{i}", at=T0) for i in range(4)] + [joined("u-0", "g-2", at=T0)]
    )
    issued = rows(engine, ws, "coupons")
    assert [(c["member"], c["template"], c["reason"]) for c in issued] == [
        (f"u-{i}", "welcome-10", "join") for i in range(4)
    ]  # one per person, not per group
    code = {c["member"]: c["code"] for c in issued}
    auth = token(engine, ws)
    with TestClient(app_with_domains(settings, engine)) as client:
        base = f"/api/v1/workspaces/{ws.slug}/coupons"
        r = client.post(
            f"{base}/{code['u-0']}/redeem", json={"at": (T0 + DAY).isoformat()}, headers=auth
        )
        assert r.status_code == 200 and r.json()["status"] == "redeemed"
        # (At a given time: a redemption at the wall clock would run the expiries due by then.)
        again = client.post(
            f"{base}/{code['u-0']}/redeem", json={"at": (T0 + DAY).isoformat()}, headers=auth
        )
        assert again.status_code == 200  # the same redemption: idempotent
        wrong = client.post(
            f"{base}/{code['u-1']}/redeem",
            json={"member": "u-2", "at": (T0 + DAY).isoformat()},
            headers=auth,
        )
        assert wrong.status_code == 409
        made = client.post(
            base, json={"template": "vip-90", "member": "u-3", "key": "k1"}, headers=auth
        )
        assert made.status_code == 201 and made.json()["percent"] == 10
    # Redeemed by the shop: by webhook, and with an order.
    with transaction(engine) as conn:
        secret = do_create_shop(conn, ws, "shop", None, "sandbox", T0)
    body = orjson.dumps(
        {
            "type": "coupon.redeemed",
            "coupon_id": code["u-1"],
            "member": "u-1",
            "at": (T0 + DAY).isoformat(),
        }
    )
    with transaction(engine) as conn:
        do_shop_webhook(conn, ws, "shop", body, sign(secret, body), now=NOW, latest=None)
    do_ingest_events(
        engine,
        ws,
        [
            event(
                "order.paid",
                None,
                "u-2",
                T0 + DAY,
                order_id="o-1",
                amount_fen=6000,
                coupon=code["u-2"],
            )
        ],
    )
    tick(engine, ws, T0 + 8 * DAY)
    statuses = {
        c["member"]: c["status"]
        for c in rows(engine, ws, "coupons")
        if c["template"] == "welcome-10"
    }
    assert statuses == {"u-0": "redeemed", "u-1": "redeemed", "u-2": "redeemed", "u-3": "expired"}
    with TestClient(app_with_domains(settings, engine)) as client:
        stats = client.get(f"/api/v1/workspaces/{ws.slug}/coupons/stats", headers=auth).json()
    assert stats[1] == {
        "template": "welcome-10",
        "issued": 4,
        "redeemed": 3,
        "expired": 1,
        "redemption_rate": 0.75,
    }


def test_coupon_issue_is_idempotent_per_key(engine: Engine, workspace: WorkspaceInfo) -> None:
    ws = configure(engine, workspace, COUPONS)
    with transaction(engine) as conn:
        a = issue_coupon(
            conn,
            ws,
            template="vip-90",
            channel="sandbox",
            member="u-1",
            key="reward:x",
            reason="reward",
            at=T0,
        )
        b = issue_coupon(
            conn,
            ws,
            template="vip-90",
            channel="sandbox",
            member="u-1",
            key="reward:x",
            reason="reward",
            at=T0,
        )
    assert a["code"] == b["code"] and len(rows(engine, ws, "coupons")) == 1


PLANS = {
    "membership": {
        "plans": {
            "annual": {
                "name": "年度会员",
                "sku": "vip-annual",
                "fee_fen": 36_500,
                "period_days": 30,
                "groups": ["vip"],
                "remind_days": [7, 1],
            }
        }
    }
}


def test_paid_membership_gates_reminds_and_expires(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = configure(engine, workspace, PLANS)
    buy = {"order_id": "m-1", "amount_fen": 36_500, "items": [{"sku": "vip-annual", "qty": 1}]}
    do_ingest_events(
        engine,
        ws,
        [
            joined("stranger", "vip", at=T0),  # no membership: removed
            event("order.paid", None, "payer", T0, **buy),
            joined("payer", "vip", at=T0 + timedelta(minutes=5), nickname="阿付"),
        ],
    )
    removals = [a for a in rows(engine, ws, "actions") if a["kind"] == "member.remove"]
    assert [(a["member"], a["group"]) for a in removals] == [("stranger", "vip")]
    assert "年度会员" in removals[0]["reason"]
    tick(engine, ws, T0 + 30 * DAY + timedelta(minutes=1))
    acts = rows(engine, ws, "actions")
    reminders = [a for a in acts if a["rule"] == "commerce.renewal_reminder"]
    assert len(reminders) == 2 and all("@阿付" in a["data"]["text"] for a in reminders)
    expired = [a for a in acts if a["rule"] == "commerce.membership_expiry"]
    assert [(a["member"], a["group"]) for a in expired] == [("payer", "vip")]


def test_renewal_extends_and_stale_reminders_stay_quiet(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = configure(engine, workspace, PLANS)
    buy = {"amount_fen": 36_500, "items": [{"sku": "vip-annual", "qty": 1}]}
    do_ingest_events(
        engine,
        ws,
        [
            event("order.paid", None, "payer", T0, order_id="m-1", **buy),
            joined("payer", "vip", at=T0 + timedelta(minutes=5)),
            event("order.paid", None, "payer", T0 + 20 * DAY, order_id="m-2", **buy),
        ],
    )
    tick(engine, ws, T0 + 31 * DAY)
    acts = rows(engine, ws, "actions")
    assert [a for a in acts if a["rule"] == "commerce.membership_expiry"] == []
    assert [a for a in acts if a["rule"] == "commerce.renewal_reminder"] == []  # the old ones
    (m,) = rows(engine, ws, "paid_memberships")
    assert m["renewals"] == 1 and m["expires_at"].startswith("2027-01-21")


CHAIN_1 = "#接龙 周五面包团\n周五下午自提\n1. 小明 吐司x2"
CHAIN_2 = CHAIN_1 + "\n2、阿强 蛋糕 1个"
CHAIN_3 = CHAIN_2 + "\n3 小红 吐司×1 全麦吐司×2 蛋糕"


def test_chain_parser() -> None:
    chain = parse_chain(CHAIN_3, ["#接龙", "接龙"], ["吐司", "全麦吐司", "蛋糕"])
    assert chain is not None and chain.title == "周五面包团 周五下午自提"
    assert [(e.number, e.name, e.items) for e in chain.entries] == [
        (1, "小明", (("吐司", 2),)),
        (2, "阿强", (("蛋糕", 1),)),
        (3, "小红", (("全麦吐司", 2), ("吐司", 1), ("蛋糕", 1))),
    ]
    assert chain.entries[2].amount_fen({"吐司": 1200, "全麦吐司": 1500, "蛋糕": 3000}) == 7200
    assert parse_chain("大家好", ["#接龙"]) is None
    assert parse_chain("#接龙 没有条目", ["#接龙"]) is None
    generic = parse_chain("＃接龙\n１．老王 苹果x3", ["#接龙"])  # full-width forms
    assert generic is not None and generic.entries[0].items == (("苹果", 3),)


def test_chain_messages_become_orders_of_their_posters(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = configure(
        engine,
        workspace,
        {"order_chain": {"prices": {"吐司": 1200, "全麦吐司": 1500, "蛋糕": 3000}}},
    )
    do_ingest_events(
        engine,
        ws,
        [
            posted("xiaoming", CHAIN_1, at=T0),
            posted("aqiang", CHAIN_2, at=T0 + timedelta(minutes=1)),
            posted("xiaohong", CHAIN_3, at=T0 + timedelta(minutes=2)),
            posted("aqiang", CHAIN_3, at=T0 + timedelta(minutes=3)),  # reposted: nothing new
        ],
    )
    orders = rows(engine, ws, "orders")
    assert [(o["member"], o["amount_fen"], o["status"], o["source"]) for o in orders] == [
        ("xiaoming", 2400, "claimed", "chain"),
        ("aqiang", 3000, "claimed", "chain"),
        ("xiaohong", 7200, "claimed", "chain"),
    ]
    assert [e["number"] for e in rows(engine, ws, "chain_entries")] == [1, 2, 3]
