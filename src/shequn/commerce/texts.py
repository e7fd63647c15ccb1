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
    "commerce.no_ids": {
        "zh-CN": "请至少指定一个接龙或接龙条目",
        "en": "name at least one chain or chain entry",
    },
    "commerce.no_entry": {
        "zh-CN": "没有接龙条目或接龙「{wanted}」",
        "en": "no chain entry or chain {wanted!r}",
    },
    "commerce.negative_amount": {
        "zh-CN": "amount_fen 不能小于 0",
        "en": "amount_fen must be ≥ 0",
    },
    "commerce.amount_for_one": {
        "zh-CN": "只有单个条目才能指定金额",
        "en": "an amount can be given for one entry only",
    },
    "commerce.entry_cancelled": {
        "zh-CN": "接龙条目 {entry} 已取消",
        "en": "chain entry {entry} was cancelled",
    },
    "commerce.no_price": {
        "zh-CN": "接龙条目 {entry} 没有价格：请给出金额（分）",
        "en": "chain entry {entry} has no price: give its amount in fen",
    },
    "commerce.already_paid": {
        "zh-CN": "已付款，请改为退款：{entries}",
        "en": "already paid, refund instead: {entries}",
    },
    "commerce.not_promoter": {
        "zh-CN": "「{member}」不是分销员",
        "en": "{member!r} is not a promoter",
    },
    "commerce.unknown_tier": {
        "zh-CN": "没有等级「{name}」，可选：{tiers}",
        "en": "unknown tier {name!r}; choose from {tiers}",
    },
    "commerce.no_member": {
        "zh-CN": "平台「{channel}」上没有成员「{member}」",
        "en": "no member {member!r} on channel {channel!r}",
    },
    "commerce.shop_exists": {
        "zh-CN": "店铺「{key}」已存在",
        "en": "shop {key!r} already exists",
    },
    "commerce.no_webhook": {
        "zh-CN": "没有这个店铺回调地址",
        "en": "no such shop webhook",
    },
    "commerce.no_shop": {
        "zh-CN": "没有店铺「{key}」",
        "en": "no shop {key!r}",
    },
    "commerce.bad_signature": {
        "zh-CN": "签名不符",
        "en": "signature does not match",
    },
    "commerce.no_template": {
        "zh-CN": "没有优惠券模板「{template}」",
        "en": "no coupon template {template!r}",
    },
    "commerce.no_coupon": {
        "zh-CN": "没有优惠券「{code}」",
        "en": "no coupon {code!r}",
    },
}


say = Texts(_TEXTS)
