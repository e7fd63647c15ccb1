"""API models of commerce: shops, orders, order-chain entries, promoters and commissions,
coupons and paid memberships."""

from __future__ import annotations

from pydantic import Field

from shequn.platform.schemas import Answer, Json, Timestamp


class ShopOut(Answer):
    shop: str
    secret: str = Field(description="The webhook's signing secret; shown only this once.")
    webhook: str = Field(description="Where the shop posts its orders.")
    signature: str = Field(description="How to sign a delivery.")


class ReceivedOut(Answer):
    """What a file or a webhook delivery added: new orders, and those already known."""

    accepted: int
    duplicates: int
    conflicts: list[str] = Field(
        default_factory=list,
        description="Orders already known under this id with other content (another amount "
        "…): the first version is kept.",
    )


class ChainItemOut(Answer):
    product: str
    qty: int


class OrderOut(Answer):
    order_id: str
    channel: str
    member: str
    group: str | None
    campaign: str | None = Field(description="The campaign the order is attributed to.")
    promoter: str | None
    source: str = Field(description="event, shop, csv or chain.")
    amount_fen: int
    refunded_fen: int
    coupon: str | None
    items: list[dict[str, Json]] = Field(description="As the shop or file sent them (sku, qty …).")
    status: str
    paid_at: Timestamp
    refunded_at: Timestamp | None
    caused_by: str | None


class ChainEntryOut(Answer):
    """One line of an order chain 接龙 and the order it stands for."""

    order_id: str
    chain_id: str
    channel: str
    group: str
    chain: str = Field(description="The chain's title.")
    number: int
    member: str
    name: str
    text: str
    items: list[ChainItemOut]
    amount_fen: int
    status: str = Field(description="claimed, paid, cancelled …")
    refunded_fen: int
    at: Timestamp


class PromoterOut(Answer):
    channel: str
    member: str
    tier: str
    tier_fixed: bool = Field(description="Fixed by staff rather than following sales.")
    status: str = Field(description="active or disabled.")
    sales_fen: int
    orders: int
    joined_at: Timestamp
    disabled_at: Timestamp | None


class CommissionOut(Answer):
    id: int
    order_id: str
    channel: str
    promoter: str
    buyer: str
    campaign: str | None
    level: int
    tier: str
    rate_bps: int
    base_fen: int
    amount_fen: int
    status: str = Field(description="pending, confirmed, paid or reversed.")
    created_at: Timestamp
    confirm_after: Timestamp
    confirmed_at: Timestamp | None
    paid_at: Timestamp | None
    reversed_at: Timestamp | None
    note: str | None


class PaidOut(Answer):
    paid: int = Field(description="How many were marked paid.")


class CouponOut(Answer):
    code: str
    template: str
    channel: str
    member: str
    kind: str = Field(description="amount or percent.")
    amount_fen: int
    percent: int
    threshold_fen: int
    status: str = Field(description="issued, redeemed, expired …")
    reason: str
    issued_at: Timestamp
    expires_at: Timestamp
    redeemed_at: Timestamp | None
    order_id: str | None


class CouponStatsOut(Answer):
    template: str
    issued: int
    redeemed: int
    expired: int
    redemption_rate: float | None


class PaidMembershipOut(Answer):
    channel: str
    member: str
    plan: str
    started_at: Timestamp
    expires_at: Timestamp
    last_order: str | None
    renewals: int
