"""The connections' table: one row per workspace and chat platform."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text, UniqueConstraint

from shequn.platform.db import Id, UTCDateTime, metadata

channel_connections = Table(
    "channel_connections",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(32), nullable=False),
    # What may be shown: corp id, agent id, API base …
    Column("settings", JSON, nullable=False),
    # Tokens, AES keys and app secrets, sealed (keyring.py); never shown, never exported.
    Column("secrets", Text, nullable=False),
    Column("connected_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # The platform's access token, sealed, shared by every process of the install.
    Column("access_token", Text),
    Column("access_token_expires_at", UTCDateTime),
    Column("last_check_at", UTCDateTime),
    Column("last_check_ok", JSON),  # true, false, or null before the first check
    Column("last_callback_at", UTCDateTime),
    Column("last_sync_at", UTCDateTime),
    Column("last_sync", JSON),  # what the last sync counted
    # The last few failures: [{at, what, code, message}], newest last.
    Column("errors", JSON, nullable=False),
    UniqueConstraint("workspace_id", "channel", name="uq_channel_connections_ws_channel"),
)
