"""API models of the engine: ingest answers and actions."""

from __future__ import annotations

from pydantic import Field

from shequn.actions import ActionKind, ActionStatus
from shequn.platform.schemas import Answer, Json, Timestamp


class ActionOut(Answer):
    """A decided action, as the contract names it (`group`, `member` are the channel's ids)."""

    id: str
    kind: ActionKind
    channel: str
    group: str | None
    member: str | None
    data: dict[str, Json] = Field(description="What the kind needs: text, mentions, task …")
    rule: str
    reason: str
    caused_by: str | None = Field(description="The event that caused it.")
    status: ActionStatus
    decided_at: Timestamp
    attempts: int


class IngestAnswer(Answer):
    accepted: int
    duplicates: int = Field(description="Events already stored, sent again unchanged.")
    conflicts: list[str] = Field(
        default_factory=list,
        description="Ids already stored with other content: the first version is kept.",
    )
    skipped: int = 0
    errors: list[str] = Field(default_factory=list)
    actions: list[ActionOut] = Field(default_factory=list)


class QueuedAnswer(Answer):
    queued: int
