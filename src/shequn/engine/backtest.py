"""Backtest: replay recorded history through the same engine with another configuration,
in a scratch database, and report per rule the actions that would be added or dropped.

Both sides are replays — the live configuration and the candidate — so the comparison is
like for like: staff operations are events in the log, so both sides replay them (a rule
skips one its side's state makes impossible), and wall-clock deliveries are part of neither.
Each side replays into a scratch database of its own, so row ids and the ids derived from the
workspace (coupon codes …) that decisions carry come out the same on both. With the live
configuration as the candidate, the report is empty (replays are deterministic).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from shequn.community.service import (
    check_config_document,
    do_apply_config,
    do_create_workspace,
    stored_config,
)
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.ingest import tick
from shequn.engine.models import actions
from shequn.engine.models import events as events_table
from shequn.engine.service import do_ingest_events
from shequn.events import Event, parse_event
from shequn.platform.db import make_engine, transaction
from shequn.platform.migrate import upgrade
from shequn.settings import Settings


@dataclass(slots=True)
class RuleDiff:
    rule: str
    baseline: int = 0
    candidate: int = 0
    added: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)

    def summary(self, examples: int) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "added": len(self.added),
            "dropped": len(self.dropped),
            "changed": len(self.changed),
            "examples": {
                "added": self.added[:examples],
                "dropped": self.dropped[:examples],
                "changed": self.changed[:examples],
            },
        }


@dataclass(slots=True)
class BacktestReport:
    events: int
    rules: list[RuleDiff]

    @property
    def differences(self) -> int:
        return sum(len(r.added) + len(r.dropped) + len(r.changed) for r in self.rules)

    def summary(self, examples: int = 3) -> dict[str, Any]:
        return {
            "events": self.events,
            "differences": self.differences,
            "rules": [r.summary(examples) for r in self.rules],
        }


def logged_events(
    engine: Engine, ws: WorkspaceInfo, since: datetime | None = None, until: datetime | None = None
) -> Iterator[Event]:
    """The workspace's log (from `since` to `until`, by event time), in log order."""
    t = events_table
    stmt = select(t).where(t.c.workspace_id == ws.id).order_by(t.c.seq)
    if since is not None:
        stmt = stmt.where(t.c.at >= since)
    if until is not None:
        stmt = stmt.where(t.c.at <= until)
    with engine.connect() as conn:
        for r in conn.execution_options(yield_per=5000).execute(stmt).mappings():
            parsed = parse_event(
                {
                    "id": r["ext_id"],
                    "type": r["type"],
                    "channel": r["channel"],
                    "group": r["group_ext"],
                    "member": r["member_ext"],
                    "at": r["at"],
                    "data": r["data"],
                },
                r["seq"],
            )
            assert isinstance(parsed, Event), parsed  # stored events were validated
            yield parsed


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _replay(
    scratch: Engine,
    slug: str,
    document: dict[str, Any],
    history: list[Event],
    until: datetime | None,
    progress: Callable[[int], Any] | None,
) -> dict[str, dict[str, Any]]:
    with transaction(scratch) as conn:
        # A scratch workspace: its creation time only needs to be the same on every run.
        do_create_workspace(conn, slug, now=history[0].at if history else _EPOCH)
        ws = do_apply_config(conn, slug, document)
    do_ingest_events(scratch, ws, history, progress=progress)
    end = until or (max(e.at for e in history) if history else None)
    if end is not None:
        tick(scratch, ws, end)
    t = actions
    with scratch.connect() as conn:
        rows = conn.execute(
            select(
                t.c.idempotency_key, t.c.rule, t.c.kind, t.c.group_ext, t.c.member_ext,
                t.c.data, t.c.reason, t.c.caused_by, t.c.decided_at,
            ).where(t.c.workspace_id == ws.id)
        ).mappings()  # fmt: skip
        return {r["idempotency_key"]: _example(r) for r in rows}


def _example(r: Any) -> dict[str, Any]:
    return {
        "rule": r["rule"],
        "kind": r["kind"],
        "group": r["group_ext"],
        "member": r["member_ext"],
        "reason": r["reason"],
        "data": r["data"],
        "caused_by": r["caused_by"],
        "decided_at": r["decided_at"].isoformat().replace("+00:00", "Z"),
    }


def run_backtest(
    engine: Engine,
    ws: WorkspaceInfo,
    candidate: Any,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Callable[[int], Any] | None = None,
) -> BacktestReport:
    """Replay the workspace's history with its live configuration and with `candidate`."""
    check_config_document(candidate)
    with engine.connect() as conn:
        live = stored_config(conn, ws.slug)
    history = list(logged_events(engine, ws, since, until))
    with tempfile.TemporaryDirectory(prefix="shequn-backtest-") as tmp:
        base = _replay_apart(Path(tmp), "baseline", live, history, until, progress)
        cand = _replay_apart(Path(tmp), "candidate", candidate or {}, history, until, progress)
    return BacktestReport(len(history), _compare(base, cand))


def _replay_apart(
    tmp: Path,
    slug: str,
    document: dict[str, Any],
    history: list[Event],
    until: datetime | None,
    progress: Callable[[int], Any] | None,
) -> dict[str, dict[str, Any]]:
    """One side's replay, in a scratch database of its own."""
    settings = Settings(database_url=f"sqlite:///{tmp / f'{slug}.db'}")
    upgrade(settings)
    scratch = make_engine(settings.database_url)
    try:
        return _replay(scratch, slug, document, history, until, progress)
    finally:
        scratch.dispose()


def _compare(base: dict[str, dict[str, Any]], cand: dict[str, dict[str, Any]]) -> list[RuleDiff]:
    diffs: dict[str, RuleDiff] = {}

    def diff(rule: str) -> RuleDiff:
        return diffs.setdefault(rule, RuleDiff(rule))

    for key, action in base.items():
        diff(action["rule"]).baseline += 1
        other = cand.get(key)
        if other is None:
            diff(action["rule"]).dropped.append(action)
        elif (other["kind"], other["data"]) != (action["kind"], action["data"]):
            diff(action["rule"]).changed.append({"before": action, "after": other})
    for key, action in cand.items():
        diff(action["rule"]).candidate += 1
        if key not in base:
            diff(action["rule"]).added.append(action)
    for d in diffs.values():
        for items in (d.added, d.dropped):
            items.sort(key=lambda a: (a["decided_at"], a["caused_by"] or ""))
    return sorted(diffs.values(), key=lambda d: d.rule)
