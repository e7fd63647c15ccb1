"""Shared pieces of the community robot's scheduled features: calendars and quiet hours in the
workspace's time zone, sections as a group sees them, once-only marks, and listings of a
workspace's live groups and their members for jobs that act on many at once."""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, Field, model_validator
from sqlalchemy import Connection, and_, select

from shequn.community.config import Section
from shequn.community.models import groups, memberships
from shequn.engagement.robot_models import robot_marks
from shequn.engine.books import Book, register_book
from shequn.engine.rules import Context
from shequn.platform.db import chunks, insert_ignore

S = TypeVar("S", bound=BaseModel)


def section(config: Any, name: str, cls: type[S]) -> S:
    """A configuration section, or its defaults when the configuration predates it."""
    found = getattr(config, name, None)
    return found if isinstance(found, cls) else cls()


def group_section(ctx: Context, group: str, blueprint: str | None, name: str, cls: type[S]) -> S:
    """A section as one group sees it: the workspace's, then its blueprint's settings, then
    the group's own (`groups.overrides.<group>.settings`), for sections that are group-scoped."""
    return section(ctx.workspace.group_config(group, blueprint), name, cls)


@lru_cache(maxsize=1024)
def fingerprint(*parts: Hashable) -> str:
    """A short stable digest of configuration values: a changed schedule gets a new job chain.

    Cached: rules ask for it on every event to name the slot they keep pending.
    """
    text = "|".join(str(p) for p in parts)
    return hashlib.blake2b(text.encode(), digest_size=4).hexdigest()


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


# --- Once-only marks --------------------------------------------------------------------------


@register_book
class MarksBook(Book):
    """Keys of things done once per workspace, loaded on first ask, written in bulk."""

    def __init__(self, conn: Connection, workspace_id: int) -> None:
        super().__init__(conn, workspace_id)
        self._known: dict[str, bool] = {}
        self._new: list[dict[str, Any]] = []

    def done(self, key: str) -> bool:
        if key not in self._known:
            t = robot_marks
            found = self.conn.execute(
                select(t.c.id).where(and_(t.c.workspace_id == self.workspace_id, t.c.key == key))
            ).first()
            self._known[key] = found is not None
        return self._known[key]

    def mark(self, key: str, at: datetime) -> bool:
        """Mark `key` done; False when it already was."""
        if self.done(key):
            return False
        self._known[key] = True
        self._new.append({"workspace_id": self.workspace_id, "key": key, "at": at})
        return True

    def flush(self) -> None:
        insert_ignore(self.conn, robot_marks, self._new)
        self._new = []


# --- Groups and members, for jobs that act on many ---------------------------------------------
# The community domain has no listing service yet; these read its tables after writing out
# what the transaction changed so far, so rows made earlier in the batch are included.


@dataclass(frozen=True, slots=True)
class GroupRow:
    channel: str
    group: str
    name: str
    status: str
    blueprint: str | None
    owner: str | None
    member_count: int
    created_at: datetime
    ends_at: datetime | None


@dataclass(frozen=True, slots=True)
class MemberRow:
    member: str
    nickname: str | None
    joined_at: datetime | None
    message_count: int
    last_spoke_at: datetime | None

    @property
    def name(self) -> str:
        return self.nickname or self.member


LIVE = ("active", "full")


def live_groups(ctx: Context, channel: str | None = None) -> list[GroupRow]:
    """The workspace's groups that are neither dismissed nor archived, in a stable order."""
    ctx.state.flush()
    t = groups
    stmt = (
        select(
            t.c.channel,
            t.c.ext_id,
            t.c.name,
            t.c.status,
            t.c.blueprint,
            t.c.owner,
            t.c.member_count,
            t.c.created_at,
            t.c.ends_at,
        )
        .where(t.c.workspace_id == ctx.workspace.id)
        .where(t.c.status.in_(LIVE))
        .order_by(t.c.channel, t.c.ext_id)
    )
    if channel is not None:
        stmt = stmt.where(t.c.channel == channel)
    return [GroupRow(*row) for row in ctx.state.conn.execute(stmt)]


def active_members(ctx: Context, channel: str, group: str) -> list[MemberRow]:
    """Members now in a group, in a stable order."""
    ctx.state.flush()
    t = memberships
    stmt = (
        select(t.c.member_ext, t.c.nickname, t.c.joined_at, t.c.message_count, t.c.last_spoke_at)
        .where(t.c.workspace_id == ctx.workspace.id)
        .where(t.c.channel == channel)
        .where(t.c.group_ext == group)
        .where(t.c.active.is_(True))
        .order_by(t.c.member_ext)
    )
    return [MemberRow(*row) for row in ctx.state.conn.execute(stmt)]


def members_of(
    ctx: Context, channel: str, group: str, wanted: Iterable[str]
) -> dict[str, MemberRow]:
    """Memberships of the given members in a group (present or not), keyed by member."""
    ctx.state.flush()
    t = memberships
    found: dict[str, MemberRow] = {}
    ids: Sequence[str] = sorted(set(wanted))
    for part in chunks(ids, 500):
        stmt = (
            select(
                t.c.member_ext, t.c.nickname, t.c.joined_at, t.c.message_count, t.c.last_spoke_at
            )
            .where(t.c.workspace_id == ctx.workspace.id)
            .where(t.c.channel == channel)
            .where(t.c.group_ext == group)
            .where(t.c.active.is_(True))
            .where(t.c.member_ext.in_(part))
        )
        for row in ctx.state.conn.execute(stmt):
            found[row[0]] = MemberRow(*row)
    return found


@dataclass(frozen=True, slots=True)
class Attendance:
    """Who ever came to a group and how much they said (for end-of-life reports)."""

    joined: int
    speakers: int
    messages: int
    engaged: int


def attendance(ctx: Context, channel: str, group: str, engaged_from: int) -> Attendance:
    ctx.state.flush()
    t = memberships
    rows = ctx.state.conn.execute(
        select(t.c.message_count).where(
            and_(
                t.c.workspace_id == ctx.workspace.id,
                t.c.channel == channel,
                t.c.group_ext == group,
            )
        )
    ).all()
    counts = [int(r[0]) for r in rows]
    return Attendance(
        joined=len(counts),
        speakers=sum(1 for n in counts if n > 0),
        messages=sum(counts),
        engaged=sum(1 for n in counts if n >= engaged_from),
    )


def is_exempt(ctx: Context, member: str, owner: str | None = None) -> bool:
    """Staff, helpers, bots, the whitelist and the group's owner: the robot never acts on them."""
    return member == owner or bool(ctx.config.roles.exempt(member))


def nickname(ctx: Context, channel: str, group: str, member: str) -> str:
    ms = ctx.state.membership(channel, group, member)
    return (ms.nickname if ms is not None and ms.nickname else None) or member


def mentions_text(names: Iterable[str]) -> str:
    return " ".join(f"@{n}" for n in names)


def next_daily(after: datetime, clock: time, tz: ZoneInfo) -> datetime:
    """The first time strictly after `after` the workspace's clock shows `clock`."""
    local_day = after.astimezone(tz).date()
    at = at_local(local_day, clock, tz)
    return at if at > after else at_local(local_day + timedelta(days=1), clock, tz)
