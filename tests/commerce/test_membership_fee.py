"""A paid plan's fee is checked: an order paying less grants no membership (staff get a task
saying why), unless the order's own coupon explains the difference."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shequn.commerce.coupons import issue_coupon
from shequn.commerce.orders import do_create_shop, sign
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.service import do_ingest_events
from shequn.platform.db import transaction
from shequn.settings import Settings
from tests.factories import T0, event, joined
from tests.growth.helpers import app_with_domains, configure, rows, token

FEE = 36_500
CONFIG = {
    "membership": {"plans": {"annual": {"name": "年度会员", "sku": "vip-annual", "fee_fen": FEE}}},
    "coupons": {
        "templates": {
            "vip-90": {"name": "会员9折", "kind": "percent", "percent": 10},
            "ten-off": {"name": "立减10元", "amount_fen": 1000},
        }
    },
}


def order(member: str, order_id: str, amount: int, qty: int = 1, **kw: Any) -> Any:
    items = [{"sku": "vip-annual", "qty": qty}]
    return event(
        "order.paid", None, member, T0, order_id=order_id, amount_fen=amount, items=items, **kw
    )


def coupon(engine: Engine, ws: WorkspaceInfo, template: str, member: str) -> str:
    with transaction(engine) as conn:
        made = issue_coupon(
            conn,
            ws,
            template=template,
            channel="sandbox",
            member=member,
            key=f"t:{template}:{member}",
            reason="staff",
            at=T0 - timedelta(hours=1),
        )
    return str(made["code"])


def test_the_fee_decides_unless_a_coupon_explains_it(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = configure(engine, workspace, CONFIG)
    members = ["full", "short", "percent", "too-little", "borrowed", "one-for-two"]
    do_ingest_events(engine, ws, [joined(m, at=T0 - timedelta(days=1)) for m in members])
    vip = coupon(engine, ws, "vip-90", "percent")
    ten = coupon(engine, ws, "ten-off", "too-little")
    others = coupon(engine, ws, "vip-90", "full")
    do_ingest_events(
        engine,
        ws,
        [
            order("full", "o-full", FEE),
            order("short", "o-short", 100),
            order("percent", "o-percent", FEE - FEE // 10, coupon=vip),  # 9折: explained
            order("too-little", "o-little", FEE - 5000, coupon=ten),  # ¥10 off ≠ ¥50 short
            order("borrowed", "o-borrowed", FEE - FEE // 10, coupon=others),  # not theirs
            order("one-for-two", "o-two", FEE, qty=2),
        ],
    )
    granted = sorted(m["member"] for m in rows(engine, ws, "paid_memberships"))
    assert granted == ["full", "percent"]
    tasks = {
        a["data"]["order_id"]: a
        for a in rows(engine, ws, "actions")
        if a["rule"] == "commerce.orders" and a["kind"] == "staff.task"
    }
    assert sorted(tasks) == ["o-borrowed", "o-little", "o-short", "o-two"]
    little = tasks["o-little"]
    assert (little["member"], little["data"]["paid_fen"], little["data"]["coupon_fen"]) == (
        "too-little",
        FEE - 5000,
        1000,
    )
    assert little["data"]["fee_fen"] == FEE and "¥365.00" in little["reason"]
    assert "年度会员" in little["reason"]
    assert tasks["o-two"]["data"]["fee_fen"] == 2 * FEE
    # The orders themselves are recorded as paid: only the membership is held back.
    assert {o["order_id"] for o in rows(engine, ws, "orders")} >= set(tasks)


def shop_paid(
    client: TestClient,
    ws: WorkspaceInfo,
    secret: str,
    order_id: str,
    amount: int,
    items: list[dict[str, Any]],
) -> None:
    """The shop's signed webhook for a paid order of member u-<order_id>."""
    body = orjson.dumps(
        {
            "type": "order.paid",
            "order_id": order_id,
            "member": f"u-{order_id}",
            "amount_fen": amount,
            "items": items,
            "at": T0.isoformat(),
        }
    )
    r = client.post(
        f"/shop/{ws.slug}/youzan/webhook",
        content=body,
        headers={"X-Shequn-Signature": sign(secret, body)},
    )
    assert r.status_code == 200, r.text


def test_an_underpaid_shop_order_over_the_webhook(
    settings: Settings, engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = configure(engine, workspace, CONFIG)
    with transaction(engine) as conn:
        secret = do_create_shop(conn, ws, "youzan", None, "sandbox", T0)
    auth = token(engine, ws)
    with TestClient(app_with_domains(settings, engine)) as client:
        for order_id, amount in (("YZ-1", 9_900), ("YZ-2", FEE)):
            shop_paid(client, ws, secret, order_id, amount, [{"sku": "vip-annual", "qty": 1}])
        held = client.get(f"/api/v1/workspaces/{ws.slug}/paid-memberships", headers=auth).json()
    assert [m["member"] for m in held] == ["u-YZ-2"]
    (task,) = [a for a in rows(engine, ws, "actions") if a["kind"] == "staff.task"]
    assert task["member"] == "u-YZ-1" and "¥99.00" in task["reason"]


def test_with_priced_items_the_plan_items_share_is_compared(
    settings: Settings, engine: Engine, workspace: WorkspaceInfo
) -> None:
    """A book bought with the plan does not pay the fee: with prices on the items, what the
    plan's share of the order paid counts; without prices, the whole order still does."""
    ws = configure(engine, workspace, CONFIG)
    book = {"sku": "book", "qty": 1, "price_fen": 10_000}
    vip = {"sku": "vip-annual", "qty": 1, "price_fen": FEE}
    with transaction(engine) as conn:
        secret = do_create_shop(conn, ws, "youzan", None, "sandbox", T0)
    placed = [
        ("YZ-book", FEE, [vip, book]),  # ¥100 short: the book took part of the money
        ("YZ-both", FEE + 10_000, [vip, book]),  # both paid in full
        ("YZ-off", (FEE + 10_000) * 9 // 10, [vip, book]),  # 9折 on the whole, no coupon
        ("YZ-bare", FEE, [{"sku": "vip-annual", "qty": 1}, {"sku": "book", "qty": 1}]),
    ]
    with TestClient(app_with_domains(settings, engine)) as client:
        for order_id, amount, items in placed:
            shop_paid(client, ws, secret, order_id, amount, items)
    granted = sorted(m["member"] for m in rows(engine, ws, "paid_memberships"))
    assert granted == ["u-YZ-bare", "u-YZ-both"]  # no prices: the whole order counts
    tasks = {
        a["data"]["order_id"]: a["data"]
        for a in rows(engine, ws, "actions")
        if a["rule"] == "commerce.orders" and a["kind"] == "staff.task"
    }
    share = -(-FEE * FEE // (FEE + 10_000))  # the plan's share of ¥365 paid for ¥465 listed
    book_task = tasks["YZ-book"]
    assert (book_task["paid_fen"], book_task["order_fen"], book_task["fee_fen"]) == (
        share,
        FEE,
        FEE,
    )
    assert share == 28_651 and "¥286.51" in book_task["text"]  # rounded up
    assert tasks["YZ-off"]["paid_fen"] == FEE * 9 // 10  # 10 % off the whole order
    assert sorted(tasks) == ["YZ-book", "YZ-off"]


def test_the_plans_of_a_task_are_listed_in_the_workspaces_language(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    monthly = {"name": "月度会员", "sku": "vip-month", "fee_fen": 3_000}
    plans = {**CONFIG["membership"]["plans"], "monthly": monthly}  # type: ignore[index]
    items = [{"sku": "vip-annual", "qty": 1}, {"sku": "vip-month", "qty": 1}]
    for locale, listed in (("zh-CN", "年度会员、月度会员"), ("en", "年度会员, 月度会员")):
        doc = {"workspace": {"locale": locale}, "membership": {"plans": plans}}
        ws = configure(engine, workspace, doc)
        do_ingest_events(
            engine,
            ws,
            [
                event(
                    "order.paid",
                    None,
                    "u-1",
                    T0,
                    order_id=f"o-{locale}",
                    amount_fen=100,
                    items=items,
                )
            ],
        )
        (task,) = [
            a
            for a in rows(engine, ws, "actions")
            if a["kind"] == "staff.task" and a["data"]["order_id"] == f"o-{locale}"
        ]
        assert listed in task["reason"], task["reason"]
