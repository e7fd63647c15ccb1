"""Backtest: replays history with another configuration, never touching live state."""

from __future__ import annotations

import io

from sqlalchemy import Engine

from shequn.community.workspace import WorkspaceInfo
from shequn.engine.backtest import run_backtest
from shequn.engine.service import do_ingest_events
from shequn.exports import write_export
from shequn.simulate.service import validated
from shequn.simulate.world import WorldSpec, generate_events


def dump(engine: Engine, ws: WorkspaceInfo) -> dict[str, bytes]:
    out = {}
    for kind in ("events", "actions", "members", "violations", "points"):
        buf = io.BytesIO()
        with engine.connect() as conn:
            write_export(conn, ws, kind, "jsonl", buf)
        out[kind] = buf.getvalue()
    return out


def world(engine: Engine, ws: WorkspaceInfo) -> None:
    spec = WorldSpec(groups=2, members=120, days=4, seed=3)
    do_ingest_events(engine, ws, list(validated(generate_events(spec))))


def test_live_configuration_shows_no_difference(engine: Engine, workspace: WorkspaceInfo) -> None:
    world(engine, workspace)
    before = dump(engine, workspace)
    report = run_backtest(engine, workspace, {})
    assert report.events > 1000
    assert report.differences == 0
    assert sum(r.baseline for r in report.rules) > 0
    assert dump(engine, workspace) == before  # live state untouched


def test_candidate_differences_per_rule(engine: Engine, workspace: WorkspaceInfo) -> None:
    world(engine, workspace)
    candidate = {
        "moderation": {"mode": "dry_run"},
        "checkin": {"reply": False},
        "welcome": {"template": "Hi {mentions}"},
    }
    report = run_backtest(engine, workspace, candidate)
    by_rule = {r.rule: r for r in report.rules}
    content = by_rule["moderation.content"]
    assert content.baseline > 0 and content.candidate == 0
    assert len(content.dropped) == content.baseline and not content.added
    assert content.dropped[0]["kind"] in {"message.delete", "member.warn", "member.remove"}
    checkin = by_rule["engagement.checkin"]
    assert len(checkin.dropped) == checkin.baseline > 0
    welcome = by_rule["engagement.welcome"]
    assert welcome.changed and welcome.changed[0]["after"]["data"]["text"].startswith("Hi @")
    summary = report.summary(examples=2)
    assert all(len(r["examples"]["dropped"]) <= 2 for r in summary["rules"])
