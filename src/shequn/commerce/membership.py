"""Paid membership 付费社群: an order for a plan's item starts or extends it — when it paid the
fee, or a coupon explains the difference; reminders go out before it ends; gated groups admit
only members whose membership is active."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, select, update

from shequn.commerce.models import paid_memberships
from shequn.config.commerce import CouponTemplate, Plan

REMIND_JOB = "commerce.renewal_reminder"
EXPIRY_JOB = "commerce.membership_expiry"


def current(
    conn: Connection, workspace_id: int, channel: str, member: str, plan: str
) -> dict[str, Any] | None:
    t = paid_memberships
    row = (
        conn.execute(
            select(t).where(
                and_(
                    t.c.workspace_id == workspace_id,
                    t.c.channel == channel,
                    t.c.member_ext == member,
                    t.c.plan == plan,
                )
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


def extend(
    conn: Connection,
    workspace_id: int,
    *,
    channel: str,
    member: str,
    plan_key: str,
    plan: Plan,
    periods: int,
    order_id: str,
    at: datetime,
) -> datetime:
    """Start or extend a membership; answers the new end."""
    row = current(conn, workspace_id, channel, member, plan_key)
    length = timedelta(days=plan.period_days * periods)
    if row is None:
        expires = at + length
        conn.execute(
            paid_memberships.insert().values(
                workspace_id=workspace_id,
                channel=channel,
                member_ext=member,
                plan=plan_key,
                started_at=at,
                expires_at=expires,
                last_order=order_id,
                renewals=0,
            )
        )
        return expires
    active = row["expires_at"] > at
    expires = (row["expires_at"] if active else at) + length
    conn.execute(
        update(paid_memberships)
        .where(paid_memberships.c.id == row["id"])
        .values(
            expires_at=expires,
            started_at=row["started_at"] if active else at,
            last_order=order_id,
            renewals=int(row["renewals"]) + 1,
        )
    )
    return expires


def paid_for_plans_fen(items: list[dict[str, Any]], skus: set[str], amount_fen: int) -> int:
    """What the order paid for its plan items. When every item states its unit `price_fen`,
    the plan items' share of the amount by their listed prices (rounded up, the buyer's way);
    otherwise the whole amount: nothing tells the items apart."""
    lines: list[tuple[bool, int]] = []
    for item in items:
        price = item.get("price_fen")
        if not isinstance(price, int) or isinstance(price, bool) or price < 0:
            return amount_fen
        lines.append((item.get("sku") in skus, price * int(item.get("qty", 1))))
    listed = sum(fen for _, fen in lines)
    if listed <= 0:
        return amount_fen
    for_plans = sum(fen for is_plan, fen in lines if is_plan)
    return -(-amount_fen * for_plans // listed)


def coupon_discount_fen(coupon: dict[str, Any] | None, order_id: str, list_fen: int) -> int:
    """What the order's coupon took off the list price: nothing unless it was redeemed by
    this very order (someone else's or an expired coupon explains no difference)."""
    if coupon is None or coupon["status"] != "redeemed" or coupon["order_id"] != order_id:
        return 0
    terms = CouponTemplate.model_construct(
        name=coupon["template"],
        kind=coupon["kind"],
        amount_fen=int(coupon["amount_fen"]),
        percent=int(coupon["percent"]),
        threshold_fen=int(coupon["threshold_fen"]),
    )
    return terms.discount(list_fen)


def revoke_for_refund(conn: Connection, workspace_id: int, order_id: str, at: datetime) -> None:
    """A fully refunded membership order ends the membership it bought."""
    t = paid_memberships
    conn.execute(
        update(t)
        .where(
            and_(t.c.workspace_id == workspace_id, t.c.last_order == order_id, t.c.expires_at > at)
        )
        .values(expires_at=at)
    )


def plans_gating(plans: dict[str, Plan], group: str) -> list[str]:
    return [key for key, plan in plans.items() if group in plan.groups]


def has_access(
    conn: Connection,
    workspace_id: int,
    channel: str,
    member: str,
    plan_keys: list[str],
    at: datetime,
) -> bool:
    for key in plan_keys:
        row = current(conn, workspace_id, channel, member, key)
        if row is not None and row["expires_at"] > at:
            return True
    return False


def public_membership(row: Any) -> dict[str, Any]:
    return {
        "channel": row["channel"],
        "member": row["member_ext"],
        "plan": row["plan"],
        "started_at": row["started_at"].isoformat().replace("+00:00", "Z"),
        "expires_at": row["expires_at"].isoformat().replace("+00:00", "Z"),
        "last_order": row["last_order"],
        "renewals": row["renewals"],
    }
