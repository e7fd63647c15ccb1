"""WeCom's callback events as Shequn's events.

WeCom events carry no message id, so each event's id is a digest of what identifies it:
the event, chat or contact, change, member, member versions and creation time. A redelivery
gives the same ids (one event); two distinct changes give different ones.

| WeCom | Shequn |
|---|---|
| change_external_chat create | group.created |
| change_external_chat update add_member | member.joined, one per MemChangeList item |
| change_external_chat update del_member | member.left (QuitScene 1: removed) |
| change_external_chat update change_name / change_notice / change_owner | group.updated |
| change_external_chat dismiss | group.dismissed |
| change_external_contact add_external_contact, add_half_external_contact | contact.added |
| change_external_contact del_external_contact | contact.removed by staff |
| change_external_contact del_follow_user | contact.removed by customer |

Name, notice and owner are not in the callback: `channel sync` fetches them (group.updated).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from shequn.events import Event, parse_event

CHANNEL = "wecom"

# Callback JoinScene: 0 invited directly, 1 through an invitation link, 3 scanned the QR.
CALLBACK_JOIN_SCENES = {"0": "invite", "1": "link", "3": "qr"}
# groupchat/get join_scene: 1 invited directly, 2 link, 3 QR.
API_JOIN_SCENES = {1: "invite", 2: "link", 3: "qr"}


class MalformedXml(Exception):
    pass


def parse_xml(body: bytes) -> Element:
    """An XML document from outside, parsed with entity and DTD attacks refused."""
    try:
        root = ElementTree.fromstring(body, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        raise MalformedXml(str(exc)) from exc
    if root.tag != "xml":
        raise MalformedXml(f"root element is <{root.tag}>, not <xml>")
    return root


def fields_of(root: Element) -> dict[str, str]:
    """The document's leaf elements as text (<Item> lists are read apart)."""
    return {child.tag: (child.text or "").strip() for child in root if len(child) == 0}


def event_id(*parts: str) -> str:
    """A content-derived event id: `wecom-` and a digest of the identifying parts."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()
    return f"wecom-{digest}"


def instant(epoch: str | int | None, fallback: datetime) -> datetime:
    """A WeCom time (seconds since the epoch), or `fallback` when it has none."""
    if epoch is None or epoch == "":
        return fallback
    try:
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return fallback


@dataclass(slots=True)
class Mapped:
    events: list[Event] = field(default_factory=list)
    ignored: str | None = None
    """Why nothing came of the callback, when nothing did (an event Shequn does not use)."""
    invalid: list[str] = field(default_factory=list)


def _event(raw: dict[str, Any], out: Mapped) -> None:
    parsed = parse_event({"channel": CHANNEL, **raw}, 0)
    if isinstance(parsed, Event):
        out.events.append(parsed)
    else:
        out.invalid.extend(str(e) for e in parsed)


def map_callback(message: bytes, received_at: datetime) -> Mapped:
    """The events of one decrypted callback message."""
    root = parse_xml(message)
    f = fields_of(root)
    out = Mapped()
    if f.get("MsgType") != "event":
        out.ignored = f"message type {f.get('MsgType')!r}"
        return out
    at = instant(f.get("CreateTime"), received_at)
    kind = f.get("Event", "")
    if kind == "change_external_chat":
        _chat_event(root, f, at, out)
    elif kind == "change_external_contact":
        _contact_event(f, at, out)
    else:
        out.ignored = f"event {kind!r}"
    return out


def _chat_event(root: Element, f: dict[str, str], at: datetime, out: Mapped) -> None:
    chat = f.get("ChatId", "")
    change = f.get("ChangeType", "")
    detail = f.get("UpdateDetail", "")
    key = (
        "change_external_chat",
        chat,
        change,
        detail,
        f.get("LastMemVer", ""),
        f.get("CurMemVer", ""),
        f.get("CreateTime", ""),
    )
    if not chat:
        out.ignored = "no ChatId"
        return
    if change == "create":
        _event({"id": event_id(*key), "type": "group.created", "group": chat, "at": at,
                "data": {"name": ""}}, out)  # fmt: skip
    elif change == "dismiss":
        _event({"id": event_id(*key), "type": "group.dismissed", "group": chat, "at": at}, out)
    elif change == "update" and detail in ("add_member", "del_member"):
        changed = root.find("MemChangeList")
        members = [] if changed is None else [(i.text or "").strip() for i in changed]
        if not members:
            # Older callbacks name no member: only the member list tells (channel sync).
            out.ignored = f"{detail} without MemChangeList"
            return
        for member in filter(None, members):
            if detail == "add_member":
                scene = CALLBACK_JOIN_SCENES.get(f.get("JoinScene", ""), "invite")
                data: dict[str, Any] = {"nickname": "", "scene": scene}
                type_ = "member.joined"
            else:
                data = {"reason": "removed" if f.get("QuitScene") == "1" else "left"}
                type_ = "member.left"
            _event({"id": event_id(*key, member), "type": type_, "group": chat,
                    "member": member, "at": at, "data": data}, out)  # fmt: skip
    elif change == "update" and detail in ("change_name", "change_notice", "change_owner"):
        _event({"id": event_id(*key), "type": "group.updated", "group": chat, "at": at}, out)
    else:
        out.ignored = f"change {change!r} {detail!r}"


def _contact_event(f: dict[str, str], at: datetime, out: Mapped) -> None:
    change = f.get("ChangeType", "")
    staff, customer = f.get("UserID", ""), f.get("ExternalUserID", "")
    key = ("change_external_contact", change, staff, customer, f.get("CreateTime", ""),
           f.get("State", ""), f.get("WelcomeCode", ""))  # fmt: skip
    if not staff or not customer:
        out.ignored = f"{change!r} without UserID or ExternalUserID"
        return
    if change in ("add_external_contact", "add_half_external_contact"):
        data: dict[str, Any] = {"staff": staff}
        if f.get("State"):
            data["state"] = f["State"]
        if f.get("WelcomeCode"):
            data["welcome_code"] = f["WelcomeCode"]
        type_ = "contact.added"
    elif change in ("del_external_contact", "del_follow_user"):
        data = {"staff": staff, "by": "staff" if change == "del_external_contact" else "customer"}
        type_ = "contact.removed"
    else:
        out.ignored = f"contact change {change!r}"
        return
    _event({"id": event_id(*key), "type": type_, "member": customer, "at": at, "data": data}, out)
