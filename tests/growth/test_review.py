"""The campaign review counts what the channels of its live codes cost (the one definition of
channel cost, over the campaign's window) besides rewards and commissions, and computes the
cost per new member from the total."""

from __future__ import annotations

from datetime import date, timedelta

import orjson
from sqlalchemy import Engine
from typer.testing import CliRunner

from shequn.community.workspace import WorkspaceInfo
from shequn.engine.ingest import tick
from shequn.engine.service import do_ingest_events
from shequn.growth import livecode
from shequn.growth.review import render_html, review
from shequn.platform.db import transaction
from shequn.settings import Settings
from tests.factories import T0, joined
from tests.growth.helpers import configure

DAY = timedelta(days=1)
STORE_LUMP, STORE_PER_MEMBER, ADS_DATED = 30_000, 200, 9_000


def world(engine: Engine, ws: WorkspaceInfo) -> WorkspaceInfo:
    """Two codes of the campaign: one made for the store channel, one whose state is the ads
    channel's; a partner channel no code of the campaign belongs to."""
    sources = [
        {"name": "store", "cost_fen": STORE_LUMP, "cost_per_member_fen": STORE_PER_MEMBER},
        {
            "name": "ads",
            "states": ["ads-spring"],
            "costs": [{"since": date(2026, 11, 21), "until": date(2026, 11, 23), "cost_fen": 9000}],
        },
        {"name": "partner", "cost_fen": 99_999},
    ]
    spring = {
        "model": "invitation",
        "name": "春季老带新",
        "starts_at": (T0 - DAY).isoformat(),
        "ends_at": (T0 + 10 * DAY).isoformat(),
        "ladder": [{"min_invites": 1, "per_invite_fen": 500}],
    }
    ws = configure(engine, ws, {"analytics": {"sources": sources}, "campaigns": {"spring": spring}})
    with transaction(engine) as conn:
        livecode.do_create_code(conn, ws, "lc-store", source="store", campaign="spring", at=T0)
        livecode.do_create_code(conn, ws, "lc-ads", state="ads-spring", campaign="spring", at=T0)
    do_ingest_events(
        engine,
        ws,
        [
            joined("boss", "g-0", at=T0 - 2 * DAY),
            joined("n-1", at=T0, code="lc-store", inviter="boss"),
            joined("n-2", at=T0 + DAY, code="lc-store"),
            joined("n-3", at=T0 + DAY, code="lc-ads", state="ads-spring"),
        ],
    )
    tick(engine, ws, T0 + 9 * DAY)
    return ws


def test_the_review_adds_the_sources_cost_to_the_total(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = world(engine, workspace)
    with engine.connect() as conn:
        figures = review(conn, ws, "spring", now=T0 + 9 * DAY)
    store = STORE_LUMP + 2 * STORE_PER_MEMBER  # n-1 and n-2 came through the store code
    assert figures["sources"] == [
        {"source": "ads", "cost_fen": ADS_DATED},
        {"source": "store", "cost_fen": store},
    ]
    assert figures["reward_cost_fen"] == 500 and figures["commission_cost_fen"] == 0
    assert figures["source_cost_fen"] == store + ADS_DATED
    total = 500 + store + ADS_DATED
    assert figures["cost_fen"] == total
    assert figures["net_new_members"] == 3
    assert figures["cost_per_new_member_fen"] == total // 3
    page = render_html(figures)
    assert "渠道成本（元）" in page and f"{total / 100:,.2f}" in page


def test_a_campaign_without_sources_costs_its_rewards_only(
    engine: Engine, workspace: WorkspaceInfo
) -> None:
    ws = world(engine, workspace)
    ws = configure(engine, ws, {"campaigns": ws.document["campaigns"]})  # no sources now
    with engine.connect() as conn:
        figures = review(conn, ws, "spring", now=T0 + 9 * DAY)
    assert (figures["sources"], figures["source_cost_fen"], figures["cost_fen"]) == ([], 0, 500)


def test_report_campaign_shows_reward_source_and_total_cost(
    cli_settings: Settings,
    engine: Engine,
    workspace: WorkspaceInfo,
) -> None:
    from shequn.cli import app

    ws = world(engine, workspace)
    runner = CliRunner()
    table = runner.invoke(app, ["report", "campaign", "spring", "-w", ws.slug])
    assert table.exit_code == 0, table.output
    for label in ("奖励成本（元）", "渠道成本（元）", "总成本（元）", "拉新成本（元/人）"):
        assert label in table.output
    as_json = orjson.loads(
        runner.invoke(app, ["report", "campaign", "spring", "-w", ws.slug, "--json"]).output
    )
    assert as_json["source_cost_fen"] == sum(c["cost_fen"] for c in as_json["sources"])
    assert as_json["cost_fen"] == as_json["reward_cost_fen"] + as_json["source_cost_fen"]
