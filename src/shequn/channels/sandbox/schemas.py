"""API models of the sandbox channel: a posted message's outcome and a group's history."""

from __future__ import annotations

from pydantic import Field

from shequn.engine.schemas import ActionOut
from shequn.events import MessageKind
from shequn.platform.schemas import Answer, Timestamp


class PostedOut(Answer):
    accepted: int
    duplicates: int
    actions: list[ActionOut] = Field(description="The actions the message made the rules decide.")


class HistoryMessage(Answer):
    from_: str = Field(alias="from", description="The member, or `shequn` for what it sent.")
    message_id: str
    kind: MessageKind
    text: str | None
    at: Timestamp
    deleted: bool
    mentions: list[str] | None = Field(
        default=None, description="Members mentioned (messages Shequn sent only)."
    )
