"""What the sandbox channel itself keeps: messages Shequn sent into its groups."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text

from shequn.platform.db import Id, UTCDateTime, metadata

sandbox_sent = Table(
    "sandbox_sent",
    metadata,
    # The action that sent it: executing the same action twice sends one message.
    Column("action_id", String(32), primary_key=True),
    Column("workspace_id", Id, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("group_ext", String(128), nullable=False),
    Column("text", Text, nullable=False),
    Column("mentions", JSON, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_sandbox_sent_group", "workspace_id", "group_ext"),
)
