"""The action vocabulary: what rules decide and the outbox carries out."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ActionKind(StrEnum):
    MESSAGE_SEND = "message.send"
    MESSAGE_DELETE = "message.delete"
    MEMBER_WARN = "member.warn"
    MEMBER_MUTE = "member.mute"
    MEMBER_REMOVE = "member.remove"
    MEMBER_BLACKLIST = "member.blacklist"
    STAFF_TASK = "staff.task"


class ActionStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"  # the dead state: attempts exhausted or a permanent error
    STAFF_TASK = "staff_task"


@dataclass(frozen=True, slots=True)
class Decision:
    """One action a rule decided, before it becomes an outbox row.

    `key` makes the decision idempotent: the same key in the same workspace is one action.
    When a rule gives none, the engine derives it from the rule, the kind, the cause and the
    member.
    """

    kind: ActionKind
    reason: str
    group: str | None = None
    member: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    key: str | None = None
    channel: str | None = None  # default: the channel of the cause
