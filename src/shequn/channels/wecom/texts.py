"""Texts people read about the WeCom channel, zh-CN first and English."""

from __future__ import annotations

from shequn.i18n import Texts

_TEXTS: dict[str, dict[str, str]] = {
    "wecom.bad_signature": {
        "zh-CN": "企业微信回调签名不符",
        "en": "the WeCom callback's signature does not match",
    },
    "wecom.wrong_corp": {
        "zh-CN": "企业微信回调不属于本工作区连接的企业",
        "en": "the WeCom callback is not for the corp this workspace is connected to",
    },
    "wecom.bad_callback": {
        "zh-CN": "企业微信回调无法解析：{reason}",
        "en": "the WeCom callback cannot be read: {reason}",
    },
    "wecom.not_connected": {
        "zh-CN": "未找到该回调地址",
        "en": "no such callback URL",
    },
    "wecom.api_failed": {
        "zh-CN": "企业微信接口调用失败：{reason}",
        "en": "the WeCom API call failed: {reason}",
    },
    "wecom.bad_setting": {
        "zh-CN": "企业微信设置有误：{reason}",
        "en": "bad WeCom setting: {reason}",
    },
}

say = Texts(_TEXTS)
