"""Configuration sections of the engagement domain."""

from __future__ import annotations

from pydantic import Field, field_validator

from shequn.community.config import Section, register_section
from shequn.i18n import placeholders

WELCOME_VARIABLES = frozenset({"mentions", "nickname", "group", "rules"})


class WelcomeSection(Section):
    enabled: bool = True
    window_seconds: int = Field(
        default=30, ge=0, le=3600, description="One welcome per group per window."
    )
    template: str | None = Field(
        default=None,
        max_length=2000,
        description="Variables: {mentions} {nickname} {group} {rules}. Default per locale.",
    )

    @field_validator("template")
    @classmethod
    def _known_variables(cls, value: str | None) -> str | None:
        if value is not None:
            unknown = placeholders(value) - WELCOME_VARIABLES
            if unknown:
                raise ValueError(
                    f"unknown variables {sorted(unknown)}; use {sorted(WELCOME_VARIABLES)}"
                )
        return value


register_section("welcome", WelcomeSection)
