"""Texts of the engagement robot's cleanup, keywords, milestones and reminders (zh-CN first)."""

from __future__ import annotations

from shequn.i18n import Texts

_TEXTS: dict[str, dict[str, str]] = {
    "cleanup.warn": {
        "zh-CN": "@{nickname} 好久没见你发言啦～{days} 天内不冒个泡的话，会被移出本群哦。",
        "en": "@{nickname} we have not heard from you in a while. Say hi within {days} days "
        "or you will be removed from this group.",
    },
    "cleanup.warn_reason": {
        "zh-CN": "超过 {days} 天未发言，先提醒",
        "en": "silent for more than {days} days: warning first",
    },
    "cleanup.remove_reason": {
        "zh-CN": "超过 {days} 天未发言，提醒后仍未发言，清理",
        "en": "silent for more than {days} days and after the warning: removed",
    },
    "milestone": {
        "zh-CN": "🎉 本群成员已达 {count} 人！群主发红包庆祝，感谢大家～",
        "en": "🎉 {count} members! A red packet to celebrate, thank you all!",
    },
    "milestone.reason": {"zh-CN": "群人数达到 {count}", "en": "group reached {count} members"},
    "keyword.reason": {"zh-CN": "关键词「{keyword}」自动回复", "en": "auto-reply to “{keyword}”"},
    "intro.remind": {
        "zh-CN": "@{nickname} 欢迎加入！请按「{format}」修改群昵称，并做个简单的自我介绍吧～",
        "en": "@{nickname} welcome! Please set your group nickname as “{format}” and "
        "introduce yourself.",
    },
    "intro.remind_intro_only": {
        "zh-CN": "@{nickname} 欢迎加入！来做个简单的自我介绍吧～",
        "en": "@{nickname} welcome! Please introduce yourself.",
    },
    "intro.reason": {
        "zh-CN": "入群 {hours} 小时未改昵称或自我介绍",
        "en": "no nickname or self-introduction {hours} hours after joining",
    },
    "engagement.bad_amount": {
        "zh-CN": "积分数量须为正数",
        "en": "amount must be a positive number of points",
    },
    "engagement.points_short": {
        "zh-CN": "{member} 只有 {balance} 积分，不足 {amount}",
        "en": "{member} has {balance} points, fewer than {amount}",
    },
}


say = Texts(_TEXTS)
