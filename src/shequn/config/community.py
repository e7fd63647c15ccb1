"""Sections of the community: the workspace itself, groups and their per-group overrides,
roles, and blueprints 社群定位 (the plans groups are made from).

A group takes its settings from the workspace configuration, then from its blueprint's
`settings`, then from its own entry in `groups.overrides` — each layer overriding only the
sections it names. Only group-scoped sections (`GROUP_SCOPED`) can be overridden; the points
economy, roles and the workspace itself stay workspace-wide.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from shequn.config.base import Section


class WorkspaceSection(Section):
    name: str | None = Field(default=None, description="Display name of the brand.")
    timezone: str = Field(default="Asia/Shanghai", description="Time zone for 'days'.")
    locale: Literal["zh-CN", "en"] = Field(default="zh-CN", description="Language of replies.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


GROUP_SCOPED = frozenset(
    {
        "welcome", "moderation", "checkin", "keywords", "milestones", "intro", "cleanup",
        "sop", "health", "elimination", "flash",
    }
)  # fmt: skip
"""Sections a blueprint or a single group may set differently from the workspace."""


def check_scoped(settings: dict[str, Any]) -> None:
    unknown = sorted(set(settings) - GROUP_SCOPED)
    if unknown:
        raise ValueError(f"sections {unknown} cannot differ per group; use {sorted(GROUP_SCOPED)}")


class GroupOverride(Section):
    blueprint: str | None = Field(default=None, description="The group's blueprint.")
    settings: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Section overrides for this group only."
    )

    @model_validator(mode="after")
    def _scoped(self) -> GroupOverride:
        check_scoped(self.settings)
        return self


class GroupsSection(Section):
    default_capacity: int = Field(default=500, ge=1, le=100_000)
    overrides: dict[str, GroupOverride] = Field(
        default_factory=dict, description="Per group id: its blueprint and section overrides."
    )


class RolesSection(Section):
    """Who is who across the workspace's groups (channel member ids). A group's owner is
    staff in that group without being listed."""

    staff: list[str] = Field(default_factory=list, description="Staff accounts 员工.")
    helpers: list[str] = Field(default_factory=list, description="Helpers / KOL 核心用户.")
    bots: list[str] = Field(default_factory=list, description="Bot accounts.")
    whitelist: list[str] = Field(
        default_factory=list, description="Members never punished or cleaned up."
    )

    @cached_property
    def exempt_ids(self) -> frozenset[str]:
        """Everyone exempt, as one set: asked for every message by several rules (a cached
        property reads as a plain attribute; pydantic's private attributes do not)."""
        return frozenset((SHEQUN_BOT, *self.staff, *self.helpers, *self.bots, *self.whitelist))

    def exempt(self, member: str) -> bool:
        """Staff, helpers, bots and the whitelist: robots never act against them."""
        return member in self.exempt_ids


SHEQUN_BOT = "shequn-bot"
"""The member id Shequn itself uses in sandbox groups."""


class GroupRules(Section):
    """群规 in four parts; the welcome shows them and members can ask for them (群规)."""

    theme: str = Field(default="", max_length=500, description="What the group is about.")
    services: str = Field(default="", max_length=1000, description="What members get.")
    prohibited: str = Field(default="", max_length=1000, description="Banned, and the penalty.")
    rewarded: str = Field(default="", max_length=1000, description="Rewarded, and the reward.")

    def text(self) -> str:
        parts = [
            ("主题", self.theme),
            ("服务", self.services),
            ("禁止", self.prohibited),
            ("奖励", self.rewarded),
        ]
        return "\n".join(f"【{name}】{value}" for name, value in parts if value)


class Threshold(Section):
    """进群门槛: who may stay in a group made from this blueprint.

    approval: staff or a helper approve each newcomer; task: the newcomer completes a task
    (shares a poster); paid: the newcomer has paid. Until then the newcomer is pending, and
    removed at the deadline.
    """

    kind: Literal["none", "paid", "approval", "task"] = "none"
    task: str | None = Field(default=None, max_length=200, description="e.g. 分享海报")
    deadline_hours: int = Field(default=24, ge=1, le=720, description="Time to qualify.")


class Value(Section):
    pains: list[str] = Field(default_factory=list, description="Pain points it solves.")
    services: list[str] = Field(default_factory=list, description="Services it gives.")
    duration: str | None = Field(default=None, max_length=100, description="For how long.")


class Fit(Section):
    """Community selling fits a business with any one of these."""

    high_margin: bool = False
    high_frequency: bool = False
    high_decision_cost: bool = False

    @property
    def fits(self) -> bool:
        return self.high_margin or self.high_frequency or self.high_decision_cost


class Blueprint(Section):
    type: Literal["product", "learning", "interest", "friends"] = "product"
    style: Literal["peer", "expert"] = Field(default="peer", description="分散式 or 金字塔式.")
    lifecycle: Literal["long_term", "flash"] = "long_term"
    role: Literal["member", "knowledge", "flash", "new_customer", "old_customer"] = "member"
    value: Value = Field(default_factory=Value)
    rules: GroupRules = Field(default_factory=GroupRules)
    threshold: Threshold = Field(default_factory=Threshold)
    monetization: Literal["membership", "products", "none"] = "products"
    persona: str | None = Field(default=None, max_length=500)
    fit: Fit = Field(default_factory=Fit)
    capacity: int | None = Field(default=None, ge=1, le=100_000)
    settings: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Section overrides for its groups."
    )

    @model_validator(mode="after")
    def _scoped(self) -> Blueprint:
        check_scoped(self.settings)
        return self
