"""Texts people read in commerce, zh-CN first and English."""

from __future__ import annotations

from shequn.i18n import Texts

_TEXTS: dict[str, dict[str, str]] = {
    "membership.remind": {
        "zh-CN": "@{nickname} 您的「{plan}」会员将于 {date} 到期，请及时续费",
        "en": "@{nickname} your {plan} membership ends on {date}: please renew",
    },
    "membership.remind_reason": {
        "zh-CN": "会员续费提醒（{days} 天后到期）",
        "en": "membership renewal reminder ({days} days left)",
    },
    "membership.gate_reason": {
        "zh-CN": "付费群：未开通「{plan}」会员",
        "en": "paid group: no active {plan} membership",
    },
    "membership.expired_reason": {
        "zh-CN": "「{plan}」会员已到期",
        "en": "{plan} membership expired",
    },
    "membership.underpaid": {
        "zh-CN": "未开通「{plan}」会员：订单 {order} 实付 ¥{paid}（优惠券抵扣 ¥{coupon}），"
        "低于会费 ¥{fee}，请核实后处理",
        "en": "{plan} membership not granted: order {order} paid ¥{paid} (coupon ¥{coupon}), "
        "less than the fee of ¥{fee}; please check",
    },
    "coupon.join_reason": {"zh-CN": "进群领券", "en": "coupon for joining"},
    "list.separator": {"zh-CN": "、", "en": ", "},
}


say = Texts(_TEXTS)
