"""Plain event factories for tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

from shequn.events import Event, parse_event

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=SHANGHAI)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=SHANGHAI)
"""The suite's "now": every test runs with its clock frozen here (SHEQUN_NOW, set in
conftest), after the fixed event dates the tests use, so no test depends on the day it runs."""
_ids = count(1)


def raw_event(
    type_: str,
    group: str | None = "g-1",
    member: str | None = None,
    at: datetime | None = None,
    id_: str | None = None,
    channel: str = "sandbox",
    **data: Any,
) -> dict[str, Any]:
    return {
        "id": id_ or f"e-{next(_ids)}",
        "type": type_,
        "channel": channel,
        "group": group,
        "member": member,
        "at": (at or T0).isoformat(),
        "data": data,
    }


def event(*args: Any, **kwargs: Any) -> Event:
    parsed = parse_event(raw_event(*args, **kwargs), 0)
    assert isinstance(parsed, Event), parsed
    return parsed


def joined(member: str, group: str = "g-1", at: datetime | None = None, **kw: Any) -> Event:
    kw.setdefault("nickname", f"nick-{member}")
    kw.setdefault("scene", "qr")
    return event("member.joined", group, member, at, **kw)


def posted(
    member: str, text: str, group: str = "g-1", at: datetime | None = None, **kw: Any
) -> Event:
    kw.setdefault("message_id", f"m-{next(_ids)}")
    kw.setdefault("kind", "text")
    return event("message.posted", group, member, at, text=text, **kw)


def left(
    member: str, group: str = "g-1", at: datetime | None = None, reason: str = "left"
) -> Event:
    return event("member.left", group, member, at, reason=reason)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
