"""Exports of the engagement domain: points ledger, check-ins and levels."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, select

from shequn.community.workspace import WorkspaceInfo
from shequn.engagement.models import checkins, member_standing, points_ledger
from shequn.exports import iso, register_export, stream


@register_export(
    "points",
    (
        "channel",
        "member",
        "group",
        "delta",
        "balance",
        "kind",
        "reason",
        "rule",
        "caused_by",
        "at",
        "key",
    ),
)
def _points(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    t = points_ledger
    stmt = select(t).where(t.c.workspace_id == ws.id).order_by(t.c.at, t.c.key)
    for r in stream(conn, stmt):
        yield {
            "channel": r["channel"],
            "member": r["member_ext"],
            "group": r["group_ext"],
            "delta": r["delta"],
            "balance": r["balance"],
            "kind": r["kind"],
            "reason": r["reason"],
            "rule": r["rule"],
            "caused_by": r["caused_by"],
            "at": iso(r["at"]),
            "key": r["key"],
        }


@register_export(
    "checkins", ("channel", "member", "group", "day", "at", "streak", "points", "caused_by")
)
def _checkins(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    t = checkins
    stmt = select(t).where(t.c.workspace_id == ws.id).order_by(t.c.day, t.c.channel, t.c.member_ext)
    for r in stream(conn, stmt):
        yield {
            "channel": r["channel"],
            "member": r["member_ext"],
            "group": r["group_ext"],
            "day": r["day"].isoformat(),
            "at": iso(r["at"]),
            "streak": r["streak"],
            "points": r["points"],
            "caused_by": r["caused_by"],
        }


@register_export(
    "levels",
    ("channel", "member", "level", "earned", "balance", "streak", "checkins", "last_checkin_day"),
)
def _levels(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    t = member_standing
    stmt = select(t).where(t.c.workspace_id == ws.id).order_by(t.c.channel, t.c.member_ext)
    for r in stream(conn, stmt):
        yield {
            "channel": r["channel"],
            "member": r["member_ext"],
            "level": r["level"],
            "earned": r["earned"],
            "balance": r["balance"],
            "streak": r["streak"],
            "checkins": r["checkins"],
            "last_checkin_day": r["last_checkin_day"].isoformat()
            if r["last_checkin_day"]
            else None,
        }
