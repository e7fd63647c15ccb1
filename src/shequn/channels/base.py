"""The one interface every channel adapter implements, and the registry of adapters.

Adding a channel:
1. a folder `channels/<name>/` with `adapter.py` subclassing `ChannelAdapter`;
2. declare `capabilities` honestly: an action the channel cannot do becomes a staff task;
3. raise `TemporaryError` when a retry can help and `PermanentError` when it cannot;
4. name it in its package's descriptor (`domain.py`, `Domain.channels`), list that in
   `shequn.domains`, and add tests against a local fake of its server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import Engine

from shequn.actions import ActionKind
from shequn.platform.domain import targets


class Capability(StrEnum):
    SEND = "send"
    DELETE = "delete"
    MUTE = "mute"
    REMOVE = "remove"
    BAN = "ban"


NEEDS: dict[ActionKind, Capability | None] = {
    ActionKind.MESSAGE_SEND: Capability.SEND,
    ActionKind.MESSAGE_DELETE: Capability.DELETE,
    ActionKind.MEMBER_WARN: Capability.SEND,
    ActionKind.MEMBER_MUTE: Capability.MUTE,
    ActionKind.MEMBER_REMOVE: Capability.REMOVE,
    ActionKind.MEMBER_BLACKLIST: Capability.BAN,
    ActionKind.STAFF_TASK: None,  # always for people
}


class ChannelError(Exception):
    retry: ClassVar[bool] = False


class TemporaryError(ChannelError):
    """The channel may succeed later (timeout, rate limit, 5xx)."""

    retry = True


class PermanentError(ChannelError):
    """Retrying cannot help (unknown group, forbidden, malformed)."""


@dataclass(frozen=True, slots=True)
class OutboundAction:
    """An outbox row as an adapter sees it."""

    id: str
    workspace_id: int
    kind: ActionKind
    channel: str
    group: str | None
    member: str | None
    data: dict[str, Any]
    reason: str
    decided_at: datetime


class ChannelAdapter:
    name: ClassVar[str] = "manual"
    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    def can(self, kind: ActionKind) -> bool:
        need = NEEDS[kind]
        return need is not None and need in self.capabilities

    def execute(self, action: OutboundAction, engine: Engine) -> None:
        """Carry out the action on the channel; raise a ChannelError on failure."""
        raise PermanentError(f"channel {self.name} cannot carry out {action.kind}")


class ManualChannel(ChannelAdapter):
    """A channel Shequn only hears from: every action becomes a task for staff."""


_ADAPTERS: dict[str, ChannelAdapter] = {}
_MANUAL = ManualChannel()


def adapter_for(channel: str) -> ChannelAdapter:
    """The adapter of a channel; a channel without one is handled by staff."""
    if not _ADAPTERS:
        for cls in targets("channels"):  # the domains' adapters (`Domain.channels`)
            adapter = cls()
            _ADAPTERS[adapter.name] = adapter
    return _ADAPTERS.get(channel, _MANUAL)
