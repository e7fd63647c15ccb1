"""Configuration of moderation 群风控: detectors, the policy ladder, rollout modes, exemptions,
and the vocabulary of categories and actions that detectors and the policy share."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field, field_validator

from shequn.config.base import Section

Category = Literal["ads", "gambling", "porn", "politics", "abuse", "competitors", "spam"]
CATEGORIES: tuple[Category, ...] = get_args(Category)

Action = Literal["notify", "delete", "warn", "mute", "remove", "blacklist"]

Mode = Literal["dry_run", "soft", "enforce"]
# The names detectors give their findings.
DETECTORS = (
    "words", "link", "phone", "wechat", "qq", "telegram", "qr", "card", "mentions", "flood",
    "duplicate", "similar", "nickname", "join_burst", "bank_card", "classifier",
)  # fmt: skip


class FloodSection(Section):
    max_messages: int = Field(default=6, ge=2, le=1000)
    window_seconds: int = Field(default=10, ge=1, le=3600)


class DuplicatesSection(Section):
    groups: int = Field(default=3, ge=2, le=100, description="Same text in this many groups…")
    window_minutes: int = Field(default=10, ge=1, le=1440, description="…within this window.")


class LadderStep(Section):
    actions: list[Action] = Field(min_length=1)


def _default_ladder() -> list[LadderStep]:
    return [
        LadderStep(actions=["delete", "warn"]),
        LadderStep(actions=["delete", "remove"]),
    ]


class ReportsSection(Section):
    notify_at: int = Field(default=2, ge=1, le=100, description="Reports that alert staff.")
    act_at: int = Field(default=3, ge=1, le=100, description="Reports that delete and warn.")
    per_hour: int = Field(default=5, ge=1, le=1000, description="Reports one member may file.")


class ModerationSection(Section):
    enabled: bool = True
    mode: Mode = Field(default="enforce", description="dry_run logs only; soft tells staff.")
    modes: dict[str, Mode] = Field(
        default_factory=dict, description="Per-detector rollout mode, e.g. {link: dry_run}."
    )
    allowed_domains: list[str] = Field(
        default_factory=list, description="The workspace's own domains (and subdomains)."
    )
    words: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Extra words per category, added to the built-in lists.",
    )
    builtin_words: bool = Field(default=True, description="Use the built-in Chinese lists.")
    mention_threshold: int = Field(default=5, ge=2, le=500)
    flood: FloodSection = Field(default_factory=FloodSection)
    duplicates: DuplicatesSection = Field(default_factory=DuplicatesSection)
    similarity_threshold: float = Field(default=0.6, gt=0, le=1)
    classifier: bool = Field(
        default=True,
        description="Score every message with the text classifier (the starter model, "
        "retrained with the workspace's spam and clean samples).",
    )
    classifier_threshold: float = Field(
        default=0.95, gt=0, le=1, description="A score that punishes a member's message."
    )
    classifier_newcomer_threshold: float = Field(
        default=0.9, gt=0, le=1, description="A score that punishes a newcomer's message."
    )
    ladder: list[LadderStep] = Field(default_factory=_default_ladder, min_length=1)
    window_days: int = Field(
        default=30, ge=1, le=365, description="Offences count (and warnings live) this long."
    )
    points_penalty: int = Field(default=10, ge=0, le=100_000)
    approve_after: int = Field(
        default=0,
        ge=0,
        le=10_000,
        description="After this many messages a member is approved: only behavioural checks "
        "keep running. 0: content checks never stop.",
    )
    screen_joins: bool = Field(
        default=True, description="Flag suspicious newcomers (ad nicknames, join bursts)."
    )
    reports: ReportsSection = Field(default_factory=ReportsSection)
    newcomer_hours: int = Field(
        default=24, ge=0, le=720, description="Newcomers may not post links or media this long."
    )
    newcomer_blocked: list[str] = Field(
        default_factory=lambda: ["link", "card", "miniprogram", "image", "video", "file"],
        description="Message kinds held back from newcomers (0 hours: off).",
    )
    join_burst: int = Field(
        default=3, ge=2, le=100, description="Groups joined within 10 minutes to be flagged."
    )

    @field_validator("modes")
    @classmethod
    def _known_detectors(cls, value: dict[str, Mode]) -> dict[str, Mode]:
        unknown = sorted(set(value) - set(DETECTORS))
        if unknown:
            raise ValueError(f"unknown detectors {unknown}; use {list(DETECTORS)}")
        return value

    @field_validator("words")
    @classmethod
    def _known_categories(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(value) - set(CATEGORIES))
        if unknown:
            raise ValueError(f"unknown categories {unknown}; use {list(CATEGORIES)}")
        return value

    def mode_of(self, detector: str) -> Mode:
        return self.modes.get(detector, self.mode)
