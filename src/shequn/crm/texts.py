"""Texts people read in the CRM, zh-CN first and English."""

from __future__ import annotations

from shequn.i18n import Texts

_TEXTS: dict[str, dict[str, str]] = {
    "crm.choices_needed": {
        "zh-CN": "自定义字段「{key}」：选项字段需要给出选项",
        "en": "custom field {key!r}: a choice field needs choices",
    },
    "crm.no_field": {
        "zh-CN": "没有自定义字段「{key}」（请先定义）",
        "en": "no custom field {key!r} (define it first)",
    },
    "crm.bad_custom": {
        "zh-CN": "custom.{key}：值不符合字段类型（{reason}）",
        "en": "custom.{key}: {reason}",
    },
    "crm.no_member": {
        "zh-CN": "平台「{channel}」上没有成员「{member}」",
        "en": "no member {member!r} on channel {channel!r}",
    },
    "crm.bad_segment_name": {
        "zh-CN": "人群名称须为 1–64 个字符",
        "en": "a segment name has 1–64 characters",
    },
    "crm.no_segment": {"zh-CN": "没有人群「{name}」", "en": "no segment {name!r}"},
    "crm.phones_refused": {
        "zh-CN": "本工作区不允许导出完整手机号（管理员可设置 crm.allow_phone_export: true）",
        "en": "full phone numbers may not be exported in this workspace"
        " (an admin can set crm.allow_phone_export: true)",
    },
    "crm.import_rejected": {
        "zh-CN": "导入被拒绝，未存储任何数据（{count} 处问题）：{summary}",
        "en": "{summary}",
    },
}


say = Texts(_TEXTS)
