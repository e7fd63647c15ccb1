"""Persona report 用户画像 for a segment: the distribution of each profile field and the most
common tags and pains — what members share, not every individual need.

Shares are of the segment's members with a profile; a field left empty counts as "(none)".
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection

from shequn.analytics.report import Chart, Column, Report
from shequn.analytics.source import Period
from shequn.community.workspace import WorkspaceInfo
from shequn.crm.schemas import ENUM_FIELDS
from shequn.crm.service import access_segment, filter_members, iter_profiles

PERSONA_FIELDS = (*ENUM_FIELDS, "city", "occupation", "heard_from", "purchase_motive")
TOP = 10


def persona(
    conn: Connection, ws: WorkspaceInfo, period: Period, segment: str | None = None
) -> Report:
    wanted: set[tuple[str, str]] | None = None
    if segment is not None:
        document = access_segment(conn, ws, segment)["filter"]
        wanted = set(filter_members(conn, ws, document, now=period.end))
    people = [
        p
        for p in iter_profiles(conn, ws)
        if wanted is None or (p["channel"], p["member"]) in wanted
    ]
    total = len(people)
    rows: list[dict[str, Any]] = []

    def add(field: str, counts: Counter[str], limit: int | None = None) -> None:
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        for value, count in ranked[:limit]:
            rows.append({"field": field, "value": value, "count": count, "share": count / total})

    for field in PERSONA_FIELDS:
        add(field, Counter(str(p[field]) if p[field] else "(none)" for p in people))
    add("tags", Counter(t for p in people for t in set(p["tags"])), TOP)
    add("pains", Counter(x for p in people for x in set(p["pains"] or [])), TOP)
    return Report(
        name="persona",
        period=period,
        columns=[
            Column("field", "text"),
            Column("value", "text"),
            Column("count"),
            Column("share", "pct"),
        ],
        rows=rows,
        chart=Chart("bar", x="value", y=("share",), series="field"),
        meta={"segment": segment, "members": total},
    )
