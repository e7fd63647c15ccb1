"""One definition of an acquisition source's cost and ROI: `shequn source list` and `shequn
report roi` give the same figures, and both agree with a plain computation from the events;
`shequn channel list` / `set`, their old names, still work for one release and say so."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine
from typer import Typer
from typer.testing import CliRunner

from shequn.analytics.cli import report_app
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.service import do_ingest_events
from shequn.events import Event
from shequn.growth import livecode
from shequn.growth.cli import source_app
from shequn.platform.db import transaction
from shequn.settings import Settings
from tests.analytics.reference import SH
from tests.factories import NOW, event, joined
from tests.growth.helpers import configure

T = datetime(2026, 11, 3, 10, 0, tzinfo=SH)
ADS = {
    "name": "ads",
    "label": "信息流广告",
    "codes": ["ads-feed"],
    "cost_per_member_fen": 500,
    "costs": [{"since": "2026-11-01", "until": "2026-11-30", "cost_fen": 30_000}],
}


def world() -> list[Event]:
    h = timedelta(hours=1)
    paid = "order.paid"
    return [
        joined("u-1", at=T, code="lc-store", state="store-q4"),
        joined("u-2", at=T + h, code="lc-store", state="store-q4"),
        joined("u-3", at=T + 2 * h, code="ads-feed"),
        joined("u-4", at=T + 3 * h, inviter="u-1", scene="invite"),
        joined("u-5", at=T + 4 * h, scene="direct"),
        event(paid, "g-1", "u-1", T + 5 * h, order_id="o-1", amount_fen=5_000),
        # The same order from a second source: one order.
        event(paid, "g-1", "u-1", T + 6 * h, order_id="o-1", amount_fen=5_000),
        event(paid, "g-1", "u-3", T + 7 * h, order_id="o-3", amount_fen=20_000),
        event("order.refunded", "g-1", "u-3", T + 8 * h, order_id="o-3", amount_fen=5_000),
        event(paid, "g-1", "u-4", T + 9 * h, order_id="o-4", amount_fen=3_000),
    ]


def plain_roi(events: list[Event], costs: dict[str, dict[str, int]]) -> dict[str, dict[str, Any]]:
    """By hand: first join → source; each order once, less refunds; cost and ROI."""
    sources = {"lc-store": "store"}
    first_source: dict[str, str] = {}
    for e in events:
        if e.type == "member.joined" and e.member not in first_source:
            d = e.data
            code = getattr(d, "code", None)
            inviter = getattr(d, "inviter", None)
            by_code = {"ads-feed": "ads"}.get(code or "") or sources.get(code or "")
            first_source[str(e.member)] = by_code or ("referral" if inviter else "direct")
    orders: dict[str, tuple[str, int]] = {}
    refunds: dict[str, int] = {}
    for e in events:
        if e.type == "order.paid":
            orders.setdefault(e.data.order_id, (str(e.member), e.data.amount_fen))  # type: ignore[union-attr]
        elif e.type == "order.refunded":
            oid = e.data.order_id  # type: ignore[union-attr]
            refunds[oid] = refunds.get(oid, 0) + e.data.amount_fen  # type: ignore[union-attr]
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(set(first_source.values()) | set(costs)):
        members = [m for m, c in first_source.items() if c == name]
        revenue = sum(
            fen - min(refunds.get(oid, 0), fen) for oid, (m, fen) in orders.items() if m in members
        )
        spec = costs.get(name, {})
        cost = spec.get("lump", 0) + spec.get("per_member", 0) * len(members) + spec.get("fixed", 0)
        out[name] = {
            "members": len(members),
            "cost_fen": cost,
            "revenue_fen": revenue,
            "roi": round((revenue - cost) / cost, 4) if cost else None,
        }
    return out


def rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@pytest.fixture
def cli(cli_settings: Settings) -> Typer:
    app = Typer()
    app.add_typer(source_app, name="source")
    app.add_typer(report_app, name="report")
    return app


def test_source_list_and_report_roi_agree_with_the_events(
    cli: Typer, engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = configure(engine, workspace, {"analytics": {"sources": [ADS]}})
    runner = CliRunner()
    store_cost = ["--name", "门店", "--kind", "store", "--cost-fen", "10000"]
    done = runner.invoke(cli, ["source", "set", "store", *store_cost, "-w", ws.slug])
    assert done.exit_code == 0, done.output
    with transaction(engine) as conn:
        livecode.do_create_code(conn, ws, "lc-store", source="store", groups_=["g-1"], at=NOW)
    events = world()
    do_ingest_events(engine, ws, events)
    expected = plain_roi(
        events, {"store": {"lump": 10_000}, "ads": {"per_member": 500, "fixed": 30_000}}
    )
    assert expected["store"] == {
        "members": 2,
        "cost_fen": 10_000,
        "revenue_fen": 5_000,
        "roi": -0.5,
    }

    listed = runner.invoke(cli, ["source", "list", "-w", ws.slug])
    assert listed.exit_code == 0, listed.output
    by_list = {
        c["source"]: {
            "members": c["new"],
            "cost_fen": c["cost_fen"],
            "revenue_fen": c["revenue_fen"],
            "roi": rounded(c["roi"]),
        }
        for c in orjson.loads(listed.output)
    }
    today = NOW.astimezone(SH).date()
    since = date(2026, 11, 1)
    report = runner.invoke(
        cli,
        ["report", "roi", "--since", str(since), "--until", str(today), "--json", "-w", ws.slug],
    )
    assert report.exit_code == 0, report.output
    by_report = {
        r["source"]: {
            "members": r["members"],
            "cost_fen": r["cost_fen"],
            "revenue_fen": r["revenue_fen"],
            "roi": rounded(r["roi"]),
        }
        for r in orjson.loads(report.output)["rows"]
    }
    assert by_list == by_report == expected
    names = {c["source"]: (c["name"], c["kind"]) for c in orjson.loads(listed.output)}
    assert names["store"] == ("门店", "store") and names["ads"] == ("信息流广告", None)
    # The store's code figures are still there, and the cost was stored in the configuration.
    store = next(c for c in orjson.loads(listed.output) if c["source"] == "store")
    assert (store["codes"], store["joins"]) == (1, 2)
    shown = runner.invoke(cli, ["source", "set", "store", "--cost-fen", "-1", "-w", ws.slug])
    assert shown.exit_code == 2


def test_a_code_counts_for_one_source_in_source_list_report_roi_and_the_review(
    cli_settings: Settings, engine: Engine, workspace: WorkspaceInfo
) -> None:
    """The code's state belongs to `ads`, its source is `store`: the state wins everywhere —
    its scans, joins, new members, cost and revenue all land on `ads`."""
    from shequn.cli import app

    spring = {
        "model": "invitation",
        "name": "春季",
        "starts_at": (T - timedelta(days=1)).isoformat(),
        "ladder": [{"min_invites": 1, "per_invite_fen": 500}],
    }
    sources = [
        {"name": "ads", "states": ["ads-q4"], "cost_fen": 8_000},
        {"name": "store", "cost_fen": 10_000},
    ]
    ws = configure(
        engine, workspace, {"analytics": {"sources": sources}, "campaigns": {"spring": spring}}
    )
    with transaction(engine) as conn:
        livecode.do_create_code(
            conn, ws, "lc-mixed", state="ads-q4", source="store", campaign="spring", at=T
        )
        tickets = [
            livecode.do_scan(conn, ws, "lc-mixed", scanner=f"u-{i}", at=T + timedelta(minutes=i))
            for i in range(3)
        ]
    with transaction(engine) as conn:
        livecode.do_create_code(conn, ws, "lc-open", at=T)  # no source: counts as itself
        livecode.do_add_group(conn, ws, "lc-open", "g-9", at=T)
        livecode.do_scan(conn, ws, "lc-open", scanner="u-9", at=T)
        for i, ticket in enumerate(tickets[:2]):
            at = T + timedelta(minutes=10 + i)
            livecode.do_sandbox_join(conn, ws, ticket.scan, f"u-{i}", f"客{i}", at)
    paid = event(
        "order.paid", "g-1", "u-0", T + timedelta(hours=1), order_id="o-1", amount_fen=9_000
    )
    do_ingest_events(engine, ws, [joined("u-9", "g-9", at=T, code="lc-open"), paid])

    runner = CliRunner()
    listed = runner.invoke(app, ["source", "list", "-w", ws.slug])
    assert listed.exit_code == 0, listed.output
    by_list = {c["source"]: c for c in orjson.loads(listed.output)}
    ads = by_list["ads"]
    assert (ads["codes"], ads["scans"], ads["joins"], ads["new"]) == (1, 3, 2, 2)
    assert (ads["cost_fen"], ads["revenue_fen"]) == (8_000, 9_000)
    store = by_list["store"]
    assert (store["codes"], store["scans"], store["new"], store["cost_fen"]) == (0, 0, 0, 10_000)
    assert (by_list["lc-open"]["codes"], by_list["lc-open"]["new"]) == (1, 1)

    today = NOW.astimezone(SH).date()
    report = runner.invoke(
        app,
        ["report", "roi", "--since", "2026-11-01", "--until", str(today), "--json", "-w", ws.slug],
    )
    assert report.exit_code == 0, report.output
    roi = {r["source"]: r["members"] for r in orjson.loads(report.output)["rows"]}
    assert roi == {"ads": 2, "store": 0, "lc-open": 1}

    shown = runner.invoke(app, ["report", "campaign", "spring", "--json", "-w", ws.slug])
    assert shown.exit_code == 0, shown.output
    assert orjson.loads(shown.output)["sources"] == [{"source": "ads", "cost_fen": 8_000}]


def test_channel_list_and_set_still_work_for_one_release_and_point_at_source(
    cli_settings: Settings, engine: Engine, workspace: WorkspaceInfo
) -> None:
    """`shequn channel set` / `list`, the old names of `shequn source …`: the same work and
    answer, and one line on stderr naming the new command (zh-CN by default)."""
    from shequn.cli import app

    runner = CliRunner()
    old = runner.invoke(
        app, ["channel", "set", "store", "--cost-fen", "10000", "-w", workspace.slug]
    )
    assert old.exit_code == 0, old.output
    assert old.stderr.splitlines() == [
        "提示：shequn channel set 已更名为 shequn source set（来源渠道），旧命令将在下一版本停用"
    ]
    assert orjson.loads(old.stdout) == {
        "key": "store",
        "name": "store",
        "kind": "other",
        "cost_fen": 10_000,
    }
    listed_old = runner.invoke(app, ["channel", "list", "-w", workspace.slug])
    listed_new = runner.invoke(app, ["source", "list", "-w", workspace.slug])
    assert listed_old.exit_code == listed_new.exit_code == 0, listed_old.output
    assert "shequn source list" in listed_old.stderr and listed_new.stderr == ""
    assert listed_old.stdout == listed_new.stdout
    assert [s["source"] for s in orjson.loads(listed_new.stdout)] == ["store"]
    # The old command's refusals are the new one's.
    bad = runner.invoke(app, ["channel", "set", "bad key", "-w", workspace.slug])
    assert bad.exit_code == 2
