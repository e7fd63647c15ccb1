"""Exports of moderation: the violations log (with evidence) and the ban list."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, select

from shequn.community.workspace import WorkspaceInfo
from shequn.exports import iso, register_export, stream
from shequn.moderation.models import banlist, violations


@register_export(
    "violations",
    ("id", "channel", "group", "member", "message_id", "detector", "category", "findings",
     "text", "mode", "offence", "actions", "caused_by", "at", "reverted_at", "reverted_by"),
)  # fmt: skip
def _violations(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    t = violations
    stmt = select(t).where(t.c.workspace_id == ws.id).order_by(t.c.at, t.c.id)
    for r in stream(conn, stmt):
        yield {
            "id": r["id"],
            "channel": r["channel"],
            "group": r["group_ext"],
            "member": r["member_ext"],
            "message_id": r["message_id"],
            "detector": r["detector"],
            "category": r["category"],
            "findings": r["findings"],
            "text": r["text"],
            "mode": r["mode"],
            "offence": r["offence"],
            "actions": r["actions"],
            "caused_by": r["caused_by"],
            "at": iso(r["at"]),
            "reverted_at": iso(r["reverted_at"]),
            "reverted_by": r["reverted_by"],
        }


@register_export("banlist", ("channel", "member", "reason", "by", "at", "lifted_at"))
def _banlist(conn: Connection, ws: WorkspaceInfo) -> Iterator[dict[str, Any]]:
    t = banlist
    stmt = select(t).where(t.c.workspace_id == ws.id).order_by(t.c.channel, t.c.member_ext)
    for r in stream(conn, stmt):
        yield {
            "channel": r["channel"],
            "member": r["member_ext"],
            "reason": r["reason"],
            "by": r["by"],
            "at": iso(r["at"]),
            "lifted_at": iso(r["lifted_at"]),
        }
