"""Blueprints 社群定位: the plans groups are made from, and per-group configuration.

A group takes its settings from the workspace configuration, then from its blueprint's
`settings`, then from its own entry in `groups.overrides` — each layer overriding only the
sections it names. Only group-scoped sections can be overridden; the points economy, roles
and the workspace itself stay workspace-wide.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from shequn.community.config import Section, check_scoped, register_section


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


register_section("blueprints", dict[str, Blueprint], default_factory=dict)


def merge(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge a layer of section overrides into a configuration document."""
    out = dict(base)
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out
