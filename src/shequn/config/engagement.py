"""Configuration of engagement, the community robot: welcome, points, check-in, levels and
housekeeping (cleanup, keywords, milestones, intro), the content library and SOPs,
activities, group health, KOL discovery, elimination and flash groups — with the calendars and
quiet hours they share, in the workspace's time zone."""

from __future__ import annotations

import re
from bisect import bisect_right
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BeforeValidator, Field, field_validator, model_validator

from shequn.config.base import Section, fingerprint
from shequn.i18n import placeholders

SegmentRef = str | int
"""A CRM segment's name, or its id."""

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


# --- Local times, calendars and quiet hours --------------------------------------------------


def _local_time(value: Any) -> Any:
    # YAML 1.1 reads an unquoted 21:00 as the base-60 integer 1260 (minutes): take it back.
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return time(value // 60, value % 60)
    return value


LocalTime = Annotated[time, BeforeValidator(_local_time)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def at_local(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """The instant the workspace's clock shows `clock` on `day`, in UTC."""
    return datetime.combine(day, clock.replace(tzinfo=None), tzinfo=tz).astimezone(UTC)


class Calendar(Section):
    """Cron-like: days of the week at a local time, or specific dates at that time."""

    time: LocalTime = Field(description="Local time, e.g. '09:30' (quote it in YAML).")
    days: list[Weekday] = Field(
        default_factory=lambda: list(WEEKDAYS), min_length=1, description="Days of the week."
    )
    dates: list[date] = Field(
        default_factory=list, description="Specific dates instead of days of the week."
    )

    def timing(self) -> str:
        """A fingerprint of when it happens."""
        return fingerprint(self.time, tuple(self.days), tuple(self.dates))

    def next_after(self, after: datetime, tz: ZoneInfo) -> datetime | None:
        """The first occurrence strictly after `after` (UTC), or None when none is left."""
        if self.dates:
            for day in sorted(self.dates):
                at = at_local(day, self.time, tz)
                if at > after:
                    return at
            return None
        wanted = {WEEKDAYS.index(d) for d in self.days}
        start = after.astimezone(tz).date()
        for offset in range(8):
            day = start + timedelta(days=offset)
            if day.weekday() in wanted:
                at = at_local(day, self.time, tz)
                if at > after:
                    return at
        return None


class QuietHours(Section):
    """Nothing is posted from `start` to `end` (local); a send falling inside waits for `end`."""

    enabled: bool = True
    start: LocalTime = Field(default=time(22, 0))
    end: LocalTime = Field(default=time(8, 0))

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.enabled and self.start == self.end:
            raise ValueError("start and end must differ (or set enabled: false)")
        return self

    def shift(self, at: datetime, tz: ZoneInfo) -> datetime:
        if not self.enabled:
            return at
        local = at.astimezone(tz)
        clock = local.time().replace(tzinfo=None)
        day = local.date()
        if self.start < self.end:
            if self.start <= clock < self.end:
                return at_local(day, self.end, tz)
            return at
        if clock >= self.start:
            return at_local(day + timedelta(days=1), self.end, tz)
        if clock < self.end:
            return at_local(day, self.end, tz)
        return at


# --- The content library and SOPs ------------------------------------------------------------


ContentKind = Literal["text", "image", "link", "miniprogram"]
Theme = Literal["festival", "new_product", "hot_topic", "fan_care", "general"]
CONTENT_VARIABLES = frozenset({"nickname", "group"})


class ContentItem(Section):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: ContentKind = "text"
    theme: Theme = Field(
        default="general",
        description="festival 节日, new_product 新品, hot_topic 热点, fan_care 宠粉",
    )
    text: str | None = Field(
        default=None, max_length=4000, description="Body or caption; {nickname} {group}."
    )
    title: str | None = Field(default=None, max_length=200)
    url: str | None = Field(default=None, max_length=2048, description="Image or link URL.")
    appid: str | None = Field(default=None, max_length=64, description="Mini-program app id.")
    path: str | None = Field(default=None, max_length=500, description="Mini-program page.")

    @model_validator(mode="after")
    def _complete(self) -> ContentItem:
        if self.kind == "text" and not self.text:
            raise ValueError("a text item needs text")
        if self.kind in ("image", "link") and not self.url:
            raise ValueError(f"a {self.kind} item needs url")
        if self.kind == "miniprogram" and not (self.appid and self.path):
            raise ValueError("a mini-program item needs appid and path")
        if self.text:
            unknown = placeholders(self.text) - CONTENT_VARIABLES
            if unknown:
                raise ValueError(
                    f"unknown variables {sorted(unknown)}; use {sorted(CONTENT_VARIABLES)}"
                )
        return self


NAME = r"^[A-Za-z0-9_.-]+$"


class CalendarSchedule(Calendar):
    """Post library content on a calendar, to every live group or to the ones named."""

    name: str = Field(min_length=1, max_length=64, pattern=NAME)
    enabled: bool = True
    content: list[str] = Field(
        default_factory=list, description="Item ids, posted in turn, one per occurrence."
    )
    theme: Theme | None = Field(default=None, description="Or: the items of a theme, in turn.")
    groups: list[str] = Field(default_factory=list, description="Only these groups (or all).")
    blueprints: list[str] = Field(
        default_factory=list, description="Only groups made from these blueprints."
    )
    segment: SegmentRef | None = Field(
        default=None,
        description="A CRM segment (name or id): only groups where its members are, "
        "@mentioning them.",
    )

    @model_validator(mode="after")
    def _has_content(self) -> CalendarSchedule:
        if not self.content and self.theme is None:
            raise ValueError("name content items or a theme")
        return self


class JourneyStep(Section):
    day: int = Field(ge=0, le=365, description="Days after joining (0: the join day).")
    time: LocalTime | None = Field(
        default=None, description="Local time on that day; none: the time of the join."
    )
    delay_minutes: int = Field(default=0, ge=0, le=1440, description="Added when no time.")
    content: str = Field(min_length=1, max_length=64)


class Journey(Section):
    """Content for each newcomer along their first days, @mentioning them in the group."""

    name: str = Field(min_length=1, max_length=64, pattern=NAME)
    enabled: bool = True
    steps: list[JourneyStep] = Field(min_length=1)
    groups: list[str] = Field(default_factory=list)
    blueprints: list[str] = Field(default_factory=list)
    segment: SegmentRef | None = Field(
        default=None,
        description="A CRM segment (name or id): only newcomers in it when a step is due.",
    )


class SopSection(Section):
    enabled: bool = True
    library: list[ContentItem] = Field(default_factory=list, description="The content library.")
    quiet_hours: QuietHours = Field(
        default_factory=QuietHours, description="No posts inside; they wait for the end."
    )
    calendar: list[CalendarSchedule] = Field(default_factory=list)
    journeys: list[Journey] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> SopSection:
        ids = [item.id for item in self.library]
        if len(ids) != len(set(ids)):
            raise ValueError("library item ids must be unique")
        for kind, names in (
            ("calendar", [s.name for s in self.calendar]),
            ("journeys", [j.name for j in self.journeys]),
        ):
            if len(names) != len(set(names)):
                raise ValueError(f"{kind} names must be unique")
        known = set(ids)
        for s in self.calendar:
            missing = [c for c in s.content if c not in known]
            if missing:
                raise ValueError(f"calendar {s.name}: unknown content {missing}")
            if s.theme is not None and not self.themed(s.theme):
                raise ValueError(f"calendar {s.name}: no library item has theme {s.theme}")
        for j in self.journeys:
            missing = [st.content for st in j.steps if st.content not in known]
            if missing:
                raise ValueError(f"journey {j.name}: unknown content {missing}")
        return self

    def item(self, item_id: str) -> ContentItem | None:
        return next((i for i in self.library if i.id == item_id), None)

    def themed(self, theme: str) -> list[ContentItem]:
        return [i for i in self.library if i.theme == theme]

    def schedule(self, name: str) -> CalendarSchedule | None:
        return next((s for s in self.calendar if s.name == name), None)

    def journey(self, name: str) -> Journey | None:
        return next((j for j in self.journeys if j.name == name), None)


# --- Activities ------------------------------------------------------------------------------


ActivityType = Literal["lottery", "redpacket_rain", "qa", "show_order", "price_hunt"]
DEFAULT_KEYWORD: dict[str, str] = {
    "lottery": "抽奖",
    "redpacket_rain": "抢红包",
    "show_order": "晒单",
    "qa": "",
    "price_hunt": "",
}


class Activity(Section):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    type: ActivityType
    title: str | None = Field(default=None, max_length=100)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    groups: list[str] = Field(default_factory=list, description="Only these groups (or all).")
    keyword: str | None = Field(
        default=None, max_length=50, description="Entry keyword; default per type."
    )
    min_level: str | None = Field(default=None, description="A level name from `levels`.")
    min_points: int = Field(default=0, ge=0, description="Balance needed to enter.")
    winners: int = Field(
        default=3, ge=1, le=1000, description="Winners drawn, packets in the rain, right answers."
    )
    prize: str | None = Field(default=None, max_length=200, description="What a winner gets.")
    amount_fen: int = Field(
        default=0, ge=0, description="Cash per winner; for a red-packet rain, the whole pool."
    )
    points: int = Field(default=0, ge=0, le=1_000_000, description="Points per winner.")
    entry_points: int = Field(default=0, ge=0, le=100_000, description="Points per entry.")
    question: str | None = Field(default=None, max_length=1000)
    answers: list[str] = Field(default_factory=list, description="Accepted answers (Q&A).")
    product: str | None = Field(
        default=None, max_length=100, description="What a price hunt is about (比省钱)."
    )
    min_price_fen: int = Field(
        default=1, ge=1, description="Price hunt: lower prices are not believed (fen)."
    )
    max_price_fen: int | None = Field(
        default=None, ge=1, description="Price hunt: higher prices are not entries (fen)."
    )
    proof: bool = Field(
        default=False, description="Price hunt: an entry needs an image (order screenshot)."
    )
    segment: SegmentRef | None = Field(
        default=None, description="Only members of this CRM segment (name or id) may enter."
    )
    announce: bool = Field(default=True, description="Announce the start in the groups.")
    confirm: bool = Field(default=False, description="Reply to each entry (lottery, show).")

    @model_validator(mode="after")
    def _coherent(self) -> Activity:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.type == "qa" and not (self.question and self.answers):
            raise ValueError("a Q&A red packet needs question and answers")
        if self.type == "redpacket_rain" and self.amount_fen < self.winners:
            raise ValueError("a red-packet rain needs amount_fen ≥ winners (1 fen a packet)")
        if self.type == "price_hunt":
            if not self.product:
                raise ValueError("a price hunt needs product")
            if self.max_price_fen is None:
                raise ValueError("a price hunt needs max_price_fen (the highest believable price)")
            if self.min_price_fen > self.max_price_fen:
                raise ValueError("min_price_fen must not be above max_price_fen")
        elif self.proof or self.product or self.max_price_fen is not None:
            raise ValueError("product, max_price_fen and proof are for a price hunt")
        return self

    @property
    def entry_keyword(self) -> str:
        return self.keyword or DEFAULT_KEYWORD[self.type]

    @property
    def name(self) -> str:
        return self.title or self.id

    def timing(self) -> str:
        return fingerprint(self.starts_at, self.ends_at)


class ActivitiesSection(Section):
    enabled: bool = True
    items: list[Activity] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> ActivitiesSection:
        ids = [a.id for a in self.items]
        if len(ids) != len(set(ids)):
            raise ValueError("activity ids must be unique")
        return self

    def get(self, activity_id: str) -> Activity | None:
        return next((a for a in self.items if a.id == activity_id), None)


# --- Group health, KOL discovery, elimination, flash groups ----------------------------------


class HealthSection(Section):
    enabled: bool = True
    run_at: LocalTime = Field(
        default=time(0, 10), description="Local time the previous day is measured."
    )
    warn: bool = Field(default=True, description="A staff task when a group starts dying.")
    min_age_days: int = Field(
        default=7, ge=0, le=365, description="Younger groups get no warning (too little history)."
    )
    dead_speaker_share: float = Field(default=0.02, ge=0, le=1)
    growing_net_share: float = Field(default=0.05, ge=0, le=1)
    declining_message_ratio: float = Field(default=0.5, ge=0, le=1)


class KolWeights(Section):
    answers: float = Field(default=40, ge=0)
    received: float = Field(default=30, ge=0)
    consistency: float = Field(default=20, ge=0)
    tenure: float = Field(default=10, ge=0)


def _weekly_board() -> Calendar:
    return Calendar(time=time(10, 0), days=["mon"])


class KolSection(Section):
    enabled: bool = True
    schedule: Calendar = Field(default_factory=_weekly_board, description="When the board is made.")
    window_days: int = Field(default=30, ge=1, le=365, description="Days the score looks back.")
    tenure_days: int = Field(default=90, ge=1, le=3650, description="Tenure counted in full.")
    weights: KolWeights = Field(default_factory=KolWeights)
    board_size: int = Field(default=50, ge=1, le=10_000)
    suggest: bool = Field(default=True, description="Staff tasks suggesting new helpers.")
    suggest_top: int = Field(default=3, ge=0, le=100, description="Suggestions per run, at most.")
    suggest_min_score: float = Field(default=60, ge=0, le=1000)
    min_answers: int = Field(default=3, ge=0, description="Answers to others needed.")
    min_active_days: int = Field(default=3, ge=0, description="Active days needed.")


RevivalTask = Literal["poster", "order", "keyword"]


class RevivalSection(Section):
    enabled: bool = True
    window_hours: int = Field(default=72, ge=1, le=24 * 90, description="Time to come back.")
    task: RevivalTask = Field(default="poster", description="poster, order or keyword.")
    keyword: str = Field(default="复活", min_length=1, max_length=50)


def _weekly_period() -> Calendar:
    return Calendar(time=time(21, 0), days=["sun"])


class EliminationSection(Section):
    enabled: bool = Field(default=False, description="Off by default: it removes members.")
    schedule: Calendar = Field(default_factory=_weekly_period, description="When a period ends.")
    threshold: int = Field(default=20, ge=0, description="Points a member must earn a period.")
    metric: Literal["period_points", "balance"] = Field(
        default="period_points", description="Points earned in the period, or the balance."
    )
    grace_days: int = Field(default=7, ge=0, le=365, description="Newcomers are spared.")
    groups: list[str] = Field(default_factory=list, description="Only these groups (or all).")
    announce: bool = Field(default=True, description="Post the list in the group.")
    max_per_run: int = Field(default=200, ge=1, le=10_000, description="Per group and period.")
    revival: RevivalSection = Field(default_factory=RevivalSection)


INVITE_VARIABLES = frozenset({"mentions", "group", "target", "link"})


class FlashSection(Section):
    enabled: bool = True
    long_term_group: str | None = Field(
        default=None, description="Group id the engaged are invited to (same channel)."
    )
    invite_link: str | None = Field(
        default=None, max_length=2048, description="Link or live code to join it."
    )
    invite_before_minutes: int = Field(
        default=120, ge=0, le=7 * 24 * 60, description="Invite this long before the end."
    )
    min_messages: int = Field(default=3, ge=1, description="Messages that make a member engaged.")
    invite_template: str | None = Field(
        default=None, max_length=2000, description="Variables: {mentions} {group} {target} {link}."
    )
    end_action: Literal["archive", "dissolve"] = "archive"
    remove_members: bool = Field(
        default=False, description="On dissolve, also remove every member (where possible)."
    )
    farewell: bool = Field(default=True, description="Post a farewell message at the end.")

    @field_validator("invite_template")
    @classmethod
    def _known_variables(cls, value: str | None) -> str | None:
        if value is not None and placeholders(value) - INVITE_VARIABLES:
            raise ValueError(f"unknown variables; use {sorted(INVITE_VARIABLES)}")
        return value
