"""Exports: each kind is a stable-ordered row query; writers turn rows into jsonl, csv or xlsx.

Rows name groups and members by the channel's own ids (`group`, `member`). Later domains add
their kinds with `register_export`.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import IO, Any

import orjson
from sqlalchemy import Connection, select

from shequn.community.models import groups, members, memberships
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.models import actions, events
from shequn.engine.outbox import public_action
from shequn.i18n import t
from shequn.platform import domain
from shequn.platform.errors import BadRequest, NotFound

Rows = Callable[[Connection, WorkspaceInfo], Iterator[dict[str, Any]]]
FORMATS = ("jsonl", "csv", "xlsx")


@dataclass(frozen=True, slots=True)
class ExportKind:
    name: str
    columns: tuple[str, ...]
    rows: Rows


EXPORTS: dict[str, ExportKind] = {}


def register_export(name: str, columns: tuple[str, ...]) -> Callable[[Rows], Rows]:
    def register(fn: Rows) -> Rows:
        EXPORTS[name] = ExportKind(name, columns, fn)
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


_MEMBER_COLS = (
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


@register_export("members", ("channel", "member", *_MEMBER_COLS))
def _members(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    t = members
    stmt = select(t).where(t.c.workspace_id == ws.id).order_by(t.c.channel, t.c.ext_id)
    for r in stream(conn, stmt):
        row = {"channel": r["channel"], "member": r["ext_id"]}
        row.update({c: _plain(r[c]) for c in _MEMBER_COLS})
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
        row.update({c: _plain(r[c]) for c in _MEMBERSHIP_COLS})
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
        row.update({c: _plain(r[c]) for c in _GROUP_COLS})
        yield row


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    return value


_FORMULA_START = ("=", "+", "-", "@")


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return value


def _csv_cell(value: Any) -> Any:
    """A member's text never becomes a spreadsheet formula when the CSV is opened."""
    value = _cell(value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    """Text stays text (never a formula), without the control characters xlsx forbids."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    value = _cell(value)
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"
    return cell


def load_export_modules() -> None:
    """Import the installed domains' exports modules (`Domain.exports`): they register their
    kinds."""
    domain.load("exports")


def check_export(kind: str, fmt: str) -> ExportKind:
    load_export_modules()
    if kind not in EXPORTS:
        raise NotFound(t, "exports.unknown_kind", kind=kind, kinds=", ".join(sorted(EXPORTS)))
    if fmt not in FORMATS:
        raise BadRequest(t, "exports.unknown_format", format=fmt, formats=", ".join(FORMATS))
    return EXPORTS[kind]


def write_export(conn: Connection, ws: WorkspaceInfo, kind: str, fmt: str, out: IO[bytes]) -> int:
    """Write an export to a binary stream; returns the number of rows."""
    export = check_export(kind, fmt)
    rows = export.rows(conn, ws)
    count = 0
    if fmt == "jsonl":
        for row in rows:
            out.write(orjson.dumps(row) + b"\n")
            count += 1
    elif fmt == "csv":
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        writer = csv.DictWriter(text, fieldnames=list(export.columns))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_cell(v) for k, v in row.items()})
            count += 1
        text.detach()
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(kind)
        sheet.append(list(export.columns))
        for row in rows:
            sheet.append([_xlsx_cell(sheet, row.get(c)) for c in export.columns])
            count += 1
        book.save(out)
    return count
