"""Tables of commerce: shops (webhook secrets), orders, distribution commissions and
promoters, coupons, paid memberships and order-chain entries. Money is integer fen."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from shequn.platform.db import Id, UTCDateTime, metadata


def _ws() -> Column[int]:
    return Column(
        "workspace_id", Id, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
    )


shops = Table(
    "shops",
    metadata,
    # A shop that calls the webhook; its shared secret signs every delivery (HMAC-SHA256).
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("key", String(64), nullable=False),
    Column("name", String(100), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("secret", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "key"),
)

orders = Table(
    "orders",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("order_id", String(128), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("member_ext", String(128), nullable=False),
    # Attribution: the group, campaign and promoter the sale is credited to.
    Column("group_ext", String(128)),
    Column("campaign", String(64)),
    Column("promoter", String(128)),
    Column("source", String(16), nullable=False),
    Column("amount_fen", Id, nullable=False),
    Column("refunded_fen", Id, nullable=False),
    Column("coupon", String(64)),
    Column("items", JSON, nullable=False),
    # paid, refunded, partly_refunded, claimed (an order-chain entry not yet paid)
    Column("status", String(16), nullable=False),
    Column("paid_at", UTCDateTime, nullable=False),
    Column("refunded_at", UTCDateTime),
    Column("caused_by", String(128)),
    UniqueConstraint("workspace_id", "order_id"),
    Index("ix_orders_member", "workspace_id", "channel", "member_ext"),
)

promoters = Table(
    "promoters",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("channel", String(32), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("tier", String(32), nullable=False),
    Column("sales_fen", Id, nullable=False),
    Column("orders", Integer, nullable=False),
    Column("joined_at", UTCDateTime, nullable=False),
    # active, or disabled by staff (earns no new commissions)
    Column("status", String(16), nullable=False, server_default="active"),
    # A tier staff set holds; otherwise tiers follow sales and orders.
    Column("tier_fixed", Boolean, nullable=False, server_default=false()),
    Column("disabled_at", UTCDateTime),
    UniqueConstraint("workspace_id", "channel", "member_ext"),
)

commissions = Table(
    "commissions",
    metadata,
    # One per order and level: the key (order, level) makes it idempotent.
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("key", String(300), nullable=False),
    Column("order_id", String(128), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("promoter", String(128), nullable=False),
    Column("buyer", String(128), nullable=False),
    Column("campaign", String(64)),
    Column("level", Integer, nullable=False),
    Column("tier", String(32), nullable=False),
    Column("rate_bps", Integer, nullable=False),
    Column("base_fen", Id, nullable=False),
    Column("amount_fen", Id, nullable=False),
    # pending → confirmed (after the refund window) → paid; reversed by a refund
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("confirm_after", UTCDateTime, nullable=False),
    Column("confirmed_at", UTCDateTime),
    Column("paid_at", UTCDateTime),
    Column("reversed_at", UTCDateTime),
    Column("note", Text),
    UniqueConstraint("workspace_id", "key"),
    Index("ix_commissions_order", "workspace_id", "order_id"),
    Index("ix_commissions_promoter", "workspace_id", "channel", "promoter"),
)

coupons = Table(
    "coupons",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("code", String(32), nullable=False),
    # Why it was issued (join, reward …, once per key): the same reason never issues twice.
    Column("key", String(300), nullable=False),
    Column("template", String(64), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount_fen", Id, nullable=False),
    Column("percent", Integer, nullable=False),
    Column("threshold_fen", Id, nullable=False),
    # issued, redeemed, expired
    Column("status", String(16), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("redeemed_at", UTCDateTime),
    Column("order_id", String(128)),
    UniqueConstraint("workspace_id", "code"),
    UniqueConstraint("workspace_id", "key"),
    Index("ix_coupons_member", "workspace_id", "channel", "member_ext"),
)

paid_memberships = Table(
    "paid_memberships",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("channel", String(32), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("plan", String(64), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("last_order", String(128)),
    Column("renewals", Integer, nullable=False),
    UniqueConstraint("workspace_id", "channel", "member_ext", "plan"),
)

chain_entries = Table(
    "chain_entries",
    metadata,
    # One numbered line of an order chain 接龙, attributed to whoever first posted it.
    Column("id", Id, primary_key=True, autoincrement=True),
    _ws(),
    Column("channel", String(32), nullable=False),
    Column("group_ext", String(128), nullable=False),
    Column("chain", String(200), nullable=False),
    Column("number", Integer, nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("name", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("items", JSON, nullable=False),
    Column("amount_fen", Id, nullable=False),
    Column("order_id", String(128), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "channel", "group_ext", "chain", "number"),
)
