"""Figures read from other domains' records through public interfaces only: moderation
decisions from the action log (rules named `moderation.*`), and the points economy from the
`points` export that the engagement domain registers.

A moderation action counts as reverted when staff reverted it: its status is `reverted`, or
its data carries `reverted_at`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from shequn.analytics.report import Chart, Column, Report, ratio
from shequn.analytics.source import Period
from shequn.engine.models import actions
from shequn.engine.rules import WorkspaceInfo
from shequn.exports import EXPORTS, load_export_modules


def _reverted(status: str, data: Any) -> bool:
    return status == "reverted" or (isinstance(data, dict) and bool(data.get("reverted_at")))


def moderation(conn: Connection, ws: WorkspaceInfo, period: Period) -> Report:
    t = actions
    stmt = (
        select(t.c.rule, t.c.kind, t.c.member_ext, t.c.status, t.c.data)
        .where(t.c.workspace_id == ws.id)
        .where(t.c.rule.like("moderation.%"))
        .where(t.c.decided_at >= period.start, t.c.decided_at < period.end)
    )
    by_rule: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"violations": 0, "reverted": 0, "members": set(), "kinds": defaultdict(int)}
    )
    for rule, kind, member, status, data in conn.execute(stmt):
        entry = by_rule[rule]
        entry["violations"] += 1
        entry["reverted"] += _reverted(status, data)
        entry["kinds"][kind] += 1
        if member:
            entry["members"].add(member)
    rows = [
        {
            "rule": rule,
            "violations": e["violations"],
            "members": len(e["members"]),
            "reverted": e["reverted"],
            "reverted_share": ratio(e["reverted"], e["violations"]),
            "kind": ", ".join(f"{k} {n}" for k, n in sorted(e["kinds"].items())),
        }
        for rule, e in sorted(by_rule.items(), key=lambda kv: (-kv[1]["violations"], kv[0]))
    ]
    total = sum(r["violations"] for r in rows)
    reverted = sum(r["reverted"] for r in rows)
    return Report(
        name="moderation",
        period=period,
        columns=[
            Column("rule", "text"),
            Column("violations"),
            Column("members"),
            Column("reverted"),
            Column("reverted_share", "pct"),
            Column("kind", "text"),
        ],
        rows=rows,
        chart=Chart("bar", x="rule", y=("violations", "reverted")),
        meta={
            "violations": total,
            "reverted": reverted,
            "reverted_share": ratio(reverted, total),
        },
    )


def _instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def points(conn: Connection, ws: WorkspaceInfo, period: Period) -> Report:
    load_export_modules()
    export = EXPORTS.get("points")
    issued: dict[str, int] = defaultdict(int)
    spent: dict[str, int] = defaultdict(int)
    outstanding = 0
    if export is not None:
        for row in export.rows(conn, ws):
            at = _instant(row["at"])
            if at >= period.end:
                continue
            delta = int(row["delta"])
            outstanding += delta
            if at < period.start:
                continue
            if delta > 0:
                issued[row["kind"]] += delta
            else:
                spent[row["kind"]] += -delta
    rows = [
        {
            "kind": kind,
            "issued": issued.get(kind, 0),
            "spent": spent.get(kind, 0),
            "net": issued.get(kind, 0) - spent.get(kind, 0),
        }
        for kind in sorted(set(issued) | set(spent))
    ]
    return Report(
        name="points",
        period=period,
        columns=[Column("kind", "text"), Column("issued"), Column("spent"), Column("net")],
        rows=rows,
        chart=Chart("bar", x="kind", y=("issued", "spent")),
        meta={
            "issued": sum(issued.values()),
            "spent": sum(spent.values()),
            "outstanding": outstanding,
            "available": export is not None,
        },
    )
