"""Auto-tag rules: tags the engine attaches from events, as configured in `crm.auto_tags`.

They decide no actions; the tags are ledger-like rows written by the `TagBook` in the batch's
transaction. Net spend and the check-in streak are kept per member in `crm_member_counters`
(the streak counted from check-in messages as the check-in rule counts them: once per local
day, keywords from `checkin.keywords`), so this domain reads no other domain's tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, delete

from shequn.actions import Decision
from shequn.config.crm import CheckinStreak, JoinedVia, SpentAtLeast
from shequn.crm.models import counters, member_tags
from shequn.engine.books import Book, register_book
from shequn.engine.rules import Context, rule
from shequn.engine.state import Projection
from shequn.events import (
    Event,
    MemberJoinedData,
    MessagePostedData,
    OrderPaidData,
    OrderRefundedData,
)
from shequn.platform.db import insert_ignore


@dataclass(slots=True)
class Counter:
    channel: str
    member_ext: str
    spent_fen: int = 0
    last_checkin_day: date | None = None
    checkin_streak: int = 0
    id: int | None = None


@register_book
class TagBook(Book):
    """Counters and tag changes of one engine transaction."""

    def __init__(self, conn: Connection, workspace_id: int) -> None:
        super().__init__(conn, workspace_id)
        self.counters = Projection(counters, Counter, ("channel", "member_ext"))
        # (channel, member, tag) -> the row to insert, or None to remove the rule's tag.
        self.changes: dict[tuple[str, str, str], dict[str, Any] | None] = {}

    def preload(self, events: Sequence[Event]) -> None:
        keys = {
            (ev.channel, ev.member)
            for ev in events
            if ev.member is not None
            and ev.type in ("order.paid", "order.refunded", "message.posted")
        }
        self.counters.load(self.conn, self.workspace_id, keys)

    def counter(self, channel: str, member: str) -> Counter:
        key = (channel, member)
        self.counters.load(self.conn, self.workspace_id, [key])
        found: Counter | None = self.counters.get(key)
        if found is None:
            found = self.counters.add(key, Counter(channel, member))
        else:
            self.counters.touch(key)
        return found

    def tag(
        self, channel: str, member: str, tag: str, source: str, at: datetime, cause: str
    ) -> None:
        self.changes[(channel, member, tag)] = {
            "workspace_id": self.workspace_id,
            "channel": channel,
            "member_ext": member,
            "tag": tag,
            "source": source,
            "caused_by": cause,
            "at": at,
        }

    def untag(self, channel: str, member: str, tag: str) -> None:
        self.changes[(channel, member, tag)] = None

    def flush(self) -> None:
        self.counters.flush(self.conn, self.workspace_id)
        removed = [key for key, row in self.changes.items() if row is None]
        mt = member_tags
        for channel, member, tag in removed:
            # Only the rule's own tag goes: the same tag attached by staff stays.
            self.conn.execute(
                delete(mt).where(
                    and_(
                        mt.c.workspace_id == self.workspace_id,
                        mt.c.channel == channel,
                        mt.c.member_ext == member,
                        mt.c.tag == tag,
                        mt.c.source.like("rule:%"),
                    )
                )
            )
        insert_ignore(self.conn, mt, [row for row in self.changes.values() if row is not None])
        self.changes = {}


def _source(kind: str) -> str:
    return f"rule:crm.{kind}"


@rule("crm", "tag_joined_via", on=["member.joined"])
def tag_joined_via(event: Event, ctx: Context) -> Iterable[Decision]:
    """'Came from channel X': the member's first join was through one of these codes."""
    specs = [s for s in ctx.config.crm.auto_tags if isinstance(s, JoinedVia)]
    if not specs:
        return ()
    assert isinstance(event.data, MemberJoinedData) and event.member is not None
    member = ctx.state.member(event.channel, event.member)
    if member is None or member.first_joined_at != event.at or member.first_group != event.group:
        return ()  # a later join never rewrites first touch
    data = event.data
    book = ctx.book(TagBook)
    for spec in specs:
        if (
            (data.state is not None and data.state in spec.states)
            or (data.code is not None and data.code in spec.codes)
            or data.scene in spec.scenes
        ):
            book.tag(event.channel, event.member, spec.tag, _source(spec.kind), event.at, event.id)
    return ()


@rule("crm", "tag_spent", on=["order.paid", "order.refunded"])
def tag_spent(event: Event, ctx: Context) -> Iterable[Decision]:
    """'Spent ≥ ¥N': paid orders less refunds; a refund below the line removes the tag."""
    specs = [s for s in ctx.config.crm.auto_tags if isinstance(s, SpentAtLeast)]
    assert event.member is not None
    book = ctx.book(TagBook)
    counter = book.counter(event.channel, event.member)
    if isinstance(event.data, OrderPaidData):
        counter.spent_fen += event.data.amount_fen
    elif isinstance(event.data, OrderRefundedData):
        counter.spent_fen -= event.data.amount_fen
    for spec in specs:
        if counter.spent_fen >= spec.fen:
            book.tag(event.channel, event.member, spec.tag, _source(spec.kind), event.at, event.id)
        else:
            book.untag(event.channel, event.member, spec.tag)
    return ()


@rule("crm", "tag_checkin_streak", on=["message.posted"])
def tag_checkin_streak(event: Event, ctx: Context) -> Iterable[Decision]:
    """'Checked in N days running': kept once earned."""
    checkin = ctx.config.checkin
    if not checkin.enabled:
        return ()
    assert isinstance(event.data, MessagePostedData) and event.member is not None
    if not checkin.is_checkin(event.data.text):
        return ()
    specs = [s for s in ctx.config.crm.auto_tags if isinstance(s, CheckinStreak)]
    book = ctx.book(TagBook)
    counter = book.counter(event.channel, event.member)
    day = ctx.local_date()
    if counter.last_checkin_day == day:
        return ()
    follows = counter.last_checkin_day is not None and (day - counter.last_checkin_day).days == 1
    counter.checkin_streak = counter.checkin_streak + 1 if follows else 1
    counter.last_checkin_day = day
    # Counted even with no streak rule yet, so a rule added later sees the true streak.
    for spec in specs:
        if counter.checkin_streak >= spec.days:
            book.tag(event.channel, event.member, spec.tag, _source(spec.kind), event.at, event.id)
    return ()
