"""Configuration sections of the engagement domain."""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import cached_property, lru_cache
from typing import Literal

from pydantic import Field, field_validator, model_validator

from shequn.community.config import Section, register_section
from shequn.i18n import placeholders

WELCOME_VARIABLES = frozenset({"mentions", "nickname", "group", "rules"})
CHECKIN_VARIABLES = frozenset({"nickname", "streak", "points", "balance", "day"})
LEVEL_VARIABLES = frozenset({"nickname", "level", "earned"})


def _check_template(value: str | None, allowed: frozenset[str]) -> str | None:
    if value is not None:
        unknown = placeholders(value) - allowed
        if unknown:
            raise ValueError(f"unknown variables {sorted(unknown)}; use {sorted(allowed)}")
    return value


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
        return _check_template(value, WELCOME_VARIABLES)


class PointsSection(Section):
    per_message: int = Field(default=1, ge=0, le=1000, description="Points per message.")
    message_daily_cap: int = Field(
        default=10, ge=0, le=100_000, description="Most message points per member per day."
    )
    allow_negative: bool = Field(
        default=False, description="May deductions take a balance below zero?"
    )


class Challenge(Section):
    """打卡挑战: check in `checkins` times within `within_days` days → a reward, once."""

    name: str = Field(min_length=1, max_length=100)
    checkins: int = Field(ge=1, le=366)
    within_days: int = Field(ge=1, le=366)
    reward_points: int = Field(default=0, ge=0, le=1_000_000)
    staff_task: str | None = Field(
        default=None, max_length=500, description="Also ask staff, e.g. 退还课程费用."
    )

    @model_validator(mode="after")
    def _possible(self) -> Challenge:
        if self.checkins > self.within_days:
            raise ValueError("cannot check in more often than once a day")
        return self


class CheckinSection(Section):
    enabled: bool = True
    challenges: list[Challenge] = Field(default_factory=list)
    keywords: list[str] = Field(
        default_factory=lambda: ["签到", "打卡"],
        min_length=1,
        description="A message that is, or begins with, one of these is a check-in.",
    )
    points: int = Field(default=10, ge=0, le=100_000)
    streak_bonus: dict[int, int] = Field(
        default_factory=lambda: {7: 20, 30: 100},
        description="Extra points on the day a streak reaches N days (and every N days).",
    )
    reply: bool = True
    reply_template: str | None = Field(
        default=None,
        max_length=2000,
        description="Variables: {nickname} {streak} {points} {balance} {day}.",
    )

    @field_validator("reply_template")
    @classmethod
    def _known_variables(cls, value: str | None) -> str | None:
        return _check_template(value, CHECKIN_VARIABLES)

    @cached_property
    def prefixes(self) -> tuple[str, ...]:
        return tuple(self.keywords)

    def is_checkin(self, text: str | None) -> bool:
        """Whether a message is, or begins with, a check-in keyword (asked of every
        message by several rules: one C-level startswith over all keywords)."""
        if not text:
            return False
        return text.strip().startswith(self.prefixes)

    @field_validator("streak_bonus")
    @classmethod
    def _positive(cls, value: dict[int, int]) -> dict[int, int]:
        if any(days < 1 or bonus < 0 for days, bonus in value.items()):
            raise ValueError("streak lengths must be ≥ 1 and bonuses ≥ 0")
        return value


class Level(Section):
    name: str = Field(min_length=1, max_length=50)
    min_points: int = Field(ge=0, description="Cumulative earned points to reach it.")


def _default_levels() -> list[Level]:
    return [
        Level(name="新人", min_points=0),
        Level(name="活跃", min_points=100),
        Level(name="核心", min_points=500),
        Level(name="KOL", min_points=2000),
    ]


class LevelsSection(Section):
    enabled: bool = True
    thresholds: list[Level] = Field(default_factory=_default_levels, min_length=1)
    announce: bool = Field(default=True, description="Post a message on a level-up.")
    template: str | None = Field(
        default=None, max_length=2000, description="Variables: {nickname} {level} {earned}."
    )

    @field_validator("template")
    @classmethod
    def _known_variables(cls, value: str | None) -> str | None:
        return _check_template(value, LEVEL_VARIABLES)

    @model_validator(mode="after")
    def _ordered(self) -> LevelsSection:
        mins = [lv.min_points for lv in self.thresholds]
        if mins[0] != 0 or mins != sorted(set(mins)):
            raise ValueError("thresholds must start at 0 and rise strictly")
        return self

    @cached_property
    def steps(self) -> tuple[tuple[int, ...], tuple[str, ...]]:
        """The thresholds' points and names, rising (validated to start at 0)."""
        return (
            tuple(level.min_points for level in self.thresholds),
            tuple(level.name for level in self.thresholds),
        )

    def level_for(self, earned: int) -> str:
        """The level of a member with these cumulative points (asked at every posting)."""
        points, names = self.steps
        return names[max(bisect_right(points, earned) - 1, 0)]


register_section("welcome", WelcomeSection)
register_section("points", PointsSection)
register_section("checkin", CheckinSection)
register_section("levels", LevelsSection)


class CleanupSection(Section):
    """Inactivity cleanup 清理僵尸粉: warn the silent, remove them after a grace period."""

    enabled: bool = True
    silent_days: int = Field(default=7, ge=1, le=365, description="Silent longer than this.")
    grace_days: int = Field(default=3, ge=1, le=90, description="From warning to removal.")
    newcomer_days: int = Field(
        default=3, ge=0, le=90, description="Newcomers are spared while this new."
    )
    run_at_hour: int = Field(default=4, ge=0, le=23, description="Daily run, local hour.")
    batch_size: int = Field(default=100, ge=1, le=10_000, description="Warnings per run.")
    spare_paying: bool = Field(default=True, description="Members who paid are spared.")


class KeywordReply(Section):
    match: Literal["exact", "contains", "regex"] = "contains"
    pattern: str = Field(min_length=1, max_length=500)
    reply: str = Field(min_length=1, max_length=4000)
    groups: list[str] = Field(default_factory=list, description="Only these groups (or all).")
    cooldown_seconds: int | None = Field(default=None, ge=0, le=86_400)

    @model_validator(mode="after")
    def _valid_regex(self) -> KeywordReply:
        if self.match == "regex":
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern is not a valid regular expression: {exc}") from exc
        return self

    def matches(self, text: str) -> bool:
        stripped = text.strip()
        if self.match == "exact":
            return stripped == self.pattern
        if self.match == "contains":
            return self.pattern in stripped
        return _compiled(self.pattern).search(stripped) is not None


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


class KeywordsSection(Section):
    """Keyword auto-replies 关键词回复, with a cooldown per keyword per group."""

    enabled: bool = True
    cooldown_seconds: int = Field(default=60, ge=0, le=86_400)
    replies: list[KeywordReply] = Field(default_factory=list)


class MilestonesSection(Section):
    """Group milestones 群满多少人发红包: an announcement when a group reaches a size."""

    enabled: bool = True
    counts: list[int] = Field(default_factory=lambda: [50, 100, 200, 300, 400, 500])
    template: str | None = Field(default=None, max_length=2000, description="Variable: {count}.")

    @field_validator("template")
    @classmethod
    def _known_variables(cls, value: str | None) -> str | None:
        return _check_template(value, frozenset({"count", "group"}))


class IntroSection(Section):
    """Nickname format and self-introduction reminders."""

    enabled: bool = Field(default=False, description="Off by default: the welcome asks once.")
    nickname_format: str | None = Field(
        default=None, max_length=100, description="Shown to members, e.g. 城市-姓名-职业."
    )
    nickname_pattern: str | None = Field(
        default=None, max_length=500, description="Regex a good nickname matches."
    )
    intro_keywords: list[str] = Field(default_factory=lambda: ["自我介绍", "我是", "大家好"])
    remind_after_hours: int = Field(default=24, ge=1, le=720)

    @field_validator("nickname_pattern")
    @classmethod
    def _valid_regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value


register_section("cleanup", CleanupSection)
register_section("keywords", KeywordsSection)
register_section("milestones", MilestonesSection)
register_section("intro", IntroSection)
