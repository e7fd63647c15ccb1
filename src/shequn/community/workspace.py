"""A workspace as the code sees it: its id and slug, its effective configuration, and the
configuration each of its groups works with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from shequn.community.blueprints import merge
from shequn.community.config import check_config
from shequn.config import WorkspaceConfig


@dataclass(frozen=True, slots=True)
class WorkspaceInfo:
    id: int
    slug: str
    config: WorkspaceConfig  # the effective configuration
    config_version: int
    document: dict[str, Any] = field(default_factory=dict)  # as the operator applied it
    _per_group: dict[tuple[str, str | None], WorkspaceConfig] = field(
        default_factory=dict, compare=False, repr=False
    )

    def group_config(self, group: str, blueprint: str | None = None) -> WorkspaceConfig:
        """The configuration a group works with: workspace, then its blueprint's settings,
        then its own overrides (validated when applied; merged once per group here)."""
        if not self.config.blueprints and not self.config.groups.overrides:
            return self.config  # the common case: one configuration for every group
        key = (group, blueprint)
        if key not in self._per_group:
            self._per_group[key] = self._merge_for(group, blueprint)
        return self._per_group[key]

    def _merge_for(self, group: str, blueprint: str | None) -> WorkspaceConfig:
        override = self.config.groups.overrides.get(group)
        name = (override.blueprint if override else None) or blueprint
        layers: list[dict[str, Any]] = []
        plan = self.config.blueprints.get(name) if name else None
        if plan is not None and plan.settings:
            layers.append(plan.settings)
        if override is not None and override.settings:
            layers.append(override.settings)
        if not layers:
            return self.config
        document = self.document
        for layer in layers:
            document = merge(document, layer)
        return check_config(document)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.config.workspace.timezone)  # cached by zoneinfo itself

    @property
    def locale(self) -> str:
        return str(self.config.workspace.locale)
