"""The content library 素材库: texts, images, links and mini-program cards with themes, and how
an item becomes the data of a `message.send` action."""

from __future__ import annotations

from typing import Any

from shequn.config.engagement import CONTENT_VARIABLES, ContentItem
from shequn.i18n import fill

_LABELS: dict[str, dict[str, str]] = {
    "image": {"zh-CN": "[图片]", "en": "[image]"},
    "link": {"zh-CN": "[链接]", "en": "[link]"},
    "miniprogram": {"zh-CN": "[小程序]", "en": "[mini-program]"},
}


def render(item: ContentItem, locale: str, **values: Any) -> dict[str, Any]:
    """The action data for posting an item.

    `text` is always a complete human-readable rendering (with the link, image or card named),
    because a channel that cannot post turns it into a staff task that quotes it.
    """
    body = fill(item.text, CONTENT_VARIABLES, **values) if item.text else ""
    data: dict[str, Any] = {"content": item.id, "content_kind": item.kind, "theme": item.theme}
    if item.kind == "text":
        data["text"] = body
        return data
    label = _LABELS[item.kind].get(locale, _LABELS[item.kind]["zh-CN"])
    if item.kind == "miniprogram":
        data["miniprogram"] = {"appid": item.appid, "path": item.path, "title": item.title}
        ref = f"{item.title or ''} {item.appid}:{item.path}".strip()
    else:
        data["url"] = item.url
        ref = f"{item.title} {item.url}" if item.title else str(item.url)
    if item.title:
        data["title"] = item.title
    data["text"] = " ".join(x for x in (body, f"{label} {ref}") if x)
    return data
