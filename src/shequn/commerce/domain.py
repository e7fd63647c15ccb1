"""Commerce: coupons, orders and refunds, distribution, paid membership, order chains."""

from shequn.platform.domain import Command, Domain

DOMAIN = Domain(
    name="commerce",
    models=("shequn.commerce.models",),
    rules=("shequn.commerce.rules",),
    exports=("shequn.commerce.exports",),
    api=("shequn.commerce.api:router", "shequn.commerce.api:public"),
    cli=(
        Command("order", "Orders and refunds.", ("shequn.commerce.cli:order_app",)),
        Command("coupon", "Coupons 优惠券.", ("shequn.commerce.cli:coupon_app",)),
        Command(
            "commission",
            "Distribution commissions 分销佣金.",
            ("shequn.commerce.cli:commission_app",),
        ),
        Command(
            "promoter",
            "Promoters 分销员: enrol, tier, disable.",
            ("shequn.commerce.cli:promoter_app",),
        ),
        Command("shop", "Shops that call the order webhook.", ("shequn.commerce.cli:shop_app",)),
    ),
)
