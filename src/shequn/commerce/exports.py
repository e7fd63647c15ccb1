"""Exports of commerce: orders, commissions, coupons, paid memberships, promoters and
order-chain entries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Table, select

from shequn.commerce.coupons import public_coupon
from shequn.commerce.distribution import public_commission, public_promoter
from shequn.commerce.membership import public_membership
from shequn.commerce.models import (
    chain_entries,
    commissions,
    coupons,
    orders,
    paid_memberships,
    promoters,
)
from shequn.commerce.orders import public_order
from shequn.community.workspace import WorkspaceInfo
from shequn.exports import iso, register_export, stream


def _rows(table: Table, order: tuple[str, ...], shape: Any) -> Any:
    def rows(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
        stmt = (
            select(table)
            .where(table.c.workspace_id == ws.id)
            .order_by(*(table.c[c] for c in order))
        )
        for r in stream(conn, stmt):
            yield shape(r)

    return rows


register_export(
    "orders",
    (
        "order_id",
        "channel",
        "member",
        "group",
        "campaign",
        "promoter",
        "source",
        "amount_fen",
        "refunded_fen",
        "coupon",
        "items",
        "status",
        "paid_at",
        "refunded_at",
        "caused_by",
    ),
)(_rows(orders, ("paid_at", "id"), public_order))

register_export(
    "commissions",
    (
        "id",
        "order_id",
        "channel",
        "promoter",
        "buyer",
        "campaign",
        "level",
        "tier",
        "rate_bps",
        "base_fen",
        "amount_fen",
        "status",
        "created_at",
        "confirm_after",
        "confirmed_at",
        "paid_at",
        "reversed_at",
        "note",
    ),
)(_rows(commissions, ("id",), public_commission))

register_export(
    "coupons",
    (
        "code",
        "template",
        "channel",
        "member",
        "kind",
        "amount_fen",
        "percent",
        "threshold_fen",
        "status",
        "reason",
        "issued_at",
        "expires_at",
        "redeemed_at",
        "order_id",
    ),
)(_rows(coupons, ("issued_at", "id"), public_coupon))

register_export(
    "paid_memberships",
    ("channel", "member", "plan", "started_at", "expires_at", "last_order", "renewals"),
)(_rows(paid_memberships, ("channel", "member_ext", "plan"), public_membership))


register_export(
    "promoters",
    (
        "channel",
        "member",
        "tier",
        "sales_fen",
        "orders",
        "joined_at",
        "tier_fixed",
        "status",
        "disabled_at",
    ),
)(_rows(promoters, ("channel", "member_ext"), public_promoter))


def _entry(r: Any) -> dict[str, Any]:
    return {
        "channel": r["channel"],
        "group": r["group_ext"],
        "chain": r["chain"],
        "number": r["number"],
        "member": r["member_ext"],
        "name": r["name"],
        "text": r["text"],
        "items": r["items"],
        "amount_fen": r["amount_fen"],
        "order_id": r["order_id"],
        "at": iso(r["at"]),
    }


register_export(
    "chain_entries",
    (
        "channel",
        "group",
        "chain",
        "number",
        "member",
        "name",
        "text",
        "items",
        "amount_fen",
        "order_id",
        "at",
    ),
)(_rows(chain_entries, ("at", "group_ext", "number"), _entry))
