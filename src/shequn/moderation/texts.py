"""Texts of moderation that members and staff read, zh-CN first."""

from __future__ import annotations

from shequn.i18n import Texts

_TEXTS: dict[str, dict[str, str]] = {
    "warn": {
        "zh-CN": "@{nickname} 请勿在群内发布广告或联系方式（{why}）。再次违规将被移出群聊。",
        "en": "@{nickname} no ads or contact details here ({why}). Next time you will be removed.",
    },
    "reason": {
        "zh-CN": "第 {offence} 次违规：{why}",
        "en": "offence {offence}: {why}",
    },
    "soft": {
        "zh-CN": "疑似违规，请核实：成员 {member} 在群「{group}」发送「{evidence}」（{why}）",
        "en": "Please check: {member} posted “{evidence}” in {group} ({why})",
    },
    "restore": {
        "zh-CN": "误判已撤销：请将成员 {member} 重新邀请进群「{group}」",
        "en": "Decision reverted: please invite {member} back to {group}",
    },
    "refund": {"zh-CN": "误判撤销，退还扣除的积分", "en": "reverted: points refunded"},
    "reported": {
        "zh-CN": "成员举报（{count} 人）：{member} 在群「{group}」的消息「{text}」，请核实",
        "en": "Reported by {count} members: {member}'s message “{text}” in {group}; please check",
    },
    "reported_act": {
        "zh-CN": "被 {count} 名成员举报",
        "en": "reported by {count} members",
    },
    "reported_warn": {
        "zh-CN": "@{member} 你的消息被多名群友举报，已撤回。请遵守群规。",
        "en": "@{member} your message was reported by several members and removed.",
    },
    "newcomer_media": {
        "zh-CN": (
            "@{nickname} 新成员入群 {hours} 小时内暂不能发送链接、图片或文件，请先文字交流哦～"
        ),
        "en": "@{nickname} newcomers cannot post links, images or files in their first "
        "{hours} hours; please use text for now.",
    },
    "newcomer_media.reason": {
        "zh-CN": "新成员 {hours} 小时内发送了{kind}",
        "en": "a {kind} from a newcomer within {hours} hours",
    },
    "banned": {"zh-CN": "黑名单成员再次入群", "en": "a banned member joined again"},
    "suspicious": {
        "zh-CN": "可疑新成员 {member} 加入群「{group}」：{why}，请核实",
        "en": "Suspicious newcomer {member} joined {group}: {why}; please check",
    },
    "why.words": {"zh-CN": "敏感词「{value}」", "en": "listed word “{value}”"},
    "why.link": {"zh-CN": "外部链接 {value}", "en": "outside link {value}"},
    "why.phone": {"zh-CN": "手机号", "en": "a phone number"},
    "why.wechat": {"zh-CN": "微信号", "en": "a WeChat id"},
    "why.qq": {"zh-CN": "QQ 号", "en": "a QQ number"},
    "why.telegram": {"zh-CN": "Telegram 账号", "en": "a Telegram handle"},
    "why.qr": {"zh-CN": "二维码", "en": "a QR code"},
    "why.card": {"zh-CN": "卡片/小程序", "en": "a card or mini-program"},
    "why.mentions": {"zh-CN": "大量 @ 成员", "en": "mass mentions"},
    "why.flood": {"zh-CN": "刷屏", "en": "flooding"},
    "why.duplicate": {"zh-CN": "多群重复发送", "en": "the same text in several groups"},
    "why.similar": {"zh-CN": "与已标记的广告相似", "en": "similar to marked spam"},
    "why.nickname": {"zh-CN": "昵称含广告词", "en": "an ad word in the nickname"},
    "why.join_burst": {"zh-CN": "短时间加入多个群", "en": "joined many groups at once"},
    "why.bank_card": {"zh-CN": "银行卡号", "en": "a bank card number"},
    "why.classifier": {
        "zh-CN": "文本分类器判为广告（{value}）",
        "en": "the text classifier scored it as spam ({value})",
    },
    "moderation.no_violation": {
        "zh-CN": "没有违规记录「{violation}」",
        "en": "no violation {violation!r}",
    },
    "moderation.already_reverted": {
        "zh-CN": "违规记录 {violation} 已经撤销过了",
        "en": "violation {violation} was already reverted",
    },
    "moderation.bad_label": {
        "zh-CN": "标注只能是 spam 或 clean",
        "en": "label must be spam or clean",
    },
    "moderation.no_samples": {
        "zh-CN": "文件中没有样本（每行一条文本，或 标签<TAB>文本）",
        "en": "no samples in the file (one text a line, or label<TAB>text)",
    },
    "moderation.empty_sample": {
        "zh-CN": "样本需要文字",
        "en": "a sample needs text",
    },
    "moderation.not_banned": {
        "zh-CN": "{member} 不在黑名单上",
        "en": "{member} is not on the ban list",
    },
    "moderation.reports_too_many": {
        "zh-CN": "{reporter} 过去一小时已举报 {recent} 条消息，请 {retry_after} 秒后再试",
        "en": "{reporter} has reported {recent} messages in the last hour; wait {retry_after} s",
    },
    "moderation.no_category": {
        "zh-CN": "未知的词库分类「{category}」，可选：{categories}",
        "en": "unknown category {category!r}; use {categories}",
    },
    "moderation.no_words": {
        "zh-CN": "没有找到词（每行一个词，# 开头为注释）",
        "en": "no words found (one word per line; # starts a comment)",
    },
}


say = Texts(_TEXTS)


def why(detector: str, value: str | None, locale: str) -> str:
    key = f"why.{detector}"
    return say(key, locale, value=value or "") if key in say else detector
