"""Shared pieces of the community robot's scheduled features: once-only marks, listings of a
workspace's live groups and their members for jobs that act on many at once, and days in the
workspace's time zone (its calendars and quiet hours are configuration: `shequn.config`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, select

from shequn.community.models import groups, memberships
from shequn.config.engagement import at_local
from shequn.engagement.robot_models import robot_marks
from shequn.engine.books import Book, register_book
from shequn.engine.rules import Context
from shequn.platform.db import chunks, insert_ignore

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
