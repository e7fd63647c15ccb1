"""Texts people read in growth, zh-CN first and English."""

from __future__ import annotations

from shequn.i18n import Texts

_TEXTS: dict[str, dict[str, str]] = {
    "livecode.new_group_task": {
        "zh-CN": "活码「{code}」的群已满：请按方案「{blueprint}」新建群「{name}」，"
        "并上传它的进群二维码/链接（shequn livecode group-url {code} {group} URL）",
        "en": "Live code {code} is full: please create group {name} from blueprint "
        "{blueprint} and upload its join QR/link (shequn livecode group-url {code} {group} URL)",
    },
    "livecode.new_group_reason": {
        "zh-CN": "活码群已满，新建下一个群",
        "en": "live-code pool full: next group",
    },
    "livecode.page_title": {"zh-CN": "扫码进群", "en": "Join the group"},
    "livecode.page_hint": {
        "zh-CN": "长按识别二维码，加入「{name}」",
        "en": "Scan or tap to join {name}",
    },
    "livecode.preparing": {
        "zh-CN": "新群正在准备中，请稍后再扫",
        "en": "A new group is being prepared; please scan again shortly",
    },
    "reward.reason.invite": {"zh-CN": "邀请好友入群", "en": "invited a friend"},
    "reward.reason.milestone": {
        "zh-CN": "好友里程碑：{on}",
        "en": "friend's milestone: {on}",
    },
    "reward.reason.task": {
        "zh-CN": "任务完成：邀请 {n} 位好友",
        "en": "task done: {n} friends invited",
    },
    "reward.review_task": {
        "zh-CN": "奖励待审核：{member} 的「{reason}」，风险分 {score}（{reasons}）",
        "en": "Reward awaiting review: {member} for {reason}, fraud score {score} ({reasons})",
    },
    "reward.notice": {
        "zh-CN": "@{nickname} 恭喜！你在「{campaign}」获得{what}。{claim}",
        "en": "@{nickname} Congratulations! You got {what} in {campaign}. {claim}",
    },
    "reward.notice_reason": {"zh-CN": "奖励到账通知", "en": "reward notice"},
    "reward.what.cash": {"zh-CN": "现金 {yuan}", "en": "{yuan} in cash"},
    "reward.what.redpacket": {"zh-CN": "红包 {yuan}", "en": "a {yuan} red packet"},
    "reward.what.discount": {"zh-CN": "优惠 {yuan}", "en": "{yuan} off"},
    "reward.what.points": {"zh-CN": "{points} 积分", "en": "{points} points"},
    "reward.what.coupon": {"zh-CN": "优惠券「{name}」", "en": "the coupon {name}"},
    "reward.what.identity": {"zh-CN": "身份「{identity}」", "en": "the title {identity}"},
    "reward.claim.staff": {
        "zh-CN": "请添加工作人员「{staff}」领取。",
        "en": "Add staff account {staff} to claim it.",
    },
    "reward.claim.wait": {
        "zh-CN": "工作人员会尽快联系你发放。",
        "en": "Staff will contact you to pay it out.",
    },
    "reward.reversal.shortfall": {
        "zh-CN": "积分余额不足，少扣 {points} 分",
        "en": "balance too low: {points} points not taken back",
    },
    "reward.reversal.coupon_used": {
        "zh-CN": "优惠券 {code} 已核销，无法作废",
        "en": "coupon {code} was already redeemed and could not be voided",
    },
    "reward.reversal.staff": {"zh-CN": "工作人员撤回", "en": "reversed by staff"},
    # Joining texts: a list of names, and the clauses of a note.
    "list.separator": {"zh-CN": "、", "en": ", "},
    "note.separator": {"zh-CN": "；", "en": "; "},
    "fraud.same_device": {"zh-CN": "与邀请人同一设备", "en": "same device as the inviter"},
    "fraud.same_network": {"zh-CN": "与邀请人同一网络", "en": "same network as the inviter"},
    "fraud.burst": {"zh-CN": "邀请人短时间内集中拉人", "en": "join burst from one inviter"},
    "fraud.ring": {"zh-CN": "互邀/环形邀请", "en": "invite ring"},
    "fraud.instant_leavers": {
        "zh-CN": "邀请人的好友多数秒退",
        "en": "inviter's invitees mostly leave at once",
    },
    "fraud.look_alike": {"zh-CN": "昵称雷同", "en": "look-alike names"},
    "fraud.left_early": {
        "zh-CN": "邀请人曾有好友领奖后即退群",
        "en": "inviter's invitees left right after a reward",
    },
    "fraud.rate_limit": {"zh-CN": "超出每日邀请奖励上限", "en": "over the daily invite limit"},
    "invalid.not_new": {"zh-CN": "非新用户", "en": "not new to the workspace"},
    "invalid.self": {"zh-CN": "自己邀请自己", "en": "invited themselves"},
    "invalid.left": {"zh-CN": "考核期内退群", "en": "left during the hold"},
    "invalid.not_qualified": {"zh-CN": "未完成指定动作", "en": "qualifying action not taken"},
    "invalid.blacklisted": {"zh-CN": "黑名单用户", "en": "blacklisted"},
    "reward.budget": {"zh-CN": "活动预算已用完", "en": "campaign budget exhausted"},
    "reward.reversed_left": {
        "zh-CN": "领奖后 {days} 天内退群，奖励撤回",
        "en": "left within {days} days of the reward: reversed",
    },
    "reward.reversed_refund": {
        "zh-CN": "订单 {order} 已全额退款，奖励撤回",
        "en": "order {order} was fully refunded: reversed",
    },
    "reward.refund_paid_task": {
        "zh-CN": "订单 {order} 已全额退款，但 {member} 的奖励 #{reward}（{fen} 元）已发放，"
        "请联系追回或记为损失",
        "en": "Order {order} was fully refunded, but reward #{reward} of {member} (¥{fen}) "
        "was already paid: recover it or write it off",
    },
    "cost.warning": {
        "zh-CN": "奖励价值低（{value} 元）却要求参与者提供 {asks}：参与成本过高，请调整",
        "en": "a low-value reward (¥{value}) asks participants for {asks}: "
        "too costly for them, please reconsider",
    },
    "report.title": {"zh-CN": "活动复盘", "en": "Campaign review"},
    "group_buy.failed": {
        "zh-CN": "拼团「{campaign}」到期未成团：请为团长 {leader} 的团（{joined} 人）办理退款",
        "en": "Group buy {campaign} of {leader} ended short ({joined} joined): please refund",
    },
    "poster.hint": {"zh-CN": "长按识别二维码 加入社群", "en": "Scan the code to join"},
}


say = Texts(_TEXTS)
