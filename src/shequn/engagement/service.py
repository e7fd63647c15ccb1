"""Engagement operations outside the rules: spending points, and the leaderboards."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, select

from shequn.community.workspace import WorkspaceInfo
from shequn.engagement.models import member_standing
from shequn.engagement.points import PointsBook
from shequn.engagement.texts import say
from shequn.engine.ingest import Run
from shequn.i18n import t
from shequn.platform.db import lock_workspace
from shequn.platform.errors import Conflict, Invalid

Board = Literal["points", "earned", "checkins", "streak"]


def do_spend_points(
    conn: Connection,
    ws: WorkspaceInfo,
    *,
    channel: str,
    member: str,
    amount: int,
    reason: str,
    key: str,
    now: datetime,
) -> dict[str, Any]:
    """Spend a member's points (a redemption). The key makes it idempotent: the same key
    twice spends once. A balance never goes below zero unless the workspace allows it."""
    if amount <= 0:
        raise Invalid(say, "engagement.bad_amount")
    lock_workspace(conn, ws.id)
    run = Run(conn, ws)
    book = run.books.get(PointsBook)
    levels = ws.config.levels
    standing = book.standing(channel, member, levels.level_for(0))
    if book.entry_delta(f"spend:{key}") is not None:
        return {"member": member, "spent": 0, "balance": standing.balance, "duplicate": True}
    if standing.balance < amount and not ws.config.points.allow_negative:
        raise Conflict(
            say, "engagement.points_short", member=member, balance=standing.balance, amount=amount
        )
    book.post(
        standing,
        delta=-amount,
        kind="spend",
        key=f"spend:{key}",
        reason=t("points.spend_reason", ws.locale, reason=reason),
        rule="engagement.points",
        at=now,
        level_for=levels.level_for,
        allow_negative=True,
        earns=False,
    )
    run.flush()
    return {"member": member, "spent": amount, "balance": standing.balance, "duplicate": False}


def leaderboard(
    conn: Connection, ws: WorkspaceInfo, by: Board = "points", limit: int = 20
) -> list[dict[str, Any]]:
    """The top members by balance, earned points, check-ins or current streak."""
    t_ = member_standing
    column = {
        "points": t_.c.balance,
        "earned": t_.c.earned,
        "checkins": t_.c.checkins,
        "streak": t_.c.streak,
    }[by]
    rows = conn.execute(
        select(t_)
        .where(t_.c.workspace_id == ws.id)
        .order_by(column.desc(), t_.c.channel, t_.c.member_ext)
        .limit(limit)
    ).mappings()
    return [
        {
            "rank": i,
            "channel": r["channel"],
            "member": r["member_ext"],
            "level": r["level"],
            "points": r["balance"],
            "earned": r["earned"],
            "checkins": r["checkins"],
            "streak": r["streak"],
        }
        for i, r in enumerate(rows, start=1)
    ]
