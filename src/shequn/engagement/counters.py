"""Activity counters kept on the hot path for group health and KOL scores: per group and local
day (messages, joins, leaves) and per member in a group and day (messages, answers to others,
replies and mentions received).

Every message passes through here, so the rule only updates dictionaries; the book writes
them once per transaction as additive upserts, which need no read of the stored rows. A reply
credits the author of the message it answers, so message authors are kept for a while too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, select

from shequn.actions import Decision
from shequn.config import WorkspaceConfig
from shequn.engagement.robot_models import group_day_counts, member_day_activity, message_authors
from shequn.engine.books import Book, register_book
from shequn.engine.rules import Context, rule
from shequn.events import Event, MessagePostedData
from shequn.platform.db import KEYS_PER_QUERY, chunks, db_datetime, fast_insert_tuples

GroupDay = tuple[str, str, date]  # channel, group, day
MemberDay = tuple[str, str, str, date]  # channel, group, member, day
MessageKey = tuple[str, str, str]  # channel, group, message id
REPLY_WINDOW = timedelta(days=14)
"""A reply to an older message credits nobody: authors are kept this long."""


def _upsert_add(
    conn: Connection,
    table: Table,
    keys: Sequence[str],
    adds: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n, in one executemany.

    The same statement runs on SQLite (≥ 3.24) and PostgreSQL.
    """
    if not rows:
        return
    sqlite = conn.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    names = ["workspace_id", *keys, *adds]
    columns = ", ".join(f'"{n}"' for n in names)
    target = ", ".join(f'"{n}"' for n in ["workspace_id", *keys])
    sets = ", ".join(f'"{a}" = "{table.name}"."{a}" + excluded."{a}"' for a in adds)
    sql = (
        f'INSERT INTO "{table.name}" ({columns}) VALUES ({", ".join([mark] * len(names))}) '
        f"ON CONFLICT ({target}) DO UPDATE SET {sets}"
    )
    if sqlite:
        # The driver path bypasses SQLAlchemy's type processing: dates go as ISO text.
        rows = [tuple(v.isoformat() if isinstance(v, date) else v for v in row) for row in rows]
    conn.exec_driver_sql(sql, list(rows))


@register_book
class CountersBook(Book):
    def __init__(self, conn: Connection, workspace_id: int) -> None:
        super().__init__(conn, workspace_id)
        self.group_days: dict[GroupDay, list[int]] = {}  # messages, joins, leaves
        self.member_days: dict[MemberDay, list[int]] = {}  # messages, answers, replies, mentions
        self._authors: dict[MessageKey, tuple[str, datetime]] = {}
        self._new_authors: list[tuple[MessageKey, str, datetime]] = []
        self._batch: Sequence[Event] = ()
        self._looked_up = False
        self.config: WorkspaceConfig | None = None
        self.health = self.kol = False

    def preload(self, events: Sequence[Event]) -> None:
        # Kept, not queried: most batches need no author from earlier batches at all.
        self._batch = events
        self._looked_up = False

    def group_day(self, key: GroupDay) -> list[int]:
        found = self.group_days.get(key)
        if found is None:
            found = self.group_days[key] = [0, 0, 0]
        return found

    def member_day(self, key: MemberDay) -> list[int]:
        found = self.member_days.get(key)
        if found is None:
            found = self.member_days[key] = [0, 0, 0, 0]
        return found

    def wrote(self, key: MessageKey, member: str, at: datetime) -> None:
        self._authors[key] = (member, at)
        self._new_authors.append((key, member, at))

    def author(self, key: MessageKey) -> tuple[str, datetime] | None:
        """Who wrote a message (and when), from this batch or an earlier one."""
        found = self._authors.get(key)
        if found is None and not self._looked_up:
            self._look_up_replied()
            found = self._authors.get(key)
        return found

    def _look_up_replied(self) -> None:
        """One query for every message this batch replies to that it did not write itself."""
        self._looked_up = True
        wanted: dict[str, set[str]] = {}
        for ev in self._batch:
            data = ev.data
            if not isinstance(data, MessagePostedData) or not data.reply_to or ev.group is None:
                continue
            if (ev.channel, ev.group, data.reply_to) not in self._authors:
                wanted.setdefault(ev.channel, set()).add(data.reply_to)
        t = message_authors
        for channel, ids in wanted.items():
            for part in chunks(sorted(ids), KEYS_PER_QUERY):
                stmt = select(t.c.group_ext, t.c.message_id, t.c.member_ext, t.c.at).where(
                    and_(
                        t.c.workspace_id == self.workspace_id,
                        t.c.channel == channel,
                        t.c.message_id.in_(part),
                    )
                )
                for group, message_id, member, at in self.conn.execute(stmt):
                    self._authors.setdefault((channel, group, message_id), (member, at))

    def prune_authors(self, before: datetime) -> None:
        self.flush()
        t = message_authors
        self.conn.execute(
            delete(t).where(and_(t.c.workspace_id == self.workspace_id, t.c.at < before))
        )

    def flush(self) -> None:
        ws = self.workspace_id
        _upsert_add(
            self.conn,
            group_day_counts,
            ("channel", "group_ext", "day"),
            ("messages", "joins", "leaves"),
            [(ws, *key, *counts) for key, counts in self.group_days.items()],
        )
        _upsert_add(
            self.conn,
            member_day_activity,
            ("channel", "group_ext", "member_ext", "day"),
            ("messages", "answers", "replies_received", "mentions_received"),
            [(ws, *key, *counts) for key, counts in self.member_days.items()],
        )
        stamp = db_datetime(self.conn)
        fast_insert_tuples(
            self.conn,
            message_authors,
            ("workspace_id", "channel", "group_ext", "message_id", "member_ext", "at"),
            [(ws, *key, member, stamp(at)) for key, member, at in self._new_authors],
            ignore_conflicts=True,
        )
        self.group_days, self.member_days, self._new_authors = {}, {}, []


@rule("engagement", "counters", on=["message.posted", "member.joined", "member.left"])
def count_activity(event: Event, ctx: Context) -> Iterable[Decision]:
    """Count the event for group health and KOL scores (no decisions)."""
    book = ctx.book(CountersBook)
    if book.config is not ctx.config:  # once per transaction: this runs on every message
        book.config = ctx.config
        book.health, book.kol = ctx.config.health.enabled, ctx.config.kol.enabled
    health, kol = book.health, book.kol
    if not (health or kol) or event.group is None:
        return ()
    day = ctx.local_date()
    channel, group = event.channel, event.group
    data = event.data
    if not isinstance(data, MessagePostedData):
        book.group_day((channel, group, day))[1 if event.type == "member.joined" else 2] += 1
        return ()
    member = event.member or ""
    book.group_day((channel, group, day))[0] += 1
    book.member_day((channel, group, member, day))[0] += 1
    if not kol:
        return ()
    book.wrote((channel, group, data.message_id), member, event.at)
    if data.reply_to:
        found = book.author((channel, group, data.reply_to))
        if found is not None and found[0] != member and event.at - found[1] <= REPLY_WINDOW:
            book.member_day((channel, group, member, day))[1] += 1
            book.member_day((channel, group, found[0], day))[2] += 1
    if data.mentions:
        for other in set(data.mentions):
            if other != member:
                book.member_day((channel, group, other, day))[3] += 1
    return ()
