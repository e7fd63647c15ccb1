"""Workspace configuration: a schema assembled from the sections each domain registers.

The stored document is what the operator applied; the effective configuration is that
document over the defaults. Unknown keys are errors, so typos never pass silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from shequn.i18n import t
from shequn.platform.errors import Invalid

_SECTIONS: dict[str, tuple[Any, Any]] = {}
_root_model: type[BaseModel] | None = None


class Section(BaseModel):
    """Base of every configuration section: strict about unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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


def register_section(
    name: str, model: Any, default_factory: Callable[[], Any] | None = None
) -> None:
    """A domain adds its own section; call at import time of the domain's config module."""
    global _root_model
    _SECTIONS[name] = (model, default_factory or model)
    _root_model = None


register_section("workspace", WorkspaceSection)
register_section("groups", GroupsSection)
register_section("roles", RolesSection)


def config_model() -> type[BaseModel]:
    global _root_model
    if _root_model is None:
        fields: dict[str, Any] = {
            name: (model, Field(default_factory=factory))
            for name, (model, factory) in _SECTIONS.items()
        }
        _root_model = create_model(
            "WorkspaceConfig",
            __config__=ConfigDict(extra="forbid", frozen=True),
            **fields,
        )
    return _root_model


@dataclass(frozen=True, slots=True)
class ConfigError:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ConfigRejected(Invalid):
    """The document has errors (each by path) and nothing was stored."""

    title: ClassVar[dict[str, str]] = {"zh-CN": "配置未通过校验", "en": "Configuration rejected"}

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        listed = "; ".join(str(e) for e in errors)
        super().__init__(t, "community.config_rejected", count=len(errors), errors=listed)

    def extra(self) -> dict[str, Any]:
        return {"errors": [{"path": e.path, "message": e.message} for e in self.errors]}


def check_config(document: Any) -> Any:
    """Validate an operator's document; raise ConfigRejected listing every error by path."""
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ConfigRejected([ConfigError("(root)", "expected a mapping of sections")])
    try:
        return config_model().model_validate(document)
    except ValidationError as exc:
        errors = [
            ConfigError(".".join(str(p) for p in err["loc"]) or "(root)", err["msg"])
            for err in exc.errors(include_url=False)
        ]
        raise ConfigRejected(errors) from None


def effective_config(document: dict[str, Any]) -> Any:
    """The effective configuration of a stored document (already validated when applied)."""
    return check_config(document)
