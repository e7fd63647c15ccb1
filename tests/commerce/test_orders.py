"""Orders from the shop webhook and CSV, attribution, distribution commissions and refunds."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shequn.commerce.orders import (
    BadSignature,
    do_create_shop,
    do_shop_webhook,
    orders_from_csv,
    sign,
)
from shequn.community.config import ConfigRejected
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.ingest import tick
from shequn.engine.service import do_ingest_events, do_ingest_items
from shequn.events import BatchRejected
from shequn.growth import livecode
from shequn.platform.db import transaction
from shequn.settings import Settings
from tests.factories import NOW, T0, joined
from tests.growth.helpers import app_with_domains, configure, rows, token

DAY = timedelta(days=1)


def shop(engine: Engine, ws: WorkspaceInfo) -> str:
    with transaction(engine) as conn:
        return do_create_shop(conn, ws, "youzan", "有赞小店", "sandbox", T0)


def paid(order_id: str = "o-1", member: str = "buyer", amount: int = 10_000, **kw: Any) -> bytes:
    payload = {
        "type": "order.paid",
        "order_id": order_id,
        "member": member,
        "amount_fen": amount,
        "at": (T0 + timedelta(hours=1)).isoformat(),
        **kw,
    }
    return orjson.dumps(payload)


@pytest.fixture
def community(engine: Engine, workspace: WorkspaceInfo) -> WorkspaceInfo:
    """A two-level distribution: boss invited promoter, promoter invited buyer."""
    ws = configure(engine, workspace, {"distribution": {"enabled": True, "levels": 2}})
    with transaction(engine) as conn:
        livecode.do_create_code(conn, ws, "lc-shop", groups_=["g-1"], campaign="spring", at=NOW)
    do_ingest_events(
        engine,
        ws,
        [
            joined("boss", at=T0 - 3 * DAY),
            joined("promoter", at=T0 - 2 * DAY, inviter="boss", scene="invite"),
            joined("buyer", at=T0 - DAY, inviter="promoter", scene="qr", code="lc-shop"),
        ],
    )
    return ws


def test_the_same_webhook_five_times_at_once_is_one_order(
    engine: Engine, community: WorkspaceInfo
) -> None:
    ws = community
    secret = shop(engine, ws)
    body = paid()

    def deliver(_: int) -> int:
        with transaction(engine) as conn:
            signature = sign(secret, body)
            return do_shop_webhook(
                conn, ws, "youzan", body, signature, now=NOW, latest=None
            ).accepted

    with ThreadPoolExecutor(5) as pool:
        accepted = list(pool.map(deliver, range(5)))
    assert sorted(accepted) == [0, 0, 0, 0, 1]
    (order,) = rows(engine, ws, "orders")
    assert (
        order["member"],
        order["group"],
        order["campaign"],
        order["promoter"],
        order["source"],
    ) == (
        "buyer",
        "g-1",
        "spring",
        "promoter",
        "shop",
    )
    commissions = rows(engine, ws, "commissions")
    assert [(c["level"], c["promoter"], c["amount_fen"], c["status"]) for c in commissions] == [
        (1, "promoter", 3000, "pending"),
        (2, "boss", 1000, "pending"),
    ]
    # A refund within the window reverses both.
    refund = orjson.dumps(
        {
            "type": "order.refunded",
            "order_id": "o-1",
            "member": "buyer",
            "amount_fen": 10_000,
            "at": (T0 + 2 * DAY).isoformat(),
        }
    )
    with transaction(engine) as conn:
        do_shop_webhook(conn, ws, "youzan", refund, sign(secret, refund), now=NOW, latest=None)
    assert {(c["status"], c["amount_fen"]) for c in rows(engine, ws, "commissions")} == {
        ("reversed", 0)
    }
    assert rows(engine, ws, "orders")[0]["status"] == "refunded"


def test_commissions_confirm_after_the_window_then_are_paid(
    engine: Engine, community: WorkspaceInfo
) -> None:
    ws = community
    secret = shop(engine, ws)
    body = paid(amount=20_000)
    with transaction(engine) as conn:
        do_shop_webhook(conn, ws, "youzan", body, sign(secret, body), now=NOW, latest=None)
    tick(engine, ws, T0 + 6 * DAY)
    assert {c["status"] for c in rows(engine, ws, "commissions")} == {"pending"}
    tick(engine, ws, T0 + 8 * DAY)
    assert {c["status"] for c in rows(engine, ws, "commissions")} == {"confirmed"}
    from shequn.commerce.distribution import do_pay

    with transaction(engine) as conn:
        assert do_pay(conn, ws, T0 + 9 * DAY, promoter_="promoter") == 1
    assert {c["promoter"]: c["status"] for c in rows(engine, ws, "commissions")} == {
        "promoter": "paid",
        "boss": "confirmed",
    }
    # A refund after the window leaves confirmed commissions, with a note.
    refund = orjson.dumps(
        {
            "type": "order.refunded",
            "order_id": "o-1",
            "member": "buyer",
            "amount_fen": 5000,
            "refund_id": "r1",
            "at": (T0 + 10 * DAY).isoformat(),
        }
    )
    with transaction(engine) as conn:
        do_shop_webhook(conn, ws, "youzan", refund, sign(secret, refund), now=NOW, latest=None)
    assert all("after the window" in (c["note"] or "") for c in rows(engine, ws, "commissions"))


def test_partial_refund_within_the_window_reduces_the_commission(
    engine: Engine, community: WorkspaceInfo
) -> None:
    ws = community
    from tests.factories import event

    do_ingest_events(
        engine,
        ws,
        [
            event("order.paid", None, "buyer", T0, order_id="o-9", amount_fen=10_000),
            event("order.refunded", None, "buyer", T0 + DAY, order_id="o-9", amount_fen=4_000),
        ],
    )
    assert [c["amount_fen"] for c in rows(engine, ws, "commissions")] == [1800, 600]
    assert rows(engine, ws, "orders")[0]["status"] == "partly_refunded"


def test_more_than_two_levels_is_refused(engine: Engine, workspace: WorkspaceInfo) -> None:
    with pytest.raises(ConfigRejected) as caught:
        configure(engine, workspace, {"distribution": {"enabled": True, "levels": 3}})
    assert "不合规" in str(caught.value) and "at most 2 levels" in str(caught.value)


def test_promoter_tiers_raise_the_rate(engine: Engine, community: WorkspaceInfo) -> None:
    ws = configure(
        engine,
        community,
        {
            "distribution": {
                "enabled": True,
                "tiers": [
                    {"name": "初级", "level1_percent": 30},
                    {"name": "中级", "min_sales_fen": 15_000, "level1_percent": 40},
                ],
            }
        },
    )
    from tests.factories import event

    do_ingest_events(
        engine,
        ws,
        [
            event(
                "order.paid",
                None,
                "buyer",
                T0 + timedelta(hours=i),
                order_id=f"o-{i}",
                amount_fen=10_000,
            )
            for i in range(3)
        ],
    )
    got = [(c["tier"], c["amount_fen"]) for c in rows(engine, ws, "commissions")]
    assert got == [("初级", 3000), ("初级", 3000), ("中级", 4000)]


def test_webhook_over_http_checks_the_signature_first(
    settings: Settings, engine: Engine, community: WorkspaceInfo
) -> None:
    ws = community
    secret = shop(engine, ws)
    body = paid()
    with TestClient(app_with_domains(settings, engine)) as client:
        url = f"/shop/{ws.slug}/youzan/webhook"
        bad = client.post(url, content=body, headers={"X-Shequn-Signature": "sha256=00"})
        assert bad.status_code == 401
        garbage = b"{not json"
        r = client.post(url, content=garbage, headers={"X-Shequn-Signature": "sha256=00"})
        assert r.status_code == 401  # unsigned garbage is not even parsed
        assert rows(engine, ws, "orders") == []
        ok = client.post(url, content=body, headers={"X-Shequn-Signature": sign(secret, body)})
        assert ok.status_code == 200 and ok.json() == {
            "accepted": 1,
            "duplicates": 0,
            "conflicts": [],
        }
        again = client.post(url, content=body, headers={"X-Shequn-Signature": sign(secret, body)})
        assert again.json() == {"accepted": 0, "duplicates": 1, "conflicts": []}
        listed = client.get(
            f"/api/v1/workspaces/{ws.slug}/orders", headers=token(engine, ws)
        ).json()
        assert [o["order_id"] for o in listed] == ["o-1"]
    with transaction(engine) as conn, pytest.raises(BadSignature):
        do_shop_webhook(conn, ws, "youzan", body, None, now=NOW, latest=None)


CSV = """order_id,member,amount_fen,paid_at,promoter,refunded_fen
o-1,buyer,5000,2026-11-22T10:00:00+08:00,,
o-2,buyer,8000,2026-11-23T10:00:00+08:00,,8000
o-3,stranger,1200,2026-11-23T11:00:00+08:00,promoter,
"""


def test_csv_import(engine: Engine, community: WorkspaceInfo) -> None:
    ws = community
    events, errors = orders_from_csv(CSV)
    assert errors == []
    do_ingest_items(engine, ws, events, latest=None)
    got = {o["order_id"]: (o["status"], o["promoter"]) for o in rows(engine, ws, "orders")}
    assert got == {
        "o-1": ("paid", "promoter"),
        "o-2": ("refunded", "promoter"),
        "o-3": ("paid", "promoter"),
    }
    bad = CSV + "o-4,buyer,12.5,2026-11-23T11:00:00+08:00,,\no-5,,100,2026-11-23,,\n"
    _, errors = orders_from_csv(bad)
    assert [(e.position, e.field) for e in errors] == [(5, "amount_fen"), (6, "member"), (6, "at")]
    with pytest.raises(BatchRejected):
        raise BatchRejected(errors)
