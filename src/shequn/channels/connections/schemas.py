"""API models of channel connections: what may be shown, never a secret."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shequn.platform.schemas import Answer, Timestamp


class ChannelError(Answer):
    at: str = Field(description="When it happened (ISO 8601).")
    what: str = Field(description="What failed: check, sync, callback …")
    code: int | str | None = Field(description="The platform's error code, when it gave one.")
    message: str


class ConnectionOut(Answer):
    channel: str
    settings: dict[str, Any] = Field(
        description="What is not secret: corp id, agent id, API base …; secrets never appear."
    )
    connected_at: Timestamp
    updated_at: Timestamp
    reachable: bool | None = Field(
        description="Whether the last check reached the platform's API (null: not checked)."
    )
    last_check_at: Timestamp | None
    last_callback_at: Timestamp | None
    last_sync_at: Timestamp | None
    last_sync: dict[str, Any] | None = Field(description="What the last sync counted.")
    errors: list[ChannelError] = Field(description="Recent failures, newest last.")
