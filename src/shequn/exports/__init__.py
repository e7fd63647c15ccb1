"""Exports: each kind is a stable-ordered row query; writers turn rows into jsonl, csv or xlsx.

Rows name groups and members by the channel's own ids (`group`, `member`). Later domains add
their kinds with `register_export` (the CRM adds `members`: one member list, profiles
included). csv and xlsx are written for spreadsheets by `exports.sheets`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import IO, Any

import orjson
from sqlalchemy import Connection, select

from shequn.community.models import groups, members, memberships
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.models import actions, events
from shequn.engine.outbox import public_action
from shequn.exports.sheets import sheet_columns, write_csv, write_xlsx
from shequn.i18n import t
from shequn.platform import domain
from shequn.platform.errors import BadRequest, NotFound

Rows = Callable[[Connection, WorkspaceInfo], Iterator[dict[str, Any]]]
# The keys of an object column and their headers, e.g. a workspace's custom profile fields.
Keys = Callable[[Connection, WorkspaceInfo], Sequence[tuple[str, str]]]
FORMATS = ("jsonl", "csv", "xlsx")
HEADERS = ("labels", "ids")


@dataclass(frozen=True, slots=True)
class ExportKind:
    name: str
    columns: tuple[str, ...]
    rows: Rows
    # The same rows with full phone numbers; it refuses when the workspace does not allow it.
    revealed: Rows | None = None
    # Object columns spread into one spreadsheet column per key (`custom.vip`).
    spread: Mapping[str, Keys] = field(default_factory=dict)


EXPORTS: dict[str, ExportKind] = {}


def register_export(
    name: str,
    columns: tuple[str, ...],
    *,
    revealed: Rows | None = None,
    spread: Mapping[str, Keys] | None = None,
) -> Callable[[Rows], Rows]:
    def register(fn: Rows) -> Rows:
        EXPORTS[name] = ExportKind(name, columns, fn, revealed, dict(spread or {}))
        return fn

    return register


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def stream(conn: Connection, stmt: Any) -> Iterator[Any]:
    """Rows of `stmt` fetched in chunks (a server-side cursor on PostgreSQL). The cursor is
    closed when the rows end or when the reader stops early and closes the iterator."""
    result = conn.execution_options(yield_per=2000).execute(stmt)
    try:
        yield from result.mappings()
    finally:
        result.close()


def page(
    rows: Iterator[dict[str, Any]],
    offset: int,
    limit: int,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> list[dict[str, Any]]:
    """Rows `offset` to `offset + limit` of an export (those `keep` accepts), closing the rest
    unread: an export's cursor must not outlive the request's connection."""
    wanted = rows if keep is None else filter(keep, rows)
    # islice takes at most sys.maxsize: beyond it there are no rows anyway.
    start = min(offset, sys.maxsize)
    try:
        return list(islice(wanted, start, min(start + limit, sys.maxsize)))
    finally:
        close = getattr(rows, "close", None)  # export functions are generators
        if close is not None:
            close()


@register_export("events", ("id", "type", "channel", "group", "member", "at", "data"))
def _events(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    t = events
    stmt = select(t).where(t.c.workspace_id == ws.id).order_by(t.c.seq)
    for r in stream(conn, stmt):
        yield {
            "id": r["ext_id"],
            "type": r["type"],
            "channel": r["channel"],
            "group": r["group_ext"],
            "member": r["member_ext"],
            "at": iso(r["at"]),
            "data": r["data"],
        }


@register_export(
    "actions",
    (
        "id",
        "kind",
        "channel",
        "group",
        "member",
        "data",
        "rule",
        "reason",
        "caused_by",
        "status",
        "decided_at",
        "attempts",
    ),
)
def _actions(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    t = actions
    stmt = (
        select(t)
        .where(t.c.workspace_id == ws.id)
        .order_by(t.c.decided_at, t.c.caused_by, t.c.ordinal, t.c.idempotency_key)
    )
    for r in stream(conn, stmt):
        yield public_action(r)


# What the groups saw of a member (the member table's columns, as stored).
SEEN_MEMBER_COLUMNS = (
    "nickname",
    "first_seen_at",
    "last_seen_at",
    "first_joined_at",
    "first_group",
    "first_scene",
    "first_code",
    "first_state",
    "first_inviter",
    "groups_in",
    "message_count",
    "last_spoke_at",
    "blacklisted",
    "orders",
    "spent_fen",
)


def seen_members(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    """The members the groups have seen (`GET …/members`). The member export is the CRM's
    `members`: these and the members known only by a profile, with profiles and tags."""
    t = members
    stmt = select(t).where(t.c.workspace_id == ws.id).order_by(t.c.channel, t.c.ext_id)
    for r in stream(conn, stmt):
        row = {"channel": r["channel"], "member": r["ext_id"]}
        row.update({c: plain(r[c]) for c in SEEN_MEMBER_COLUMNS})
        yield row


_MEMBERSHIP_COLS = (
    "nickname",
    "active",
    "joined_at",
    "join_scene",
    "inviter",
    "code",
    "state",
    "joins",
    "left_at",
    "left_reason",
    "left_by",
    "last_spoke_at",
    "message_count",
)


@register_export("memberships", ("channel", "group", "member", *_MEMBERSHIP_COLS))
def _memberships(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    t = memberships
    stmt = (
        select(t)
        .where(t.c.workspace_id == ws.id)
        .order_by(t.c.channel, t.c.group_ext, t.c.member_ext)
    )
    for r in stream(conn, stmt):
        row = {"channel": r["channel"], "group": r["group_ext"], "member": r["member_ext"]}
        row.update({c: plain(r[c]) for c in _MEMBERSHIP_COLS})
        yield row


_GROUP_COLS = (
    "name",
    "status",
    "capacity",
    "member_count",
    "blueprint",
    "owner",
    "notice",
    "ends_at",
    "created_at",
    "dismissed_at",
)


@register_export("groups", ("channel", "group", *_GROUP_COLS))
def _groups(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    t = groups
    stmt = select(t).where(t.c.workspace_id == ws.id).order_by(t.c.channel, t.c.ext_id)
    for r in stream(conn, stmt):
        row = {"channel": r["channel"], "group": r["ext_id"]}
        row.update({c: plain(r[c]) for c in _GROUP_COLS})
        yield row


def plain(value: Any) -> Any:
    """A stored value as a row carries it: datetimes as ISO 8601 text."""
    if isinstance(value, datetime):
        return iso(value)
    return value


def load_export_modules() -> None:
    """Import the installed domains' exports modules (`Domain.exports`): they register their
    kinds."""
    domain.load("exports")


def check_export(kind: str, fmt: str, header: str = "labels") -> ExportKind:
    load_export_modules()
    if kind not in EXPORTS:
        raise NotFound(t, "exports.unknown_kind", kind=kind, kinds=", ".join(sorted(EXPORTS)))
    if fmt not in FORMATS:
        raise BadRequest(t, "exports.unknown_format", format=fmt, formats=", ".join(FORMATS))
    if header not in HEADERS:
        raise BadRequest(t, "exports.unknown_header", header=header, headers=", ".join(HEADERS))
    return EXPORTS[kind]


def write_export(
    conn: Connection,
    ws: WorkspaceInfo,
    kind: str,
    fmt: str,
    out: IO[bytes],
    *,
    header: str = "labels",
    reveal_phones: bool = False,
) -> int:
    """Write an export to a binary stream; returns the number of rows.

    jsonl is for programs: column ids, times in UTC ISO 8601, lists and objects as JSON.
    csv and xlsx are for spreadsheets: headers in the workspace's language (`header="ids"`
    keeps the ids), times in the workspace's zone, lists joined, fixed-shape objects spread
    into columns (`ExportKind.spread`).
    """
    export = check_export(kind, fmt, header)
    if reveal_phones:
        if export.revealed is None:
            raise BadRequest(t, "exports.no_phones", kind=kind)
        rows = export.revealed(conn, ws)
    else:
        rows = export.rows(conn, ws)
    if fmt == "jsonl":
        count = 0
        for row in rows:
            out.write(orjson.dumps(row) + b"\n")
            count += 1
        return count
    columns = sheet_columns(conn, ws, export, header)
    if fmt == "csv":
        return write_csv(rows, columns, ws.tz, out)
    return write_xlsx(rows, columns, ws.tz, out, kind)
