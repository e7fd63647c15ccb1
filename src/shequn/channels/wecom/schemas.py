"""API models of the WeCom channel."""

from __future__ import annotations

from pydantic import Field

from shequn.channels.connections.schemas import ConnectionOut
from shequn.platform.schemas import Answer


class ConnectedOut(Answer):
    connection: ConnectionOut
    reachable: bool = Field(description="Whether WeCom's API answered with a token just now.")
    reason: str | None = Field(description="Why it did not, when it did not.")


class SyncOut(Answer):
    groups: int = Field(description="Customer groups WeCom listed.")
    members: int = Field(description="Members of those groups.")
    events: dict[str, int] = Field(description="Events the sync made, by type.")
    accepted: int = Field(description="Events new to the log.")
    duplicates: int = Field(description="Events the log had already.")
