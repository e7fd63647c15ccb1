"""Order chains 接龙 settled by staff: confirmed entries become orders on the shop's path
(attribution, commissions, spend, refunds); cancelled ones never do."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer import Typer
from typer.testing import CliRunner

from shequn.commerce.chain_orders import do_cancel_entries, do_confirm_entries, list_entries
from shequn.community.service import Conflict, NotFound
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.service import do_ingest_events
from shequn.growth import livecode
from shequn.platform.db import transaction
from shequn.platform.errors import Invalid
from shequn.settings import Settings
from tests.factories import NOW, T0, event, joined, posted
from tests.growth.helpers import app_with_domains, configure, rows, token

DAY = timedelta(days=1)
CHAIN = "#接龙 周五面包团\n1. 小明 吐司x2\n2、阿强 蛋糕 1个\n3 小红 吐司×1 蛋糕×2\n4 老王 苹果x3"


@pytest.fixture
def chain_world(engine: Engine, workspace: WorkspaceInfo) -> WorkspaceInfo:
    """kol invited xiaoming through the spring live code; xiaoming posts a four-line chain
    (line 4 names a product without a price)."""
    ws = configure(
        engine,
        workspace,
        {
            "distribution": {"enabled": True},
            "order_chain": {"prices": {"吐司": 1200, "蛋糕": 3000}},
            "crm": {"auto_tags": [{"kind": "spent_at_least", "tag": "买过", "fen": 2000}]},
        },
    )
    with transaction(engine) as conn:
        livecode.do_create_code(conn, ws, "lc-spring", groups_=["g-1"], campaign="spring", at=NOW)
    do_ingest_events(
        engine,
        ws,
        [
            joined("kol", at=T0 - 2 * DAY),
            joined("xiaoming", at=T0 - DAY, inviter="kol", scene="invite", code="lc-spring"),
            posted("xiaoming", CHAIN, at=T0),
        ],
    )
    return ws


def entry_ids(engine: Engine, ws: WorkspaceInfo) -> list[str]:
    with engine.connect() as conn:
        return [e["order_id"] for e in list_entries(conn, ws)]


def test_confirmed_entry_is_an_order_like_a_shops(
    engine: Engine, chain_world: WorkspaceInfo
) -> None:
    ws = chain_world
    first, second, third, unpriced = entry_ids(engine, ws)
    at = T0 + timedelta(hours=3)
    for _ in range(2):  # confirming twice is one order
        with transaction(engine) as conn:
            (done,) = do_confirm_entries(conn, ws, [first], at)
        assert (done["status"], done["amount_fen"]) == ("paid", 2400)
    orders = {o["order_id"]: o for o in rows(engine, ws, "orders")}
    o = orders[first]
    assert (o["member"], o["group"], o["campaign"], o["promoter"], o["source"]) == (
        "xiaoming",
        "g-1",
        "spring",
        "kol",
        "chain",
    )
    assert o["paid_at"].startswith((at - timedelta(hours=8)).date().isoformat())
    assert [
        (c["order_id"], c["promoter"], c["amount_fen"]) for c in rows(engine, ws, "commissions")
    ] == [(first, "kol", 720)]
    tags = [(t["member"], t["tag"]) for t in rows(engine, ws, "member_tags")]
    assert ("xiaoming", "买过") in tags  # spend counted from the order.paid event
    paid_events = [e for e in rows(engine, ws, "events") if e["type"] == "order.paid"]
    assert len(paid_events) == 1

    # The whole chain by its id: the rest of the priced entries; the paid one is left alone.
    chain = first.rsplit(":", 1)[0]
    with transaction(engine) as conn, pytest.raises(Invalid, match="no price"):
        do_confirm_entries(conn, ws, [chain], at)
    assert orders[second]["status"] == "claimed"  # refused whole: nothing confirmed
    with transaction(engine) as conn:
        do_cancel_entries(conn, ws, [unpriced])
        done = do_confirm_entries(conn, ws, [second, third], at)
    assert [d["status"] for d in done] == ["paid", "paid"]
    statuses = {o["order_id"]: o["status"] for o in rows(engine, ws, "orders")}
    assert statuses == {first: "paid", second: "paid", third: "paid", unpriced: "cancelled"}
    assert len(rows(engine, ws, "commissions")) == 3


def test_cancel_and_refund(engine: Engine, chain_world: WorkspaceInfo) -> None:
    ws = chain_world
    first, second, _, unpriced = entry_ids(engine, ws)
    with transaction(engine) as conn:
        do_confirm_entries(conn, ws, [unpriced], T0 + DAY, amount_fen=900)
        (cancelled,) = do_cancel_entries(conn, ws, [second])
    assert cancelled["status"] == "cancelled"
    with transaction(engine) as conn, pytest.raises(Conflict, match="cancelled"):
        do_confirm_entries(conn, ws, [second], T0 + DAY)
    with transaction(engine) as conn, pytest.raises(Conflict, match="refund instead"):
        do_cancel_entries(conn, ws, [unpriced])
    with transaction(engine) as conn, pytest.raises(NotFound):
        do_confirm_entries(conn, ws, ["chain:nope:1"], T0 + DAY)
    with transaction(engine) as conn, pytest.raises(Invalid, match="one entry"):
        do_confirm_entries(conn, ws, [first, unpriced], T0 + DAY, amount_fen=100)
    # Reposting the chain does not bring a cancelled entry back.
    do_ingest_events(engine, ws, [posted("aqiang", CHAIN, at=T0 + DAY)])
    assert len(rows(engine, ws, "chain_entries")) == 4
    # A paid entry is refunded as any order: the commission is reversed.
    do_ingest_events(
        engine,
        ws,
        [
            event(
                "order.refunded",
                "g-1",
                "xiaoming",
                T0 + 2 * DAY,
                order_id=unpriced,
                amount_fen=900,
            )
        ],
    )
    order = {o["order_id"]: o for o in rows(engine, ws, "orders")}[unpriced]
    assert (order["status"], order["amount_fen"], order["refunded_fen"]) == ("refunded", 900, 900)
    assert [(c["status"], c["amount_fen"]) for c in rows(engine, ws, "commissions")] == [
        ("reversed", 0)
    ]


def test_chain_entries_over_http(
    settings: Settings, engine: Engine, chain_world: WorkspaceInfo
) -> None:
    ws = chain_world
    auth = token(engine, ws)
    base = f"/api/v1/workspaces/{ws.slug}/chain-entries"
    with TestClient(app_with_domains(settings, engine)) as client:
        listed = client.get(base, params={"status": "claimed"}, headers=auth).json()
        assert [e["number"] for e in listed] == [1, 2, 3, 4]
        chain = listed[0]["chain_id"]
        first = listed[0]["order_id"]
        r = client.post(f"{base}/confirm", json={"ids": [first]}, headers=auth)
        assert r.status_code == 200 and r.json()[0]["status"] == "paid"
        again = client.post(f"{base}/confirm", json={"ids": [first]}, headers=auth)
        assert again.status_code == 200 and again.json()[0]["status"] == "paid"
        english = {**auth, "Accept-Language": "en"}
        r = client.post(f"{base}/confirm", json={"ids": [chain]}, headers=english)
        assert r.status_code == 422 and "no price" in r.json()["detail"]
        assert r.headers["content-type"].startswith("application/problem+json")
        r = client.post(f"{base}/cancel", json={"ids": [listed[3]["order_id"]]}, headers=auth)
        assert r.json()[0]["status"] == "cancelled"
        r = client.post(f"{base}/confirm", json={"ids": [chain]}, headers=auth)
        assert [e["status"] for e in r.json()] == ["paid", "paid", "paid", "cancelled"]
        r = client.post(f"{base}/cancel", json={"ids": [first]}, headers=auth)
        assert r.status_code == 409
        r = client.post(f"{base}/confirm", json={"ids": ["chain:x:9"]}, headers=auth)
        assert r.status_code == 404
    assert len([o for o in rows(engine, ws, "orders") if o["status"] == "paid"]) == 3


def test_chain_commands(cli_en: Typer, engine: Engine, chain_world: WorkspaceInfo) -> None:
    ws, cli = chain_world, cli_en
    runner = CliRunner()
    listed = runner.invoke(cli, ["order", "chain", "list", "-w", ws.slug])
    assert listed.exit_code == 0, listed.output
    entries = [orjson.loads(line) for line in listed.output.splitlines()]
    ids = [e["order_id"] for e in entries]
    done = runner.invoke(cli, ["order", "chain", "confirm", ids[0], ids[1], "-w", ws.slug])
    assert done.exit_code == 0, done.output
    assert [orjson.loads(x)["status"] for x in done.output.splitlines()] == ["paid", "paid"]
    unpriced = runner.invoke(cli, ["order", "chain", "confirm", ids[3], "-w", ws.slug])
    assert unpriced.exit_code == 2 and "no price" in unpriced.output
    priced = runner.invoke(
        cli, ["order", "chain", "confirm", ids[3], "--amount-fen", "900", "-w", ws.slug]
    )
    assert priced.exit_code == 0 and orjson.loads(priced.output)["amount_fen"] == 900
    cancelled = runner.invoke(cli, ["order", "chain", "cancel", ids[2], "-w", ws.slug])
    assert cancelled.exit_code == 0 and orjson.loads(cancelled.output)["status"] == "cancelled"
    refused = runner.invoke(cli, ["order", "chain", "cancel", ids[0], "-w", ws.slug])
    assert refused.exit_code != 0 and "refund instead" in refused.output
    unknown = runner.invoke(cli, ["order", "chain", "confirm", "chain:zz:1", "-w", ws.slug])
    assert unknown.exit_code != 0 and "chain:zz:1" in unknown.output
    paid = [o for o in rows(engine, ws, "orders") if o["status"] == "paid"]
    assert sorted(o["amount_fen"] for o in paid) == [900, 2400, 3000]
