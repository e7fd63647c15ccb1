"""Texts people read in analytics' errors, zh-CN first and English."""

from __future__ import annotations

from shequn.i18n import Texts

_TEXTS: dict[str, dict[str, str]] = {
    "analytics.unknown_report": {
        "zh-CN": "没有报表「{name}」，可选：{reports}",
        "en": "unknown report {name!r}; choose from {reports}",
    },
    "analytics.bad_date": {
        "zh-CN": "{what}：不是日期（YYYY-MM-DD）：{value}",
        "en": "{what}: not a date (YYYY-MM-DD): {value!r}",
    },
    "analytics.backwards": {
        "zh-CN": "时间范围的结束（{last}）早于开始（{first}）",
        "en": "the range ends ({last}) before it starts ({first})",
    },
    "analytics.too_long": {
        "zh-CN": "时间范围最长十年",
        "en": "a range may span at most ten years",
    },
}


say = Texts(_TEXTS)
