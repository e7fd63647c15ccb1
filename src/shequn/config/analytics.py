"""Configuration of analytics: funnel windows, attribution of acquisition sources 来源渠道 and
campaigns, source costs, and the thresholds behind group stages, Orbit levels and the KOL
score."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field, model_validator

from shequn.config.base import Section

Key = str


class SourceCost(Section):
    """A fixed spend on a source over some days (an ad budget, a booth); prorated by day."""

    since: date
    until: date = Field(description="Last day, inclusive.")
    cost_fen: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> SourceCost:
        if self.until < self.since:
            raise ValueError("until must not be before since")
        return self


class SourceSpec(Section):
    """An acquisition source 来源渠道 (a store QR, an ads campaign, a KOL): which live-code
    states or codes mean it (besides the live codes made with it as their `source`), and what
    it costs. The one place source costs live."""

    name: str = Field(min_length=1, max_length=64, description="Its key (`source set KEY`).")
    label: str | None = Field(default=None, max_length=100)
    kind: str | None = Field(default=None, max_length=32, description="poster, store, ads …")
    states: list[str] = Field(default_factory=list)
    codes: list[str] = Field(default_factory=list)
    cost_fen: int = Field(default=0, ge=0, description="A lump sum, undated: counted whole.")
    cost_per_member_fen: int = Field(default=0, ge=0, description="Cost of each member it brings.")
    costs: list[SourceCost] = Field(default_factory=list)


class CampaignSpec(Section):
    name: str = Field(min_length=1, max_length=64)
    states: list[str] = Field(default_factory=list)
    codes: list[str] = Field(default_factory=list)


class HealthThresholds(Section):
    """A group's stage over the trailing 7 days (shares are of the members at the day's end)."""

    dead_speaker_share: float = Field(
        default=0.02, ge=0, le=1, description="Dead below this share of members speaking."
    )
    growing_net_share: float = Field(
        default=0.05, ge=0, le=1, description="Growing when net joins reach this share."
    )
    declining_message_ratio: float = Field(
        default=0.5, ge=0, le=1, description="Declining when messages fall below this ratio."
    )


class OrbitSettings(Section):
    """Orbit-style levels by monthly 'love' (weighted activity); gravity is love × reach."""

    message: int = Field(default=1, ge=0)
    order: int = Field(default=5, ge=0)
    invite: int = Field(default=10, ge=0)
    poster: int = Field(default=3, ge=0)
    orbit1: int = Field(default=100, ge=1, description="Love for Orbit 1 (ambassadors).")
    orbit2: int = Field(default=30, ge=1, description="Love for Orbit 2 (fans).")
    orbit3: int = Field(default=5, ge=1, description="Love for Orbit 3 (participants).")

    @model_validator(mode="after")
    def _descending(self) -> OrbitSettings:
        if not self.orbit1 > self.orbit2 > self.orbit3:
            raise ValueError("orbit1 > orbit2 > orbit3 is required")
        return self


class KolWeights(Section):
    answers: float = Field(default=40, ge=0)
    received: float = Field(default=30, ge=0)
    consistency: float = Field(default=20, ge=0)
    tenure: float = Field(default=10, ge=0)
    tenure_days: int = Field(default=90, ge=1, description="Tenure counts in full after this.")


class AnalyticsSection(Section):
    activation_days: int = Field(
        default=7, ge=1, le=365, description="Activated: first message within this many days."
    )
    retained_after_days: int = Field(
        default=7, ge=1, le=365, description="Retained: active again this many days after join."
    )
    conversion_window_days: int = Field(
        default=30, ge=1, le=730, description="Every funnel step must happen within this window."
    )
    invite_hold_hours: int = Field(
        default=24, ge=0, le=24 * 90, description="A valid invitee stays at least this long."
    )
    sources: list[SourceSpec] = Field(default_factory=list)
    campaigns: list[CampaignSpec] = Field(default_factory=list)
    health: HealthThresholds = Field(default_factory=HealthThresholds)
    orbit: OrbitSettings = Field(default_factory=OrbitSettings)
    kol: KolWeights = Field(default_factory=KolWeights)
    new_member_days: int = Field(default=30, ge=1, description="'New and active': joined within.")
    new_active_days: int = Field(
        default=2, ge=1, description="'New and active': active on at least this many days."
    )

    def code_source(self, code: str | None, state: str | None, source: str | None) -> str | None:
        """The source a live code (or a join through it) counts for — the one rule of first
        touch, `source list` and the campaign review: the source whose `states` hold the
        state, else the source whose `codes` list the code, else the source the code was made
        for (`--source`) when that source is configured. None when no source claims it."""
        if state is not None:
            for c in self.sources:
                if state in c.states:
                    return c.name
        if code is not None:
            for c in self.sources:
                if code in c.codes:
                    return c.name
        return source if any(c.name == source for c in self.sources) else None

    @model_validator(mode="before")
    @classmethod
    def _renamed_keys(cls, data: Any) -> Any:
        # A document written before the rename (`channels`) still reads (see RENAMED_KEYS).
        if isinstance(data, dict) and "channels" in data:
            if "sources" in data:
                raise ValueError("`channels` is the old name of `sources`: keep only `sources`")
            data = {("sources" if k == "channels" else k): v for k, v in data.items()}
        return data

    @model_validator(mode="after")
    def _unique_names(self) -> AnalyticsSection:
        for kind, names in (
            ("source", [c.name for c in self.sources]),
            ("campaign", [c.name for c in self.campaigns]),
        ):
            if len(names) != len(set(names)):
                raise ValueError(f"{kind} names must be unique")
        return self
