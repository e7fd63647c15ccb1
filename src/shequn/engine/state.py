"""The projections a batch works on: rows loaded once, changed in memory, written back in bulk."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, select

from shequn.community.models import groups, members, memberships
from shequn.platform.db import KEYS_PER_QUERY, chunks, fast_insert, fast_select, fast_update


@dataclass(slots=True)
class GroupState:
    channel: str
    ext_id: str
    name: str
    status: str
    capacity: int
    member_count: int
    created_at: datetime
    blueprint: str | None = None
    owner: str | None = None
    notice: str | None = None
    ends_at: datetime | None = None
    dismissed_at: datetime | None = None
    id: int | None = None


@dataclass(slots=True)
class MemberState:
    channel: str
    ext_id: str
    first_seen_at: datetime
    last_seen_at: datetime
    nickname: str | None = None
    first_joined_at: datetime | None = None
    first_group: str | None = None
    first_scene: str | None = None
    first_code: str | None = None
    first_state: str | None = None
    first_inviter: str | None = None
    groups_in: int = 0
    message_count: int = 0
    last_spoke_at: datetime | None = None
    blacklisted: bool = False
    orders: int = 0
    spent_fen: int = 0
    id: int | None = None


@dataclass(slots=True)
class MembershipState:
    channel: str
    group_ext: str
    member_ext: str
    active: bool = False
    nickname: str | None = None
    joined_at: datetime | None = None
    join_scene: str | None = None
    inviter: str | None = None
    code: str | None = None
    state: str | None = None
    joins: int = 0
    left_at: datetime | None = None
    left_reason: str | None = None
    left_by: str | None = None
    last_spoke_at: datetime | None = None
    message_count: int = 0
    id: int | None = None


_MUTABLE = ("list", "dict", "set", "Any")


def _columns(cls: type[Any]) -> list[str]:
    return [f.name for f in fields(cls) if f.name != "id"]


GroupKey = tuple[str, str]
MemberKey = tuple[str, str]
MembershipKey = tuple[str, str, str]


class Projection:
    """Rows of one table for one workspace, keyed by natural key, with dirty tracking."""

    def __init__(self, table: Table, cls: type[Any], key_cols: tuple[str, ...]) -> None:
        self.table = table
        self.cls = cls
        self.key_cols = key_cols
        self.cols = _columns(cls)
        # Rows are built positionally, the stored columns in field order and then the id;
        # `stored` keeps the values themselves, so no field may be changed in place.
        assert [f.name for f in fields(cls)] == [*self.cols, "id"]
        assert not any(kind in str(f.type) for f in fields(cls) for kind in _MUTABLE), cls
        self._key_at = [self.cols.index(c) for c in key_cols]
        self.rows: dict[tuple[str, ...], Any] = {}
        self.missing: set[tuple[str, ...]] = set()
        self.dirty: set[tuple[str, ...]] = set()
        # The values each stored row had when loaded or last written: an update writes only
        # the columns that differ (a message changes 3 of a member's 17 columns).
        self.stored: dict[tuple[str, ...], tuple[Any, ...]] = {}

    def load(self, conn: Connection, workspace_id: int, keys: Iterable[tuple[str, ...]]) -> None:
        wanted = [k for k in set(keys) if k not in self.rows and k not in self.missing]
        if not wanted:
            return
        t = self.table
        by_channel: dict[str, list[tuple[str, ...]]] = {}
        for key in wanted:
            by_channel.setdefault(key[0], []).append(key)
        names = [*self.cols, "id"]
        for channel, keys_ in by_channel.items():
            for part in chunks(sorted(keys_), KEYS_PER_QUERY):
                # The key's other columns as IN lists: a few more rows than asked, never fewer.
                among = {col: {k[i] for k in part} for i, col in enumerate(self.key_cols) if i}
                where = {"workspace_id": workspace_id, "channel": channel}
                for row in fast_select(conn, t, names, where, among):
                    stored = row[:-1]
                    key = tuple(stored[i] for i in self._key_at)
                    self.rows[key] = self.cls(*row)
                    self.stored[key] = stored
        self.missing.update(k for k in wanted if k not in self.rows)

    def get(self, key: tuple[str, ...]) -> Any:
        return self.rows.get(key)

    def fetch(self, conn: Connection, workspace_id: int, key: tuple[str, ...]) -> Any:
        """The row of a key, loading it on first use (rules ask for rows often: keep the
        common case, a row already at hand, to one dictionary lookup)."""
        found = self.rows.get(key)
        if found is None and key not in self.missing:
            self.load(conn, workspace_id, [key])
            found = self.rows.get(key)
        return found

    def add(self, key: tuple[str, ...], obj: Any) -> Any:
        self.rows[key] = obj
        self.missing.discard(key)
        self.dirty.add(key)
        return obj

    def touch(self, key: tuple[str, ...]) -> None:
        self.dirty.add(key)

    def flush(self, conn: Connection, workspace_id: int) -> None:
        if not self.dirty:
            return
        inserts: list[dict[str, Any]] = []
        # Updates write the columns that changed (a message changes 3 of a member's 17
        # columns), one executemany per set of changed columns that a good share of the rows
        # have; the other sets are written together over all their columns (a row writes
        # unchanged ones again), so the statements stay few however varied the batch.
        shapes: dict[tuple[int, ...], list[tuple[Any, tuple[Any, ...]]]] = {}
        cols = self.cols
        for key in self.dirty:
            obj = self.rows[key]
            now = tuple(getattr(obj, c) for c in cols)
            if obj.id is None:
                values = dict(zip(cols, now, strict=True))
                values["workspace_id"] = workspace_id
                inserts.append(values)
            else:
                before = self.stored.get(key)
                differs = tuple(i for i, v in enumerate(now) if before is None or v != before[i])
                if differs:
                    shapes.setdefault(differs, []).append((obj.id, now))
            self.stored[key] = now
        fast_insert(conn, self.table, inserts)
        rare: list[tuple[Any, tuple[Any, ...]]] = []
        rare_columns: set[int] = set()
        total = sum(len(updated) for updated in shapes.values())
        for shape, updated in shapes.items():
            if len(updated) * _SHARED_SHAPE < total:
                rare.extend(updated)
                rare_columns.update(shape)
            else:
                _update(conn, self.table, cols, shape, updated)
        if rare:
            _update(conn, self.table, cols, tuple(sorted(rare_columns)), rare)
        self.dirty.clear()
        new = [k for k, obj in self.rows.items() if obj.id is None]
        if new:
            self._learn_ids(conn, workspace_id, new)

    def _learn_ids(self, conn: Connection, workspace_id: int, keys: list[Any]) -> None:
        """Give freshly inserted rows their ids, so a later flush updates instead of inserting
        again (a flush can happen halfway through a transaction)."""
        t = self.table
        last = self.key_cols[-1]
        for part in chunks(sorted(keys), KEYS_PER_QUERY):
            cond = [t.c.workspace_id == workspace_id]
            for i, col in enumerate(self.key_cols):
                values = {k[i] for k in part}
                cond.append(
                    t.c[col].in_(values)
                    if col == last or len(values) > 1
                    else t.c[col] == next(iter(values))
                )
            cols = [t.c.id, *(t.c[c] for c in self.key_cols)]
            for row in conn.execute(select(*cols).where(and_(*cond))):
                obj = self.rows.get(tuple(row[1:]))
                if obj is not None and obj.id is None:
                    obj.id = row[0]


_SHARED_SHAPE = 4
"""A set of changed columns gets an UPDATE of its own when at least 1/4 of the changed rows
share it (a batch of messages: last seen, count, last spoke); the rest are written in one:
at most five statements per table, however many events."""


def _update(
    conn: Connection,
    table: Table,
    cols: list[str],
    shape: tuple[int, ...],
    updated: list[tuple[Any, tuple[Any, ...]]],
) -> None:
    rows = [{**{cols[i]: now[i] for i in shape}, "id": row_id} for row_id, now in updated]
    fast_update(conn, table, rows)


class BatchState:
    """Groups, members and memberships of one workspace touched by one transaction.

    Rows the batch names are loaded up front in a few queries; anything else a rule asks for
    is loaded on first use.
    """

    def __init__(self, conn: Connection, workspace_id: int) -> None:
        self.conn = conn
        self.workspace_id = workspace_id
        self.groups = Projection(groups, GroupState, ("channel", "ext_id"))
        self.members = Projection(members, MemberState, ("channel", "ext_id"))
        self.memberships = Projection(
            memberships, MembershipState, ("channel", "group_ext", "member_ext")
        )

    def load(
        self,
        group_keys: Iterable[GroupKey],
        member_keys: Iterable[MemberKey],
        membership_keys: Iterable[MembershipKey],
    ) -> None:
        self.groups.load(self.conn, self.workspace_id, group_keys)
        self.members.load(self.conn, self.workspace_id, member_keys)
        self.memberships.load(self.conn, self.workspace_id, membership_keys)

    def group(self, channel: str, ext_id: str) -> GroupState | None:
        found: GroupState | None = self.groups.fetch(
            self.conn, self.workspace_id, (channel, ext_id)
        )
        return found

    def member(self, channel: str, ext_id: str) -> MemberState | None:
        found: MemberState | None = self.members.fetch(
            self.conn, self.workspace_id, (channel, ext_id)
        )
        return found

    def membership(self, channel: str, group: str, member: str) -> MembershipState | None:
        found: MembershipState | None = self.memberships.fetch(
            self.conn, self.workspace_id, (channel, group, member)
        )
        return found

    def flush(self) -> None:
        self.groups.flush(self.conn, self.workspace_id)
        self.members.flush(self.conn, self.workspace_id)
        self.memberships.flush(self.conn, self.workspace_id)
