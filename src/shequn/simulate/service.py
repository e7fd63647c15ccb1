"""Pushing a simulated world through the same ingest path as real traffic."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from shequn.community.service import Conflict, do_create_workspace, load_workspace
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.models import events as events_table
from shequn.engine.service import IngestReport, do_ingest_events
from shequn.events import BatchRejected, Event, parse_event
from shequn.platform.db import transaction
from shequn.simulate.world import WorldSpec, generate_events

DEMO_WORKSPACE = "demo"


def validated(raw_events: Iterator[dict[str, Any]]) -> Iterator[Event]:
    """The simulator's dicts, validated like any input: a bad one is a bug, not a skip."""
    for index, raw in enumerate(raw_events):
        parsed = parse_event(raw, index)
        if not isinstance(parsed, Event):
            raise BatchRejected(parsed, unit="item")
        yield parsed


def do_simulate(
    engine: Engine,
    ws: WorkspaceInfo,
    *,
    groups: int,
    members: int,
    days: int,
    seed: int,
    start: datetime,
    progress: Callable[[int], Any] | None = None,
) -> IngestReport:
    spec = WorldSpec(groups=groups, members=members, days=days, seed=seed, start=start)
    return do_ingest_events(engine, ws, validated(generate_events(spec)), progress=progress)


def ensure_demo(
    engine: Engine,
    now: datetime,
    days: int = 21,
    progress: Callable[[int], Any] | None = None,
) -> tuple[WorkspaceInfo, IngestReport]:
    """The demo workspace, simulated once over the `days` before `now`; a second demo reuses
    it."""
    try:
        with transaction(engine) as conn:
            do_create_workspace(conn, DEMO_WORKSPACE, "幸福烘焙 (demo)", now=now)
    except Conflict:
        pass
    ws = load_workspace(engine, DEMO_WORKSPACE)
    with engine.connect() as conn:
        stored = conn.execute(
            select(func.count())
            .select_from(events_table)
            .where(events_table.c.workspace_id == ws.id)
        ).scalar_one()
    if stored:
        report = IngestReport(duplicates=int(stored))
        return ws, report
    start = (now - timedelta(days=days)).replace(microsecond=0)
    report = do_simulate(
        engine, ws, groups=5, members=1500, days=days, seed=7, start=start, progress=progress
    )
    return ws, report
