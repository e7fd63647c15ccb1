"""Exports of the CRM: members with their profiles and tags (`profiles`), and every tag
attached to a member (`member_tags`). Phone numbers are masked (138****8000) unless the
caller asks for them and the workspace allows it (`crm.allow_phone_export`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import IO, Any

import orjson
from sqlalchemy import Connection, select

from shequn.community.models import members
from shequn.community.workspace import WorkspaceInfo
from shequn.crm.models import member_tags, profiles
from shequn.crm.schemas import PROFILE_FIELDS, mask_phone
from shequn.crm.segments import base_query
from shequn.crm.texts import say
from shequn.exports import iso, register_export, stream
from shequn.platform.errors import BadRequest, Forbidden

MEMBER_COLUMNS = (
    "channel",
    "member",
    "nickname",
    *PROFILE_FIELDS,
    "tags",
    "custom",
    "first_joined_at",
    "first_group",
    "first_state",
    "first_inviter",
    "message_count",
    "last_spoke_at",
    "blacklisted",
)


class PhoneExportRefused(Forbidden):
    """Full phone numbers were asked for and the workspace does not allow it."""


def member_rows(
    conn: Connection, ws: WorkspaceInfo, reveal_phones: bool = False
) -> Iterator[dict[str, Any]]:
    """Every member (seen in a group or known by a profile), in a stable order."""
    tagged: dict[tuple[str, str], list[str]] = {}
    mt = member_tags
    for ch, mem, tag in conn.execute(
        select(mt.c.channel, mt.c.member_ext, mt.c.tag)
        .where(mt.c.workspace_id == ws.id)
        .order_by(mt.c.tag)
    ):
        tagged.setdefault((ch, mem), []).append(tag)
    query, u = base_query(ws.id)
    stmt = query.add_columns(
        u.c.channel,
        u.c.member,
        members.c.nickname,
        *(profiles.c[f] for f in PROFILE_FIELDS),
        profiles.c.custom,
        members.c.first_joined_at,
        members.c.first_group,
        members.c.first_state,
        members.c.first_inviter,
        members.c.message_count,
        members.c.last_spoke_at,
        members.c.blacklisted,
    ).order_by(u.c.channel, u.c.member)
    for r in stream(conn, stmt):
        row: dict[str, Any] = {"channel": r["channel"], "member": r["member"]}
        row["nickname"] = r["nickname"]
        for f in PROFILE_FIELDS:
            row[f] = r[f]
        row["phone"] = r["phone"] if reveal_phones else mask_phone(r["phone"])
        row["pains"] = list(r["pains"] or [])
        row["tags"] = tagged.get((r["channel"], r["member"]), [])
        row["custom"] = dict(r["custom"] or {})
        row["first_joined_at"] = iso(r["first_joined_at"])
        row["first_group"] = r["first_group"]
        row["first_state"] = r["first_state"]
        row["first_inviter"] = r["first_inviter"]
        row["message_count"] = r["message_count"] or 0
        row["last_spoke_at"] = iso(r["last_spoke_at"])
        row["blacklisted"] = bool(r["blacklisted"])
        yield row


@register_export("profiles", MEMBER_COLUMNS)
def _profiles(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    yield from member_rows(conn, ws)


@register_export("member_tags", ("channel", "member", "tag", "source", "caused_by", "at"))
def _member_tags(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    t = member_tags
    stmt = select(t).where(t.c.workspace_id == ws.id).order_by(t.c.channel, t.c.member_ext, t.c.tag)
    for r in stream(conn, stmt):
        yield {
            "channel": r["channel"],
            "member": r["member_ext"],
            "tag": r["tag"],
            "source": r["source"],
            "caused_by": r["caused_by"],
            "at": iso(r["at"]),
        }


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return orjson.dumps(value).decode() if value else ""
    return value


def check_reveal(ws: WorkspaceInfo, reveal_phones: bool) -> None:
    if reveal_phones and not ws.config.crm.allow_phone_export:
        raise PhoneExportRefused(say, "crm.phones_refused")


def write_members(
    conn: Connection,
    ws: WorkspaceInfo,
    fmt: str,
    out: IO[bytes],
    reveal_phones: bool = False,
) -> int:
    """Members as csv, xlsx or jsonl; phones masked unless asked for and allowed."""
    check_reveal(ws, reveal_phones)
    if fmt not in ("csv", "xlsx", "jsonl"):
        raise BadRequest(say, "crm.unknown_format", format=fmt)
    rows = member_rows(conn, ws, reveal_phones)
    count = 0
    if fmt == "jsonl":
        for row in rows:
            out.write(orjson.dumps(row) + b"\n")
            count += 1
    elif fmt == "csv":
        text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
        writer = csv.writer(text)
        writer.writerow(MEMBER_COLUMNS)
        for row in rows:
            writer.writerow([_cell(row[c]) for c in MEMBER_COLUMNS])
            count += 1
        text.detach()
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("members")
        sheet.append(list(MEMBER_COLUMNS))
        for row in rows:
            sheet.append([_cell(row[c]) for c in MEMBER_COLUMNS])
            count += 1
        book.save(out)
    return count
