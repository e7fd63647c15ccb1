"""Configuration of commerce: coupon templates, distribution (levels, rates, tiers, refund
window), paid-membership plans and the order-chain catalogue."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from shequn.config.base import Section

Fen = Annotated[int, Field(ge=0, le=10**11)]
Key = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
Percent = Annotated[float, Field(ge=0, le=100)]

MAX_LEVELS = 2
LEVELS_REFUSED = (
    "分销最多两级，三级及以上不合规 / distribution allows at most 2 levels: "
    "3 or more is not compliant"
)


class CouponTemplate(Section):
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["amount", "percent"] = "amount"
    amount_fen: Fen = 0
    percent: int = Field(default=0, ge=0, le=99, description="Percent off (kind: percent).")
    threshold_fen: Fen = Field(default=0, description="Order amount needed (满减).")
    valid_days: float = Field(default=7, gt=0, le=3650)
    value_fen: Fen | None = Field(default=None, description="What it is worth, for budgets.")

    @model_validator(mode="after")
    def _has_value(self) -> CouponTemplate:
        if self.kind == "amount" and self.amount_fen <= 0:
            raise ValueError("an amount coupon needs amount_fen > 0")
        if self.kind == "percent" and self.percent <= 0:
            raise ValueError("a percent coupon needs percent > 0")
        return self

    def discount(self, order_fen: int) -> int:
        """The discount this coupon gives on an order (0 below the threshold)."""
        if order_fen < self.threshold_fen:
            return 0
        if self.kind == "amount":
            return min(self.amount_fen, order_fen)
        return order_fen * self.percent // 100


class CouponsSection(Section):
    templates: dict[Key, CouponTemplate] = Field(default_factory=dict)
    on_join: Key | None = Field(default=None, description="Template handed out on joining.")

    @model_validator(mode="after")
    def _known(self) -> CouponsSection:
        if self.on_join is not None and self.on_join not in self.templates:
            raise ValueError(f"on_join: no template {self.on_join!r}")
        return self


class Tier(Section):
    name: str = Field(min_length=1, max_length=32)
    min_sales_fen: Fen = 0
    min_orders: int = Field(default=0, ge=0)
    level1_percent: Percent
    level2_percent: Percent = 0


def _default_tiers() -> list[Tier]:
    return [
        Tier(name="初级", level1_percent=30, level2_percent=10),
        Tier(
            name="中级", min_sales_fen=500_000, min_orders=20, level1_percent=35, level2_percent=10
        ),
        Tier(
            name="高级",
            min_sales_fen=2_000_000,
            min_orders=80,
            level1_percent=40,
            level2_percent=12,
        ),
    ]


class DistributionSection(Section):
    """分销: commission on referred sales; one level or two, never more."""

    enabled: bool = False
    levels: int = Field(default=1, ge=1, description="1 or 2.")
    tiers: list[Tier] = Field(default_factory=_default_tiers, min_length=1)
    refund_window_days: float = Field(default=7, ge=0, le=365)
    auto_enrol: bool = Field(default=True, description="Every referrer is a promoter.")

    @field_validator("levels")
    @classmethod
    def _compliant(cls, value: int) -> int:
        if value > MAX_LEVELS:
            raise ValueError(LEVELS_REFUSED)
        return value

    @model_validator(mode="after")
    def _tiers_rise(self) -> DistributionSection:
        if self.tiers[0].min_sales_fen != 0 or self.tiers[0].min_orders != 0:
            raise ValueError("the first tier must have no conditions")
        return self

    def tier_for(self, sales_fen: int, orders: int) -> Tier:
        found = self.tiers[0]
        for tier in self.tiers:
            if sales_fen >= tier.min_sales_fen and orders >= tier.min_orders:
                found = tier
        return found


class Plan(Section):
    name: str = Field(min_length=1, max_length=100)
    sku: str = Field(min_length=1, max_length=128, description="Order item that buys it.")
    fee_fen: Fen
    period_days: int = Field(default=365, ge=1, le=3650)
    groups: list[str] = Field(default_factory=list, description="Groups gated by it.")
    remind_days: list[int] = Field(default_factory=lambda: [7, 1])


class MembershipSection(Section):
    plans: dict[Key, Plan] = Field(default_factory=dict)


class ChainSection(Section):
    enabled: bool = True
    markers: list[str] = Field(default_factory=lambda: ["#接龙", "接龙"], min_length=1)
    prices: dict[str, Fen] = Field(
        default_factory=dict, description="Unit price per product name, for chain orders."
    )
