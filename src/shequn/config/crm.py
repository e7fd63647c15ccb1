"""Configuration of the CRM: auto-tag rules and whether phone numbers may leave unmasked."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from shequn.config.base import Section

TagName = Annotated[str, Field(min_length=1, max_length=64)]


class JoinedVia(Section):
    """Tag members whose first join came through these live-code states, codes or scenes."""

    kind: Literal["joined_via"]
    tag: TagName
    states: list[str] = Field(default_factory=list)
    codes: list[str] = Field(default_factory=list)
    scenes: list[Literal["qr", "invite", "link", "direct", "approval"]] = Field(
        default_factory=list
    )

    @model_validator(mode="after")
    def _something(self) -> JoinedVia:
        if not (self.states or self.codes or self.scenes):
            raise ValueError("name at least one state, code or scene")
        return self


class SpentAtLeast(Section):
    """Tag members whose paid orders, less refunds, reach an amount (removed if refunds take
    them below it again)."""

    kind: Literal["spent_at_least"]
    tag: TagName
    fen: int = Field(ge=1)


class CheckinStreak(Section):
    """Tag members who checked in this many days running (kept once earned)."""

    kind: Literal["checkin_streak"]
    tag: TagName
    days: int = Field(ge=1, le=3650)


AutoTag = Annotated[JoinedVia | SpentAtLeast | CheckinStreak, Field(discriminator="kind")]


class CrmSection(Section):
    auto_tags: list[AutoTag] = Field(default_factory=list)
    allow_phone_export: bool = Field(
        default=False, description="May exports show full phone numbers when asked?"
    )
