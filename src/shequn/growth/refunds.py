"""A fully refunded order takes back what it earned in campaigns.

Called by commerce's refund rule once an order's refunds reach what it paid, within
`growth.validity.refund_window_days` of its payment. Tied to the order are: the rewards it
caused (a milestone or a qualifying invite paid on its `order.paid`, a card set it
completed), the invitation milestone it reached as the buyer's first order or repurchase,
and the cards it dropped. Rewards go through the ordinary reversal (points taken back, coupon
voided, a liability not yet paid cancelled); one already paid gets a staff task. Everything
is keyed, so a replay or a second refund of the same order changes nothing more.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select

from shequn.actions import ActionKind, Decision
from shequn.commerce.orders import order_rank
from shequn.engagement.points import PointsBook
from shequn.engine.rules import Context
from shequn.events import Event
from shequn.growth.fission import holdings
from shequn.growth.models import cards, rewards
from shequn.growth.rewards import REVERSIBLE, RewardBook
from shequn.growth.texts import say
from shequn.platform.db import insert_ignore

_MILESTONE_OF_RANK = {1: "milestone_first_order", 2: "milestone_repurchase"}


def reverse_for_refund(ctx: Context, order: dict[str, Any], event: Event) -> list[Decision]:
    """Take back the rewards and cards of an order now fully refunded (see the module)."""
    window = timedelta(days=ctx.config.growth.validity.refund_window_days)
    if order["caused_by"] is None or event.at - order["paid_at"] > window:
        return []
    book = ctx.book(RewardBook)
    note = say("reward.reversed_refund", ctx.workspace.locale, order=order["order_id"])
    points = ctx.book(PointsBook)
    out: list[Decision] = []
    for row in _tied_rewards(ctx, order):
        if row["status"] in REVERSIBLE:
            book.reverse(ctx.workspace, row, note, event.at, points, caused_by=event.id)
        elif row["status"] == "paid":
            out.append(_paid_task(ctx, row, order))
    _take_back_cards(ctx, order, event)
    return out


def _order_rank(ctx: Context, order: dict[str, Any]) -> int:
    """1 for the buyer's first paid order, 2 for the next … (commerce's count)."""
    return order_rank(ctx.book(RewardBook).conn, ctx.workspace.id, order)


def _tied_rewards(ctx: Context, order: dict[str, Any]) -> list[Any]:
    t = rewards
    tied: list[Any] = [t.c.caused_by == order["caused_by"]]
    milestone = _MILESTONE_OF_RANK.get(_order_rank(ctx, order))
    if milestone is not None:
        tied.append(and_(t.c.reason == milestone, t.c.subject == order["member_ext"]))
    stmt = (
        select(t)
        .where(
            and_(
                t.c.workspace_id == ctx.workspace.id,
                t.c.channel == order["channel"],
                or_(*tied),
            )
        )
        .order_by(t.c.id)
    )
    return list(ctx.book(RewardBook).conn.execute(stmt).mappings())


def _paid_task(ctx: Context, row: Any, order: dict[str, Any]) -> Decision:
    text = say(
        "reward.refund_paid_task",
        ctx.workspace.locale,
        member=row["member_ext"],
        reward=row["id"],
        fen=f"{int(row['amount_fen']) / 100:.2f}",
        order=order["order_id"],
    )
    return Decision(
        kind=ActionKind.STAFF_TASK,
        reason=text,
        member=row["member_ext"],
        channel=row["channel"],
        data={"reward": row["id"], "order_id": order["order_id"], "amount_fen": row["amount_fen"]},
        key=f"growth.refund_paid:{row['key']}",
    )


def _take_back_cards(ctx: Context, order: dict[str, Any], event: Event) -> None:
    """Each card the order dropped goes, as long as the buyer still holds one."""
    c = cards
    channel, buyer, cause = order["channel"], order["member_ext"], order["caused_by"]
    conn = ctx.book(RewardBook).conn
    dropped = [
        r
        for r in conn.execute(
            select(c).where(
                and_(
                    c.c.workspace_id == ctx.workspace.id,
                    c.c.channel == channel,
                    c.c.member_ext == buyer,
                    c.c.reason == "order",
                )
            )
        ).mappings()
        if r["key"].startswith(f"{r['campaign']}:drop:{channel}:{buyer}:event:{channel}:{cause}:")
    ]
    for r in dropped:
        key = f"{r['campaign']}:refund:{r['id']}"
        if conn.execute(
            select(c.c.id).where(and_(c.c.workspace_id == ctx.workspace.id, c.c.key == key))
        ).first():
            continue  # taken back by an earlier refund of this order
        if holdings(conn, ctx.workspace.id, r["campaign"], channel, buyer).get(r["card"], 0) < 1:
            continue  # given away since: nothing left to take
        insert_ignore(
            conn,
            cards,
            [
                {
                    "workspace_id": ctx.workspace.id,
                    "key": key,
                    "campaign": r["campaign"],
                    "channel": channel,
                    "member_ext": buyer,
                    "card": r["card"],
                    "delta": -1,
                    "reason": "refund",
                    "at": event.at,
                }
            ],
        )
