"""Commerce: coupons, orders and refunds, distribution commissions, paid membership and the
order-chain (接龙) parser."""
