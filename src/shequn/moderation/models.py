"""Tables of moderation: the violations log, the workspace ban list, staff's spam samples."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
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

violations = Table(
    "violations",
    metadata,
    # Derived from the causing event: a replay records the same violation once.
    Column("id", String(32), primary_key=True),
    Column("workspace_id", Id, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("group_ext", String(128), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("message_id", String(128)),
    Column("detector", String(32), nullable=False),
    Column("category", String(32), nullable=False),
    Column("findings", JSON, nullable=False),
    Column("text", Text),
    Column("mode", String(16), nullable=False),
    Column("offence", Integer, nullable=False),
    Column("actions", JSON, nullable=False),
    Column("caused_by", String(128), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("reverted_at", UTCDateTime),
    Column("reverted_by", String(128)),
    Index("ix_violations_member", "workspace_id", "channel", "member_ext", "at"),
)

banlist = Table(
    "banlist",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("member_ext", String(128), nullable=False),
    Column("reason", Text, nullable=False),
    Column("by", String(128)),
    Column("at", UTCDateTime, nullable=False),
    Column("lifted_at", UTCDateTime),
    UniqueConstraint("workspace_id", "channel", "member_ext"),
)

spam_samples = Table(
    "spam_samples",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(8), nullable=False),  # spam | clean
    Column("text", Text, nullable=False),
    Column("source", String(128)),
    Column("by", String(128)),
    Column("at", UTCDateTime, nullable=False),
)


member_reports = Table(
    "member_reports",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workspace_id", Id, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("group_ext", String(128), nullable=False),
    Column("message_id", String(128), nullable=False),
    Column("author", String(128), nullable=False),
    Column("reporter", String(128), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    UniqueConstraint("workspace_id", "channel", "group_ext", "message_id", "reporter"),
    Index("ix_member_reports_reporter", "workspace_id", "channel", "reporter", "at"),
)
