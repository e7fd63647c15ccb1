"""Engagement operations outside the rules: spending points, and the leaderboards."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, select

from shequn.community.workspace import WorkspaceInfo
from shequn.engagement.models import member_standing
from shequn.engagement.points import PointsBook, affordable, spend_key
from shequn.engagement.texts import say
from shequn.engine.service import do_record_staff_events, staff_event, staff_event_id
from shequn.platform.db import lock_workspace
from shequn.platform.errors import Conflict, Invalid

Board = Literal["points", "earned", "checkins", "streak"]


def check_spend_amount(amount: int) -> None:
    if amount <= 0:
        raise Invalid(say, "engagement.bad_amount")


def check_spend_points(ws: WorkspaceInfo, member: str, balance: int, amount: int) -> None:
    """A balance never goes below zero unless the workspace allows it."""
    if not affordable(balance, amount, ws.config.points.allow_negative):
        raise Conflict(
            say, "engagement.points_short", member=member, balance=balance, amount=amount
        )


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
    by: str = "staff",
) -> dict[str, Any]:
    """Spend a member's points (a redemption). The key makes it idempotent: the same key
    twice spends once. A balance never goes below zero unless the workspace allows it.

    The spend is a `points.spent` event in the log (its id derived from the key); the rule
    `engagement.spend` posts it to the ledger, so a replay spends again what staff spent."""
    check_spend_amount(amount)
    lock_workspace(conn, ws.id)
    first_level = ws.config.levels.level_for(0)
    book = PointsBook(conn, ws.id)
    standing = book.standing(channel, member, first_level)
    if book.entry_delta(spend_key(key)) is not None:
        return {"member": member, "spent": 0, "balance": standing.balance, "duplicate": True}
    check_spend_points(ws, member, standing.balance, amount)
    recorded = do_record_staff_events(
        conn,
        ws,
        [
            staff_event(
                type_="points.spent",
                id_=staff_event_id("spend", key),
                channel=channel,
                member=member,
                at=now,
                data={"amount": amount, "reason": reason, "key": key, "by": by},
            )
        ],
    )
    balance = PointsBook(conn, ws.id).standing(channel, member, first_level).balance
    if recorded.duplicates:
        return {"member": member, "spent": 0, "balance": balance, "duplicate": True}
    return {"member": member, "spent": amount, "balance": balance, "duplicate": False}


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
