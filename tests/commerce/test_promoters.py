"""Promoters enrolled by hand: enrol, fix or release a tier, disable; a disabled promoter
earns no new commissions."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer import Typer
from typer.testing import CliRunner

from shequn.commerce.distribution import do_disable, do_enrol, do_set_tier
from shequn.community.service import NotFound
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.service import do_ingest_events
from shequn.platform.db import transaction
from shequn.platform.errors import Invalid
from shequn.settings import Settings
from tests.factories import T0, event, joined
from tests.growth.helpers import app_with_domains, configure, rows, token

DAY = timedelta(days=1)


@pytest.fixture
def shop_world(engine: Engine, workspace: WorkspaceInfo) -> WorkspaceInfo:
    """Distribution without auto-enrolment: only promoters staff enrol earn."""
    ws = configure(engine, workspace, {"distribution": {"enabled": True, "auto_enrol": False}})
    do_ingest_events(
        engine,
        ws,
        [joined("kol", at=T0 - 2 * DAY)]
        + [joined(f"b-{i}", at=T0 - DAY, inviter="kol", scene="invite") for i in range(3)],
    )
    return ws


def buy(engine: Engine, ws: WorkspaceInfo, n: int, amount: int = 10_000) -> None:
    order = event("order.paid", None, f"b-{n}", T0 + n * DAY, order_id=f"o-{n}", amount_fen=amount)
    do_ingest_events(engine, ws, [order])


def commissions(engine: Engine, ws: WorkspaceInfo) -> list[tuple[str, str, int]]:
    return [(c["order_id"], c["tier"], c["amount_fen"]) for c in rows(engine, ws, "commissions")]


def test_enrolled_by_hand_tier_fixed_then_disabled(
    engine: Engine, shop_world: WorkspaceInfo
) -> None:
    ws = shop_world
    buy(engine, ws, 0)
    assert commissions(engine, ws) == []  # not a promoter: auto_enrol is off
    with transaction(engine) as conn:
        p = do_enrol(conn, ws, "sandbox", "kol", T0)
    assert (p["tier"], p["tier_fixed"], p["status"]) == ("初级", False, "active")
    buy(engine, ws, 1)
    with transaction(engine) as conn:
        p = do_set_tier(conn, ws, "sandbox", "kol", "高级")
    assert (p["tier"], p["tier_fixed"]) == ("高级", True)
    buy(engine, ws, 2)
    assert commissions(engine, ws) == [("o-1", "初级", 3000), ("o-2", "高级", 4000)]
    (exported,) = rows(engine, ws, "promoters")
    assert (exported["tier"], exported["orders"], exported["sales_fen"]) == ("高级", 2, 20_000)
    with transaction(engine) as conn:
        p = do_disable(conn, ws, "sandbox", "kol", T0 + 3 * DAY)
    assert p["status"] == "disabled"
    do_ingest_events(engine, ws, [joined("b-3", at=T0, inviter="kol", scene="invite")])
    buy(engine, ws, 3)
    assert len(commissions(engine, ws)) == 2  # nothing new while disabled
    with transaction(engine) as conn:
        p = do_set_tier(conn, ws, "sandbox", "kol", None)  # back to following sales
        assert (p["tier"], p["tier_fixed"]) == ("初级", False)
        p = do_enrol(conn, ws, "sandbox", "kol", T0 + 5 * DAY)  # active again
    assert (p["status"], p["disabled_at"]) == ("active", None)


def test_bad_input_is_refused(engine: Engine, shop_world: WorkspaceInfo) -> None:
    ws = shop_world
    with transaction(engine) as conn:
        with pytest.raises(NotFound, match="no member 'ghost'"):
            do_enrol(conn, ws, "sandbox", "ghost", T0)
        with pytest.raises(Invalid, match=r"unknown tier '钻石'; choose from 初级, 中级, 高级"):
            do_enrol(conn, ws, "sandbox", "kol", T0, tier="钻石")
        with pytest.raises(NotFound, match="not a promoter"):
            do_set_tier(conn, ws, "sandbox", "b-1", "高级")
        with pytest.raises(NotFound, match="not a promoter"):
            do_disable(conn, ws, "sandbox", "b-1", T0)
    assert rows(engine, ws, "promoters") == []


def test_promoters_over_http(settings: Settings, engine: Engine, shop_world: WorkspaceInfo) -> None:
    ws = shop_world
    auth = token(engine, ws)
    base = f"/api/v1/workspaces/{ws.slug}/promoters"
    with TestClient(app_with_domains(settings, engine)) as client:
        r = client.put(f"{base}/kol", json={"tier": "中级"}, headers=auth)
        assert r.status_code == 200 and r.json()["tier"] == "中级"
        r = client.put(f"{base}/ghost", json={}, headers=auth)
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("application/problem+json")
        r = client.put(f"{base}/kol/tier", json={"tier": "钻石"}, headers=auth)
        assert r.status_code == 422 and "钻石" in r.json()["detail"]
        r = client.put(f"{base}/kol/tier", json={"tier": None}, headers=auth)
        assert r.json()["tier_fixed"] is False
        r = client.post(f"{base}/kol/disable", json={}, headers=auth)
        assert r.json()["status"] == "disabled"
        listed = client.get(base, headers=auth).json()
        assert [(p["member"], p["status"]) for p in listed] == [("kol", "disabled")]
    buy(engine, ws, 0)
    assert commissions(engine, ws) == []


def test_promoter_commands(cli_en: Typer, engine: Engine, shop_world: WorkspaceInfo) -> None:
    ws, cli = shop_world, cli_en
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        done = runner.invoke(cli, ["promoter", *args, "-w", ws.slug])
        return done.exit_code, done.output

    code, out = run("enrol", "kol", "--tier", "中级")
    assert code == 0 and orjson.loads(out)["tier"] == "中级"
    code, out = run("enrol", "ghost")
    assert code == 2 and "ghost" in out and len(out.strip().splitlines()) == 1
    code, out = run("tier", "kol", "钻石")
    assert code == 2 and "unknown tier" in out
    code, out = run("tier", "kol", "auto")
    assert code == 0 and orjson.loads(out)["tier_fixed"] is False
    buy(engine, ws, 0)
    code, out = run("disable", "kol")
    assert code == 0 and orjson.loads(out)["status"] == "disabled"
    buy(engine, ws, 1)
    code, out = run("list")
    (listed,) = [orjson.loads(x) for x in out.splitlines()]
    assert (listed["status"], listed["orders"]) == ("disabled", 1)
    assert commissions(engine, ws) == [("o-0", "初级", 3000)]
