"""Texts people read about channel connections, zh-CN first and English."""

from __future__ import annotations

from shequn.i18n import Texts

_TEXTS: dict[str, dict[str, str]] = {
    "channels.not_connected": {
        "zh-CN": "工作区未连接{channel}",
        "en": "the workspace is not connected to {channel}",
    },
    "channels.unknown_channel": {
        "zh-CN": "未知的聊天平台「{channel}」，可选：{choices}",
        "en": "unknown chat platform {channel!r}; choose from {choices}",
    },
    "channels.bad_secret_key": {
        "zh-CN": "密钥无法使用：{reason}",
        "en": "the secret key cannot be used: {reason}",
    },
}

say = Texts(_TEXTS)
