"""The points book: each member's standing (balance, level, streak) and the append-only
ledger and check-in log, kept for one engine transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select

from shequn.engagement.models import checkins, member_standing, points_ledger
from shequn.engine.books import Book, register_book
from shequn.engine.state import Projection
from shequn.events import Event
from shequn.platform.db import insert_ignore


@dataclass(slots=True)
class Standing:
    channel: str
    member_ext: str
    balance: int = 0
    earned: int = 0
    level: str = ""
    counter_day: date | None = None
    message_points_today: int = 0
    last_checkin_day: date | None = None
    streak: int = 0
    checkins: int = 0
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """What one ledger entry did to a member's standing."""

    delta: int
    balance: int
    old_level: str
    new_level: str

    @property
    def levelled_up(self) -> bool:
        return self.new_level != self.old_level


def spend_key(key: str) -> str:
    """The ledger key of a spend: the operation's own idempotency key, so it spends once."""
    return f"spend:{key}"


def affordable(balance: int, amount: int, allow_negative: bool) -> bool:
    """Whether a balance can pay `amount` (always, when the workspace lets it go negative)."""
    return balance >= amount or allow_negative


@register_book
class PointsBook(Book):
    def __init__(self, conn: Connection, workspace_id: int) -> None:
        super().__init__(conn, workspace_id)
        self.standings = Projection(member_standing, Standing, ("channel", "member_ext"))
        self.ledger: list[dict[str, Any]] = []
        self.checkin_rows: list[dict[str, Any]] = []
        self._keys: set[str] = set()

    def preload(self, events: Sequence[Event]) -> None:
        keys = {(ev.channel, ev.member) for ev in events if ev.member is not None}
        self.standings.load(self.conn, self.workspace_id, keys)

    def standing(self, channel: str, member: str, first_level: str) -> Standing:
        key = (channel, member)
        found: Standing | None = self.standings.fetch(self.conn, self.workspace_id, key)
        if found is None:
            found = self.standings.add(key, Standing(channel, member, level=first_level))
        return found

    def roll_day(self, standing: Standing, day: date) -> None:
        """Daily counters start again on a new local day."""
        if standing.counter_day != day:
            standing.counter_day = day
            standing.message_points_today = 0
            self.standings.touch((standing.channel, standing.member_ext))

    def post(
        self,
        standing: Standing,
        *,
        delta: int,
        kind: str,
        key: str,
        reason: str,
        rule: str,
        at: datetime,
        level_for: Any,
        caused_by: str | None = None,
        group: str | None = None,
        allow_negative: bool = False,
        earns: bool = True,
    ) -> Change | None:
        """Append one ledger entry (once per key) and update the standing.

        `earns=False` is for refunds and spending: the balance moves, the cumulative points
        that decide levels do not.
        """
        if key in self._keys:
            return None
        if delta < 0 and not allow_negative:
            delta = -min(-delta, max(standing.balance, 0))
        if delta == 0:
            return None
        self._keys.add(key)
        old_level = standing.level
        standing.balance += delta
        if delta > 0 and earns:
            standing.earned += delta
            standing.level = level_for(standing.earned)
        self.standings.touch((standing.channel, standing.member_ext))
        self.ledger.append(
            {
                "workspace_id": self.workspace_id,
                "key": key,
                "channel": standing.channel,
                "member_ext": standing.member_ext,
                "group_ext": group,
                "delta": delta,
                "balance": standing.balance,
                "kind": kind,
                "reason": reason,
                "rule": rule,
                "caused_by": caused_by,
                "at": at,
            }
        )
        return Change(delta, standing.balance, old_level, standing.level)

    def check_in(
        self, standing: Standing, day: date, group: str, at: datetime, points: int, caused_by: str
    ) -> None:
        standing.streak = (
            standing.streak + 1
            if standing.last_checkin_day is not None and (day - standing.last_checkin_day).days == 1
            else 1
        )
        standing.last_checkin_day = day
        standing.checkins += 1
        self.standings.touch((standing.channel, standing.member_ext))
        self.checkin_rows.append(
            {
                "workspace_id": self.workspace_id,
                "channel": standing.channel,
                "member_ext": standing.member_ext,
                "day": day,
                "group_ext": group,
                "at": at,
                "streak": standing.streak,
                "points": points,
                "caused_by": caused_by,
            }
        )

    def checkins_since(self, channel: str, member: str, since: date) -> int:
        """Check-ins of a member on or after a local day, this transaction's included."""
        t = checkins
        stored = self.conn.execute(
            select(func.count()).where(
                and_(
                    t.c.workspace_id == self.workspace_id,
                    t.c.channel == channel,
                    t.c.member_ext == member,
                    t.c.day >= since,
                )
            )
        ).scalar_one()
        pending = sum(
            1
            for r in self.checkin_rows
            if r["channel"] == channel and r["member_ext"] == member and r["day"] >= since
        )
        return int(stored) + pending

    def entry_delta(self, key: str) -> int | None:
        """The delta of a ledger entry, by its key: this transaction's or a stored one."""
        if key in self._keys:
            for row in reversed(self.ledger):
                if row["key"] == key:
                    return int(row["delta"])
        t = points_ledger
        found = self.conn.execute(
            select(t.c.delta).where(and_(t.c.workspace_id == self.workspace_id, t.c.key == key))
        ).scalar_one_or_none()
        return None if found is None else int(found)

    def flush(self) -> None:
        self.standings.flush(self.conn, self.workspace_id)
        insert_ignore(self.conn, points_ledger, self.ledger)
        insert_ignore(self.conn, checkins, self.checkin_rows)
        self.ledger, self.checkin_rows = [], []
