"""Figures read from other domains' records through their public exports only: moderation
from the `violations` log, the points economy from the `points` ledger."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from shequn.analytics.report import Chart, Column, Report, ratio
from shequn.analytics.source import Period
from shequn.community.workspace import WorkspaceInfo
from shequn.exports import EXPORTS, load_export_modules


def moderation(conn: Connection, ws: WorkspaceInfo, period: Period) -> Report:
    """Violations by rule (detector) in the period, from the `violations` export: how many,
    by how many members, how many enforced, and the share staff reverted."""
    load_export_modules()
    export = EXPORTS.get("violations")
    by_rule: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"violations": 0, "reverted": 0, "enforced": 0, "members": set()}
    )
    if export is not None:
        for row in export.rows(conn, ws):
            at = _instant(row["at"])
            if not period.start <= at < period.end:
                continue
            entry = by_rule[row["detector"]]
            entry["violations"] += 1
            entry["reverted"] += row["reverted_at"] is not None
            entry["enforced"] += row["mode"] == "enforce"
            entry["members"].add((row["channel"], row["member"]))
    rows = [
        {
            "rule": rule,
            "violations": e["violations"],
            "members": len(e["members"]),
            "enforced": e["enforced"],
            "reverted": e["reverted"],
            "reverted_share": ratio(e["reverted"], e["violations"]),
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
            Column("enforced"),
            Column("reverted"),
            Column("reverted_share", "pct"),
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
