"""Tables of workspaces, tokens and the community projections (groups, members, memberships).

Groups and members are keyed by the channel's own ids within a workspace, so the engine can
project a batch without first round-tripping for surrogate keys.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from shequn.platform.db import Id, UTCDateTime, metadata

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("config", JSON, nullable=False),
    Column("config_version", Integer, nullable=False, default=1),
    Column("created_at", UTCDateTime, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    # The token's first characters, to tell tokens apart in a list (null for older tokens).
    Column("hint", String(16)),
    Column("expires_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
)

# People who sign in to the console. One person may work in several workspaces, with a role
# in each (workspace_roles); a session is one signed-in browser.
users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("name", String(100)),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
)

workspace_roles = Table(
    "workspace_roles",
    metadata,
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("workspace_id", Id, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

user_sessions = Table(
    "user_sessions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

groups = Table(
    "groups",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("ext_id", String(128), nullable=False),
    Column("name", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("member_count", Integer, nullable=False),
    Column("blueprint", String(200)),
    Column("owner", String(128)),
    Column("notice", Text),
    Column("ends_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("dismissed_at", UTCDateTime),
    UniqueConstraint("workspace_id", "channel", "ext_id"),
)

members = Table(
    "members",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("ext_id", String(128), nullable=False),
    Column("nickname", String(200)),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("first_joined_at", UTCDateTime),
    # First touch: how the member first came to the workspace (attribution).
    Column("first_group", String(128)),
    Column("first_scene", String(16)),
    Column("first_code", String(128)),
    Column("first_state", String(200)),
    Column("first_inviter", String(128)),
    Column("groups_in", Integer, nullable=False),
    Column("message_count", Integer, nullable=False),
    Column("last_spoke_at", UTCDateTime),
    Column("blacklisted", Boolean, nullable=False),
    # What the member paid, net of refunds (fen): cleanup spares paying members.
    Column("orders", Integer, nullable=False, server_default="0"),
    Column("spent_fen", BigInteger, nullable=False, server_default="0"),
    UniqueConstraint("workspace_id", "channel", "ext_id"),
)

memberships = Table(
    "memberships",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("group_ext", String(128), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("nickname", String(200)),
    Column("active", Boolean, nullable=False),
    Column("joined_at", UTCDateTime),
    Column("join_scene", String(16)),
    Column("inviter", String(128)),
    Column("code", String(128)),
    Column("state", String(200)),
    Column("joins", Integer, nullable=False),
    Column("left_at", UTCDateTime),
    Column("left_reason", String(16)),
    Column("left_by", String(128)),
    Column("last_spoke_at", UTCDateTime),
    Column("message_count", Integer, nullable=False),
    UniqueConstraint("workspace_id", "channel", "group_ext", "member_ext"),
    Index("ix_memberships_member", "workspace_id", "channel", "member_ext"),
)
