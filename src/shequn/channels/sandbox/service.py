"""Sandbox operations: post as a member, read a group's history, feed channel effects back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, select

from shequn.channels.sandbox.models import sandbox_sent
from shequn.community.models import workspaces
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.ingest import IngestResult, ingest_batch
from shequn.engine.models import actions, events
from shequn.events import BatchRejected, parse_event
from shequn.platform.db import transaction


def feed_back(engine: Engine, workspace_id: int, raw: dict[str, Any]) -> None:
    """Ingest what the sandbox 'channel' reports back after carrying out an action."""
    from shequn.community.service import access_workspace

    with transaction(engine) as conn:
        slug = conn.execute(
            select(workspaces.c.slug).where(workspaces.c.id == workspace_id)
        ).scalar_one()
        ws = access_workspace(conn, slug)
        result = parse_event(raw, 0)
        if isinstance(result, list):
            raise BatchRejected(result, unit="item")
        ingest_batch(conn, ws, [result])


def do_post_message(
    conn: Connection,
    ws: WorkspaceInfo,
    group: str,
    member: str,
    text: str | None,
    kind: str = "text",
    extra: dict[str, Any] | None = None,
    *,
    at: datetime,
    message_id: str | None = None,
    latest: datetime | None = None,
) -> IngestResult:
    """Post into a sandbox group as a member at `at`; answers the actions decided on it.
    Raises SchedulerBehind when more work is due before `at` than one transaction may run
    (`engine.ingest.caught_up` catches up and posts again)."""
    message_id = message_id or f"sbx-{at.timestamp():.6f}-{member}"
    data: dict[str, Any] = {"message_id": message_id, "kind": kind, **(extra or {})}
    if text is not None:
        data["text"] = text
    raw = {
        "id": message_id,
        "type": "message.posted",
        "channel": "sandbox",
        "group": group,
        "member": member,
        "at": at.isoformat(),
        "data": data,
    }
    result = parse_event(raw, 0, latest)
    if isinstance(result, list):
        raise BatchRejected(result, unit="field")
    return ingest_batch(conn, ws, [result], bounded=True)


def group_history(
    conn: Connection, ws: WorkspaceInfo, group: str, limit: int = 200
) -> list[dict[str, Any]]:
    """Messages of a sandbox group, members' and Shequn's, oldest first, deletions marked."""
    ev = events
    posted = conn.execute(
        select(ev.c.ext_id, ev.c.member_ext, ev.c.at, ev.c.data)
        .where(
            and_(
                ev.c.workspace_id == ws.id,
                ev.c.channel == "sandbox",
                ev.c.group_ext == group,
                ev.c.type == "message.posted",
            )
        )
        .order_by(ev.c.seq.desc())
        .limit(limit)
    ).all()
    deleted = {
        (row[0] or {}).get("message_id")
        for row in conn.execute(
            select(actions.c.data).where(
                and_(
                    actions.c.workspace_id == ws.id,
                    actions.c.channel == "sandbox",
                    actions.c.group_ext == group,
                    actions.c.kind == "message.delete",
                    actions.c.status == "done",
                )
            )
        )
    }
    sent = conn.execute(
        select(
            sandbox_sent.c.action_id,
            sandbox_sent.c.text,
            sandbox_sent.c.mentions,
            sandbox_sent.c.at,
        )
        .where(and_(sandbox_sent.c.workspace_id == ws.id, sandbox_sent.c.group_ext == group))
        .order_by(sandbox_sent.c.at.desc())
        .limit(limit)
    ).all()
    history = [
        {
            "from": member,
            "message_id": data.get("message_id"),
            "kind": data.get("kind"),
            "text": data.get("text"),
            "at": at,
            "deleted": data.get("message_id") in deleted,
        }
        for _, member, at, data in posted
    ] + [
        {
            "from": "shequn",
            "message_id": action_id,
            "kind": "text",
            "text": text,
            "mentions": mentions,
            "at": at,
            "deleted": False,
        }
        for action_id, text, mentions, at in sent
    ]
    history.sort(key=lambda m: m["at"])
    return history[-limit:]
