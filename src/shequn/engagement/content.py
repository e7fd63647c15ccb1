"""The content library 素材库: texts, images, links and mini-program cards with themes, and how
an item becomes the data of a `message.send` action."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from shequn.community.config import Section
from shequn.i18n import fill, placeholders

ContentKind = Literal["text", "image", "link", "miniprogram"]
Theme = Literal["festival", "new_product", "hot_topic", "fan_care", "general"]
CONTENT_VARIABLES = frozenset({"nickname", "group"})

_LABELS: dict[str, dict[str, str]] = {
    "image": {"zh-CN": "[图片]", "en": "[image]"},
    "link": {"zh-CN": "[链接]", "en": "[link]"},
    "miniprogram": {"zh-CN": "[小程序]", "en": "[mini-program]"},
}


class ContentItem(Section):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: ContentKind = "text"
    theme: Theme = Field(
        default="general",
        description="festival 节日, new_product 新品, hot_topic 热点, fan_care 宠粉",
    )
    text: str | None = Field(
        default=None, max_length=4000, description="Body or caption; {nickname} {group}."
    )
    title: str | None = Field(default=None, max_length=200)
    url: str | None = Field(default=None, max_length=2048, description="Image or link URL.")
    appid: str | None = Field(default=None, max_length=64, description="Mini-program app id.")
    path: str | None = Field(default=None, max_length=500, description="Mini-program page.")

    @model_validator(mode="after")
    def _complete(self) -> ContentItem:
        if self.kind == "text" and not self.text:
            raise ValueError("a text item needs text")
        if self.kind in ("image", "link") and not self.url:
            raise ValueError(f"a {self.kind} item needs url")
        if self.kind == "miniprogram" and not (self.appid and self.path):
            raise ValueError("a mini-program item needs appid and path")
        if self.text:
            unknown = placeholders(self.text) - CONTENT_VARIABLES
            if unknown:
                raise ValueError(
                    f"unknown variables {sorted(unknown)}; use {sorted(CONTENT_VARIABLES)}"
                )
        return self


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
