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
    "livecode.cap_task": {
        "zh-CN": "活码「{code}」一小时内已新建 {count} 个群，达到上限：新扫码暂时进不了群。"
        "请检查是否有人恶意刷码；确认正常后可用 shequn livecode add-group {code} 加群，"
        "或调高 growth.live_codes.new_groups_per_hour",
        "en": "Live code {code} made {count} groups within an hour, its limit: new scans wait. "
        "Check for abuse; if it is real demand, add a group (shequn livecode add-group {code}) "
        "or raise growth.live_codes.new_groups_per_hour",
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
    "livecode.ask_staff": {
        "zh-CN": "这个群还没有入群二维码：请联系工作人员，告诉他们群名，由他们拉你入群",
        "en": "This group has no join code yet: ask a staff member to add you, giving them the "
        "group's name",
    },
    "livecode.open_link": {"zh-CN": "打开入群链接", "en": "Open the join link"},
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
    "growth.bad_key": {
        "zh-CN": "{what_zh}「{value}」不可用：请用 1–64 个字母、数字、'.'、'_' 或 '-'",
        "en": "{what} {value!r}: use 1–64 letters, digits, '.', '_' or '-'",
    },
    "growth.negative_cost": {
        "zh-CN": "cost_fen 不能小于 0",
        "en": "cost_fen must be ≥ 0",
    },
    "growth.bad_channel": {
        "zh-CN": "聊天平台「{channel}」不可用：请用小写字母、数字和 '_'",
        "en": "channel {channel!r}: lowercase letters, digits and '_'",
    },
    "growth.bad_capacity": {
        "zh-CN": "admissions_cap 和 group_capacity 须 ≥ 1",
        "en": "admissions_cap and group_capacity must be ≥ 1",
    },
    "growth.code_exists": {
        "zh-CN": "活码「{code}」已存在",
        "en": "live code {code!r} already exists",
    },
    "growth.no_code": {
        "zh-CN": "没有活码「{code}」",
        "en": "no live code {code!r}",
    },
    "growth.not_in_pool": {
        "zh-CN": "群「{group}」不在活码「{code}」的群池中",
        "en": "group {group!r} is not in the pool of {code!r}",
    },
    "growth.in_pool": {
        "zh-CN": "群「{group}」已在活码「{code}」的群池中",
        "en": "group {group!r} is already in the pool of {code!r}",
    },
    "growth.code_inactive": {
        "zh-CN": "活码「{code}」未启用",
        "en": "live code {code!r} is not active",
    },
    "growth.no_scan": {
        "zh-CN": "没有可入群的扫码记录「{scan}」",
        "en": "no scan {scan!r} with a group to join",
    },
    "growth.sandbox_only": {
        "zh-CN": "只有沙盒群可以通过社群加入",
        "en": "only sandbox groups can be joined through Shequn",
    },
    "growth.no_such_code": {
        "zh-CN": "没有这个活码",
        "en": "no such live code",
    },
    "growth.no_campaign": {
        "zh-CN": "没有活动「{key}」",
        "en": "no campaign {key!r}",
    },
    "growth.campaign_not_configured": {
        "zh-CN": "配置中没有活动「{key}」",
        "en": "no campaign {key!r} in the configuration",
    },
    "growth.no_preset": {
        "zh-CN": "没有预设「{name}」，可选：{presets}",
        "en": "no preset {name!r}; choose from {presets}",
    },
    "growth.no_poster": {
        "zh-CN": "这个活码没有活动海报",
        "en": "no campaign poster for this code",
    },
    "growth.no_reward": {
        "zh-CN": "没有奖励 {reward}",
        "en": "no reward {reward}",
    },
    "growth.reward_not_in_review": {
        "zh-CN": "奖励 {reward} 的状态是 {status}，不在待审核中",
        "en": "reward {reward} is {status}, not waiting for review",
    },
    "growth.reward_not_reversible": {
        "zh-CN": "奖励 {reward} 的状态是 {status}：只能撤回已发放或待审核的奖励",
        "en": "reward {reward} is {status}: only issued or in-review rewards",
    },
    "growth.avatar_refused": {
        "zh-CN": "头像地址不可用：{reason}",
        "en": "{reason}",
    },
    "growth.avatar_private_host": {
        "zh-CN": "avatar_url：{host} 是 {address}，不是公网地址"
        "（SHEQUN_AVATAR_ALLOW_PRIVATE_HOSTS 可放开）",
        "en": "avatar_url: {host} is {address}, not a public address"
        " (SHEQUN_AVATAR_ALLOW_PRIVATE_HOSTS allows it)",
    },
    "growth.bad_member": {
        "zh-CN": "成员 ID 最多 128 个字符",
        "en": "a member id has at most 128 characters",
    },
    "growth.campaign_not_running": {
        "zh-CN": "活动「{key}」在 {at} 不在进行中",
        "en": "campaign {key!r} is not running at {at}",
    },
    "growth.not_in_segment": {
        "zh-CN": "{member} 不在活动「{key}」的人群「{segment}」中",
        "en": "{member} is not in the segment {segment!r} of campaign {key!r}",
    },
    "growth.not_cards": {
        "zh-CN": "活动「{campaign}」不是集卡活动",
        "en": "campaign {campaign!r} is not a card collection",
    },
    "growth.card_to_self": {
        "zh-CN": "卡片不能送给自己",
        "en": "a card cannot be given to oneself",
    },
    "growth.no_card": {
        "zh-CN": "{giver} 没有卡片「{card}」",
        "en": "{giver} holds no card {card!r}",
    },
    "growth.bad_target": {
        "zh-CN": "请在 {targets} 中选择目标",
        "en": "choose a target among {targets}",
    },
    "growth.no_assists": {
        "zh-CN": "活动「{campaign}」没有助力",
        "en": "campaign {campaign!r} has no assists",
    },
    "growth.not_started": {
        "zh-CN": "{owner} 尚未参加活动「{campaign}」",
        "en": "{owner} has not started in {campaign!r}",
    },
    "growth.help_self": {
        "zh-CN": "不能给自己助力",
        "en": "one cannot help oneself",
    },
    "growth.assist_done": {
        "zh-CN": "这个{kind}已经是 {status}",
        "en": "this {kind} is already {status}",
    },
    "growth.already_helped": {
        "zh-CN": "{helper} 已经助力过了",
        "en": "{helper} has already helped",
    },
    "growth.no_votes_left": {
        "zh-CN": "{helper} 没有剩余票数",
        "en": "{helper} has no votes left",
    },
    "growth.no_vote": {
        "zh-CN": "没有投票活动「{campaign}」",
        "en": "no vote campaign {campaign!r}",
    },
    "growth.not_claimable": {
        "zh-CN": "活动「{campaign}」不是秒杀或免费领",
        "en": "campaign {campaign!r} is not a flash sale or free gift",
    },
    "growth.sold_out": {
        "zh-CN": "已抢光",
        "en": "sold out / 已抢光",
    },
    "growth.per_member": {
        "zh-CN": "每人最多 {limit} 份",
        "en": "at most {limit} per person",
    },
    "growth.invite_first": {
        "zh-CN": "请先邀请 {count} 位好友",
        "en": "invite {count} friends first",
    },
    "growth.no_lottery": {
        "zh-CN": "活动「{campaign}」没有抽奖",
        "en": "campaign {campaign!r} has no lottery",
    },
    "growth.no_chances": {
        "zh-CN": "没有剩余抽奖机会",
        "en": "no lottery chances left",
    },
    "growth.not_group_buy": {
        "zh-CN": "活动「{campaign}」不是拼团",
        "en": "campaign {campaign!r} is not a group buy",
    },
    "growth.no_group_buy": {
        "zh-CN": "{leader} 在活动「{campaign}」中没有开团",
        "en": "{leader} has no group buy in {campaign!r}",
    },
    "growth.group_buy_closed": {
        "zh-CN": "这个拼团已结束",
        "en": "this group buy is closed",
    },
    "growth.already_joined": {
        "zh-CN": "{member} 已在这个拼团中",
        "en": "{member} is already in this group buy",
    },
}


say = Texts(_TEXTS)
