"""`channel sync wecom`: WeCom's customer groups as they are, reconciled with Shequn's.

What changed while Shequn was not listening becomes ordinary events, with ids derived from
what WeCom reports (a join from the member's join time, a leave from the group's member
version), so running the sync twice, or after the callbacks did arrive, adds nothing, and a
sync after missed callbacks leaves the same memberships as the callbacks would have.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from shequn.channels.wecom.client import WecomClient
from shequn.channels.wecom.inbound import API_JOIN_SCENES, CHANNEL, event_id, instant
from shequn.community.service import channel_groups, channel_members_now
from shequn.community.workspace import WorkspaceInfo
from shequn.engine.ingest import ingest_batch
from shequn.events import BatchRejected, Event, EventError, parse_event
from shequn.platform.db import lock_workspace, transaction


@dataclass(slots=True)
class SyncReport:
    groups: int = 0
    members: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    """Events made, by type."""
    accepted: int = 0
    duplicates: int = 0

    def public(self) -> dict[str, Any]:
        return {
            "groups": self.groups,
            "members": self.members,
            "events": dict(sorted(self.counts.items())),
            "accepted": self.accepted,
            "duplicates": self.duplicates,
        }


def _member_name(m: dict[str, Any]) -> str:
    return str(m.get("group_nickname") or m.get("name") or "")[:200]


def _chat_events(
    chat: dict[str, Any], known: dict[str, Any] | None, inside: dict[str, str], now: datetime
) -> list[dict[str, Any]]:
    """The events that bring Shequn's view of one group level with WeCom's."""
    chat_id = str(chat["chat_id"])
    version = str(chat.get("member_version", ""))
    name = str(chat.get("name") or "")[:200]
    notice = str(chat.get("notice") or "") or None
    owner = str(chat.get("owner") or "") or None
    out: list[dict[str, Any]] = []
    if known is None or known["status"] == "dismissed":
        created = str(chat.get("create_time", ""))
        data = {"name": name, **({"owner": owner} if owner else {})}
        out.append({"id": event_id("sync", "created", chat_id, created), "type": "group.created",
                    "group": chat_id, "at": instant(created, now), "data": data})  # fmt: skip
        if notice is not None:  # group.created has no notice: the update that follows does
            out.append({"id": event_id("sync", "noticed", chat_id, created, notice),
                        "type": "group.updated", "group": chat_id,
                        "at": instant(created, now), "data": {"notice": notice}})  # fmt: skip
    else:
        changed: dict[str, Any] = {}
        if name and name != known["name"]:
            changed["name"] = name
        if notice is not None and notice != (known["notice"] or None):
            changed["notice"] = notice
        if owner and owner != known["owner"]:
            changed["owner"] = owner
        if changed:
            key = (chat_id, name, notice or "", owner or "")
            out.append({"id": event_id("sync", "updated", *key), "type": "group.updated",
                        "group": chat_id, "at": now, "data": changed})  # fmt: skip
    present: set[str] = set()
    for m in sorted(
        chat.get("member_list", []), key=lambda m: (m.get("join_time", 0), m["userid"])
    ):
        member = str(m["userid"])
        present.add(member)
        nickname = _member_name(m)
        if member not in inside:
            joined = str(m.get("join_time", ""))
            data = {
                "nickname": nickname,
                "scene": API_JOIN_SCENES.get(m.get("join_scene"), "invite"),
            }
            inviter = (m.get("invitor") or {}).get("userid")
            if inviter:
                data["inviter"] = str(inviter)
            if m.get("state"):
                data["state"] = str(m["state"])[:200]
            out.append({"id": event_id("sync", "joined", chat_id, member, joined),
                        "type": "member.joined", "group": chat_id, "member": member,
                        "at": instant(joined, now), "data": data})  # fmt: skip
        elif nickname and nickname != inside[member]:
            out.append({"id": event_id("sync", "renamed", chat_id, member, nickname),
                        "type": "member.renamed", "group": chat_id, "member": member,
                        "at": now, "data": {"nickname": nickname}})  # fmt: skip
    for member in sorted(set(inside) - present):
        out.append({"id": event_id("sync", "left", chat_id, member, version),
                    "type": "member.left", "group": chat_id, "member": member,
                    "at": now, "data": {"reason": "left"}})  # fmt: skip
    return out


def _validated(raws: list[dict[str, Any]]) -> list[Event]:
    events: list[Event] = []
    errors: list[EventError] = []
    for index, raw in enumerate(raws):
        parsed = parse_event({"channel": CHANNEL, **raw}, index)
        if isinstance(parsed, Event):
            events.append(parsed)
        else:
            errors.extend(parsed)
    if errors:
        raise BatchRejected(errors, unit="item")
    return events


def fetch_chats(client: WecomClient) -> list[dict[str, Any]]:
    """Every customer group with its members, as WeCom has them now."""
    return [client.group_chat(chat_id) for chat_id in client.group_chat_ids()]


def plan_sync(
    conn: Connection, ws: WorkspaceInfo, chats: list[dict[str, Any]], *, now: datetime
) -> tuple[list[Event], SyncReport]:
    """The events that bring Shequn's groups and memberships level with `chats`."""
    known = channel_groups(conn, ws.id, CHANNEL)
    inside = channel_members_now(conn, ws.id, CHANNEL)
    report = SyncReport(groups=len(chats))
    raws: list[dict[str, Any]] = []
    seen: set[str] = set()
    for chat in chats:
        chat_id = str(chat["chat_id"])
        seen.add(chat_id)
        report.members += len(chat.get("member_list", []))
        raws.extend(_chat_events(chat, known.get(chat_id), inside.get(chat_id, {}), now))
    # A group WeCom no longer lists is gone (groupchat/list lists every live group).
    for chat_id, group in sorted(known.items()):
        if chat_id not in seen and group["status"] != "dismissed":
            raws.append({"id": event_id("sync", "dismissed", chat_id), "type": "group.dismissed",
                         "group": chat_id, "at": now})  # fmt: skip
    events = _validated(raws)
    for ev in events:
        report.counts[ev.type] = report.counts.get(ev.type, 0) + 1
    return events, report


def do_sync(engine: Engine, ws: WorkspaceInfo, client: WecomClient, *, now: datetime) -> SyncReport:
    """Fetch (no lock held while WeCom answers), then compare and ingest in one transaction
    with the workspace locked, so a callback ingested meanwhile is seen and not repeated."""
    chats = fetch_chats(client)
    with transaction(engine) as conn:
        lock_workspace(conn, ws.id)
        events, report = plan_sync(conn, ws, chats, now=now)
        if events:
            result = ingest_batch(conn, ws, events)
            report.accepted, report.duplicates = result.accepted, result.duplicates
    return report
