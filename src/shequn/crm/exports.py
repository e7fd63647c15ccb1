"""Exports of the CRM: the one member list (`members`: what the groups saw of each member,
with their profile, tags and custom fields), and every tag attached to a member
(`member_tags`). Phone numbers are masked (138****8000) unless the caller asks for them and
the workspace allows it (`crm.allow_phone_export`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, select

from shequn.community.models import members
from shequn.community.workspace import WorkspaceInfo
from shequn.crm.models import member_tags, profiles
from shequn.crm.schemas import PROFILE_FIELDS, mask_phone
from shequn.crm.segments import base_query
from shequn.crm.service import list_custom_fields
from shequn.crm.texts import say
from shequn.exports import SEEN_MEMBER_COLUMNS, iso, plain, register_export, stream
from shequn.platform.errors import Forbidden

_MEMBER_TABLE_COLUMNS = SEEN_MEMBER_COLUMNS[1:]  # nickname comes first, beside the member
MEMBER_COLUMNS = (
    "channel",
    "member",
    "nickname",
    *PROFILE_FIELDS,
    "tags",
    "custom",
    *_MEMBER_TABLE_COLUMNS,
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
        *(members.c[c] for c in _MEMBER_TABLE_COLUMNS),
    ).order_by(u.c.channel, u.c.member)
    for r in stream(conn, stmt):
        key = (r["channel"], r["member"])
        row: dict[str, Any] = {"channel": r["channel"], "member": r["member"]}
        row["nickname"] = r["nickname"]
        for f in PROFILE_FIELDS:
            row[f] = r[f]
        row["phone"] = r["phone"] if reveal_phones else mask_phone(r["phone"])
        row["pains"] = list(r["pains"] or [])
        row["tags"] = tagged.get(key, [])
        row["custom"] = dict(r["custom"] or {})
        row.update({c: plain(r[c]) for c in _MEMBER_TABLE_COLUMNS})
        # A member known only by a profile has not spoken, bought or been blacklisted.
        row["message_count"] = r["message_count"] or 0
        row["blacklisted"] = bool(r["blacklisted"])
        yield row


def check_reveal(ws: WorkspaceInfo, reveal_phones: bool) -> None:
    if reveal_phones and not ws.config.crm.allow_phone_export:
        raise PhoneExportRefused(say, "crm.phones_refused")


def _revealed(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    check_reveal(ws, True)  # before the first row: nothing is written when it refuses
    return member_rows(conn, ws, reveal_phones=True)


def _custom_headers(conn: Connection, ws: WorkspaceInfo) -> list[tuple[str, str]]:
    """The workspace's custom fields, headed by their labels (as the importer reads them)."""
    return [(f["key"], f["label"]) for f in list_custom_fields(conn, ws)]


@register_export("members", MEMBER_COLUMNS, revealed=_revealed, spread={"custom": _custom_headers})
def _members(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    yield from member_rows(conn, ws)


# Deprecated: the member export was two (`members`, `profiles`) until they became one.
register_export("profiles", MEMBER_COLUMNS, revealed=_revealed, spread={"custom": _custom_headers})(
    _members
)


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
