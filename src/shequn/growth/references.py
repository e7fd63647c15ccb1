"""What campaigns name must exist when an operator applies them: the coupon template of every
coupon reward, and the CRM segment a campaign targets. Registered with the configuration's
reference checks, so `shequn config apply` and `PUT …/config` refuse a dangling name with
its full path instead of failing later as a set-aside job."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection

from shequn.community.config import ConfigError, check_config
from shequn.community.workspace import WorkspaceInfo
from shequn.config.growth import Reward
from shequn.crm.service import find_segment


def _rewards(value: Any, path: str) -> Iterator[tuple[str, Reward]]:
    """(path, reward) of every reward inside a campaign, however deep it sits."""
    if isinstance(value, Reward):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _rewards(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _rewards(item, f"{path}.{i}")


def campaign_reference_errors(
    conn: Connection, ws: WorkspaceInfo, document: dict[str, Any], only: str | None = None
) -> list[ConfigError]:
    """Dangling coupon templates and segments of the document's campaigns (or of one)."""
    config = check_config(document)
    templates = config.coupons.templates
    errors: list[ConfigError] = []
    for key, spec in sorted(config.campaigns.items()):
        if only is not None and key != only:
            continue
        for path, reward in _rewards(spec, f"campaigns.{key}"):
            if reward.kind != "coupon":
                continue
            if reward.coupon is None:
                errors.append(ConfigError(f"{path}.coupon", "a coupon reward names a template"))
            elif reward.coupon not in templates:
                errors.append(
                    ConfigError(f"{path}.coupon", f"unknown coupon template {reward.coupon!r}")
                )
        if spec.segment is not None and find_segment(conn, ws, spec.segment) is None:
            errors.append(
                ConfigError(
                    f"campaigns.{key}.segment", f"no CRM segment {spec.segment!r} in this workspace"
                )
            )
    return errors


def check_campaign_references(
    conn: Connection, ws: WorkspaceInfo, document: dict[str, Any]
) -> list[ConfigError]:
    return campaign_reference_errors(conn, ws, document)
